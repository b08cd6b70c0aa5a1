// Test helper: a redis-server of the file's own and the REST bridge in front of it, for the whole file.
import { afterAll, beforeAll } from 'vitest';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { startTestRedis, type RedisProcess } from './redis.js';

/** Starts both before the file's tests and stops them after; `url` is the bridge's base URL. */
export function useBridge(token: string): { readonly url: string } {
  let redisProcess: RedisProcess | undefined;
  let bridge: RunningBridge | undefined;
  beforeAll(async () => {
    redisProcess = await startTestRedis();
    bridge = await startBridge({ redisUrl: redisProcess.url, token, port: 0 });
  });
  afterAll(async () => {
    await bridge?.close();
    await redisProcess?.stop();
  });
  return {
    get url() {
      if (!bridge) throw new Error('the bridge is not started yet (use it inside a test or hook)');
      return bridge.url;
    },
  };
}

// Every Lua script the functions send by EVALSHA: the SHA-1 we compute from its text is the one Redis computes, so
// EVALSHA finds a loaded script instead of paying a NOSCRIPT round trip and a full EVAL on every call.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULER_SCRIPTS } from '../../lib/scheduler/lua/index.js';
import { PREFERENCE_SCRIPTS } from '../../lib/store/preferences.js';
import { WORKER_SCRIPTS } from '../../lib/worker/lua/index.js';
import { startTestRedis, type RedisProcess } from '../helpers/redis.js';

let redisProcess: RedisProcess;
let redis: Redis;

beforeAll(async () => {
  redisProcess = await startTestRedis();
  redis = new Redis(redisProcess.url);
});

afterAll(async () => {
  redis?.disconnect();
  await redisProcess?.stop();
});

describe('Lua scripts', () => {
  it.each([
    ['scheduler', SCHEDULER_SCRIPTS],
    ['worker', WORKER_SCRIPTS],
    ['preferences', PREFERENCE_SCRIPTS],
  ] as const)(
    '%s: each script hashes as Redis hashes it, and its names are unique',
    async (_set, scripts) => {
      expect(scripts.length).toBeGreaterThan(0);
      expect(new Set(scripts.map((s) => s.name)).size).toBe(scripts.length);
      for (const script of scripts) {
        expect(await redis.script('LOAD', script.text), script.name).toBe(script.sha1);
      }
    },
  );
});

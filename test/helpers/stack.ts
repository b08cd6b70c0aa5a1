// Test helper: the whole local stack in-process (own redis-server, bridge, broker, demo target, functions over HTTP).
import { Client as QStashClient } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { startBroker, type RunningBroker } from '../../scripts/broker/server.js';
import { startLambdaHttp, type RunningLambdaHttp } from './lambda-http.js';
import { startTarget, type RunningTarget, type TargetOptions } from '../../scripts/target/server.js';
import { resetRuntime } from '../../lib/runtime.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from './redis.js';

export const TEST_KEYS = {
  redisToken: 'test-redis-token',
  qstashToken: 'test-qstash-token',
  currentSigningKey: 'sig_test_current',
  nextSigningKey: 'sig_test_next',
  adminKey: 'test-admin-key-0123456789',
} as const;

export interface TestStack {
  redisProcess: RedisProcess;
  bridge: RunningBridge;
  broker: RunningBroker;
  target: RunningTarget;
  api: RunningLambdaHttp;
  /** Real @upstash/redis client against the bridge, no retries. */
  redis: Redis;
  qstash: QStashClient;
  prefix: string;
  /** fetch against the functions with the admin key. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface StackOptions {
  target?: TargetOptions;
  env?: Record<string, string>;
  brokerRetryBaseMs?: number;
}

export async function startStack(opts: StackOptions = {}): Promise<TestStack> {
  const redisProcess = await startTestRedis();
  const bridge = await startBridge({ redisUrl: redisProcess.url, token: TEST_KEYS.redisToken, port: 0 });
  const broker = await startBroker({
    redisUrl: redisProcess.url,
    token: TEST_KEYS.qstashToken,
    currentSigningKey: TEST_KEYS.currentSigningKey,
    nextSigningKey: TEST_KEYS.nextSigningKey,
    port: 0,
    retryBaseMs: opts.brokerRetryBaseMs ?? 50,
    pollIntervalMs: 20,
  });
  const target = await startTarget(opts.target);
  const prefix = uniquePrefix('stagger');
  // The API's own port must be known before its env is set: QStash delivers to STAGGER_PUBLIC_URL.
  const api = await startLambdaHttp({ port: 0 });
  Object.assign(process.env, {
    STAGE: 'local',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent',
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: TEST_KEYS.redisToken,
    QSTASH_URL: broker.url,
    QSTASH_TOKEN: TEST_KEYS.qstashToken,
    QSTASH_CURRENT_SIGNING_KEY: TEST_KEYS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: TEST_KEYS.nextSigningKey,
    STAGGER_ADMIN_API_KEYS: TEST_KEYS.adminKey,
    STAGGER_PUBLIC_URL: api.url,
    STAGGER_KEY_PREFIX: prefix,
    STAGGER_TARGET_BASE_URL: target.url,
    ...opts.env,
  });
  resetRuntime();
  const redis = new Redis({ url: bridge.url, token: TEST_KEYS.redisToken, retry: false });
  const qstash = new QStashClient({ baseUrl: broker.url, token: TEST_KEYS.qstashToken });
  return {
    redisProcess,
    bridge,
    broker,
    target,
    api,
    redis,
    qstash,
    prefix,
    admin: (path, init = {}) =>
      fetch(`${api.url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${TEST_KEYS.adminKey}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    async stop() {
      await api.close();
      await target.close();
      await broker.close();
      await bridge.close();
      await redisProcess.stop();
      resetRuntime();
    },
  };
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined, or fails after
 * `timeoutMs`. Polls of a stack's admin API pass an interval that stays under its read limit.
 */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

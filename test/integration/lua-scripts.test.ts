// Every Lua script, lib's and the broker's: the SHA-1 pinned in its checked-in scripts.generated.ts is what a real
// redis-server's SCRIPT LOAD answers for its text, so EVALSHA finds a loaded script instead of paying a NOSCRIPT round
// trip and a full EVAL on every call. The pins are written by `npm run assets`; test/unit/assets checks they are current.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULER_SCRIPTS } from '../../lib/scheduler/lua/scripts.generated.js';
import { STORE_SCRIPTS } from '../../lib/store/lua/scripts.generated.js';
import { WORKER_SCRIPTS } from '../../lib/worker/lua/scripts.generated.js';
import { BROKER_SCRIPTS } from '../../scripts/broker/lua/scripts.generated.js';
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
    ['store', STORE_SCRIPTS],
    ['broker', BROKER_SCRIPTS],
  ] as const)(
    '%s: each pinned SHA-1 is the one Redis computes, and its names are unique',
    async (_set, scripts) => {
      expect(scripts.length).toBeGreaterThan(0);
      expect(new Set(scripts.map((s) => s.name)).size).toBe(scripts.length);
      for (const script of scripts) {
        expect(script.sha1, script.name).toMatch(/^[0-9a-f]{40}$/);
        expect(await redis.script('LOAD', script.text), script.name).toBe(script.sha1);
      }
    },
  );
});

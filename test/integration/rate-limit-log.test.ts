// The worker's sliding-log limiter (inside startJob) against a reference model, and why @upstash/ratelimit's
// algorithms are not used: each lets more than `limit` through some sliding window.
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { keysFor } from '../../lib/store/keys.js';
import { CONFIG_DEFAULTS } from '../../lib/config.js';
import { JobStore } from '../../lib/worker/job-store.js';
import type { LimitSpec } from '../../lib/worker/limits.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';
import { jobMessage } from '../helpers/worker-fixtures.js';

const TOKEN = 'rate-limit-log-test-token';
let redisProcess: RedisProcess;
let bridge: RunningBridge;
let redis: Redis;

beforeAll(async () => {
  redisProcess = await startTestRedis();
  bridge = await startBridge({ redisUrl: redisProcess.url, token: TOKEN, port: 0 });
  redis = new Redis({ url: bridge.url, token: TOKEN, retry: false });
});

afterAll(async () => {
  await bridge?.close();
  await redisProcess?.stop();
});

async function storeWithUser(prefix: string) {
  const keys = keysFor(prefix);
  await redis.hset(keys.user('u'), { enabled: '1', zone: 'UTC' });
  await redis.hset(keys.userTasks('u'), { t: '{}' });
  return new JobStore(redis, keys);
}

const T0 = 1_800_000_000_000;

describe('sliding-log limiter', () => {
  it('admits exactly what a reference sliding log admits, and hands denied jobs the next deferral slot', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 50, max: 1000 }),
        // Arrival offsets, possibly out of order (workers read their clocks before the script runs).
        fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 40 }),
        async (limit, windowMs, offsets) => {
          const store = await storeWithUser(uniquePrefix('rl'));
          const spec: LimitSpec = { name: 'x', limit, windowMs };
          const span = windowMs + CONFIG_DEFAULTS.limitGuardMs;
          const admitted: number[] = [];
          let horizon = 0;
          for (const [i, off] of offsets.entries()) {
            const now = T0 + off;
            const r = await store.start({
              message: jobMessage('t', 'u', `p${i}`),
              now,
              leaseMs: 1000,
              limits: [spec],
              retried: 0,
            });
            // Reference: admission times never go back (a late script counts as now), T0 is ahead of the server clock.
            const at = Math.max(now, ...admitted);
            const live = admitted.filter((a) => a > at - span).sort((a, b) => a - b);
            if (live.length < limit) {
              expect(r).toMatchObject({ kind: 'claimed', admittedAt: at });
              admitted.push(at);
            } else {
              const retryAt = Math.max(live[live.length - limit]! + span, horizon);
              horizon = Math.ceil(retryAt + span / limit);
              expect(r).toMatchObject({ kind: 'denied', limit: 'x', retryAt });
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never holds more than the limit in any window when arrivals come in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 10, maxLength: 80 }),
        async (gaps) => {
          const store = await storeWithUser(uniquePrefix('rl'));
          const spec: LimitSpec = { name: 'x', limit: 3, windowMs: 100 };
          let now = T0;
          const admitted: number[] = [];
          for (const [i, gap] of gaps.entries()) {
            now += gap;
            const r = await store.start({
              message: jobMessage('t', 'u', `p${i}`),
              now,
              leaseMs: 1000,
              limits: [spec],
              retried: 0,
            });
            if (r.kind === 'claimed') admitted.push(now);
          }
          for (const a of admitted)
            expect(admitted.filter((b) => b >= a && b < a + 100).length).toBeLessThanOrEqual(3);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('consumes nothing from any limit when one of them refuses', async () => {
    const store = await storeWithUser(uniquePrefix('rl'));
    const wide: LimitSpec = { name: 'wide', limit: 10, windowMs: 1000 };
    const narrow: LimitSpec = { name: 'narrow', limit: 1, windowMs: 1000 };
    const start = (i: number, limits: LimitSpec[]) =>
      store.start({ message: jobMessage('t', 'u', `q${i}`), now: T0 + i, leaseMs: 1000, limits, retried: 0 });
    expect((await start(0, [wide, narrow])).kind).toBe('claimed');
    for (let i = 1; i <= 20; i++)
      expect(await start(i, [wide, narrow])).toMatchObject({ kind: 'denied', limit: 'narrow' });
    // The 20 refusals took nothing from `wide`: 9 more fit.
    for (let i = 21; i < 30; i++) expect((await start(i, [wide])).kind).toBe('claimed');
    expect(await start(30, [wide])).toMatchObject({ kind: 'denied', limit: 'wide' });
  });
});

describe('@upstash/ratelimit algorithms (why the worker does not use them)', () => {
  /** Sends `n` requests at Date.now() = `at`; returns how many were allowed. */
  async function burst(rl: Ratelimit, at: number, n: number): Promise<number> {
    const spy = vi.spyOn(Date, 'now').mockReturnValue(at);
    try {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await rl.limit('k')).success) ok++;
      return ok;
    } finally {
      spy.mockRestore();
    }
  }
  const limiter = (algorithm: ConstructorParameters<typeof Ratelimit>[0]['limiter']) =>
    new Ratelimit({
      redis,
      limiter: algorithm,
      prefix: uniquePrefix('url'),
      timeout: 0,
      ephemeralCache: false,
      analytics: false,
    });
  const W = 1_000;
  const base = Math.ceil(T0 / W) * W;

  it('fixedWindow lets 2x the limit through across a window boundary', async () => {
    const rl = limiter(Ratelimit.fixedWindow(50, '1 s'));
    const first = await burst(rl, base + 990, 50);
    const second = await burst(rl, base + 1010, 50);
    expect(first + second).toBe(100); // within 20 ms
  });

  it('slidingWindow (weighted previous window) lets far more than the limit through one sliding second', async () => {
    const rl = limiter(Ratelimit.slidingWindow(50, '1 s'));
    const first = await burst(rl, base + 900, 50);
    const second = await burst(rl, base + 1800, 50);
    expect(first).toBe(50);
    expect(first + second).toBeGreaterThan(50); // all within [900, 1800]: 900 ms
  });

  it('tokenBucket with max = limit refills a whole bucket at once and allows 2x in a moment', async () => {
    const rl = limiter(Ratelimit.tokenBucket(50, '1 s', 50));
    await burst(rl, base, 1); // creates the bucket at `base`
    const first = await burst(rl, base + 990, 49);
    const second = await burst(rl, base + 1010, 50);
    expect(first + second).toBeGreaterThan(50);
  });
});

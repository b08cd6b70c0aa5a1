// The worker's sliding-log limiter (inside startJob) against a reference model, and why @upstash/ratelimit's
// algorithms are not used: each lets more than `limit` through some sliding window.
import { maxInSlidingWindow } from '../../bench/lib/windows.js';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';
import { CONFIG_DEFAULTS } from '../../lib/config.js';
import { JobStore } from '../../lib/worker/job-store.js';
import type { LimitSpec } from '../../lib/worker/limits.js';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';
import { jobMessage } from '../helpers/worker-fixtures.js';

const TOKEN = 'rate-limit-log-test-token';
const bridge = useBridge(TOKEN);
let redis: Redis;

beforeAll(() => {
  redis = new Redis({ url: bridge.url, token: TOKEN, retry: false });
});

async function storeWithUser(prefix: string, guardMs: number = CONFIG_DEFAULTS.limitGuardMs) {
  const keys = keysFor(prefix);
  await redis.hset(keys.user('u'), { enabled: '1', zone: 'UTC' });
  await redis.hset(keys.userTasks('u'), { t: '{}' });
  return { store: new JobStore(redis, keys, guardMs), keys };
}

const T0 = 1_800_000_000_000;
/** The reservation grid: 1/1024 ms. */
const grid = (ms: number) => Math.ceil(ms * 1024) / 1024;
const gapOf = (l: LimitSpec, guardMs: number) => grid((l.windowMs + guardMs) / l.limit);
/** Reservations are paced at the limit's own spacing, capped at the guard. */
const paceOf = (l: LimitSpec, guardMs: number) => Math.min(gapOf(l, guardMs), grid(guardMs));

/**
 * Reference reservation: the earliest t >= from with no entry within `pace` of it and with the log, t added, holding
 * at most `limit` in every window of `span`. Only `from` and instants where an entry's span or pace ends can be it.
 */
function earliestFit(entries: number[], from: number, limit: number, span: number, pace: number): number {
  const candidates = [from, ...entries.flatMap((x) => [x + span, x + pace])]
    .filter((c) => c >= from)
    .sort((a, b) => a - b);
  return candidates.find(
    (t) =>
      entries.every((x) => Math.abs(t - x) >= pace) && maxInSlidingWindow([...entries, t], span) <= limit,
  )!;
}

async function logScores(key: string): Promise<number[]> {
  const flat = await redis.zrange<string[]>(key, 0, -1, { withScores: true });
  return flat.filter((_, i) => i % 2 === 1).map(Number);
}

describe('sliding-log reservations', () => {
  it('reserves exactly what a reference sliding log allows, refuses past the wait budget and consumes nothing then', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 50, max: 1000 }),
        // Start times, possibly out of order (workers read their clocks before the script runs), and wait budgets.
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 3000 })), {
          minLength: 1,
          maxLength: 40,
        }),
        async (limit, windowMs, starts) => {
          const { store, keys } = await storeWithUser(uniquePrefix('rl'));
          const spec: LimitSpec = { name: 'x', limit, windowMs };
          const span = windowMs + CONFIG_DEFAULTS.limitGuardMs;
          const gap = gapOf(spec, CONFIG_DEFAULTS.limitGuardMs);
          const pace = paceOf(spec, CONFIG_DEFAULTS.limitGuardMs);
          let log: number[] = [];
          let horizon = 0;
          for (const [i, [off, maxWaitMs]] of starts.entries()) {
            const now = T0 + off;
            const r = await store.start({
              message: jobMessage('t', 'u', `p${i}`),
              now,
              leaseMs: 1000,
              maxWaitMs,
              limits: [spec],
              retried: 0,
            });
            // T0 is ahead of the server clock, so the script's time is `now`; entries no start from now on can
            // share a window with are dropped.
            log = log.filter((x) => x > now - span);
            const t = earliestFit(log, now, limit, span, pace);
            if (t <= now + maxWaitMs) {
              expect(r).toMatchObject({ kind: 'claimed', admittedAt: t, waitMs: t - now });
              log.push(t);
            } else {
              // The deferral slot: no earlier than the instant that fits, the limit's next free slot kept apart.
              expect(r).toMatchObject({ kind: 'denied', limit: 'x' });
              const retryAt = (r as { retryAt: number }).retryAt;
              expect(retryAt).toBeGreaterThan(now + maxWaitMs);
              expect(retryAt).toBeGreaterThanOrEqual(horizon);
              expect(retryAt).toBeLessThanOrEqual(Math.max(Math.ceil(t), horizon));
              horizon = Math.ceil(retryAt + gap);
            }
            expect(maxInSlidingWindow(log, span)).toBeLessThanOrEqual(limit);
          }
          // Refusals wrote nothing: the log holds exactly the instants the claims reserved.
          expect(await logScores(keys.ratelimit('x'))).toEqual([...log].sort((a, b) => a - b));
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('gives N starts at one instant distinct reservations exactly (window + guard) / limit apart, up to the budget', async () => {
    const { store, keys } = await storeWithUser(uniquePrefix('rl'), 25);
    const spec: LimitSpec = { name: 'x', limit: 200, windowMs: 1000 };
    const starts = await Promise.all(
      Array.from({ length: 700 }, (_, i) =>
        store.start({
          message: jobMessage('t', 'u', `n${i}`),
          now: T0,
          leaseMs: 1000,
          maxWaitMs: 3000,
          limits: [spec],
          retried: 0,
        }),
      ),
    );
    const claimed = starts.flatMap((r) => (r.kind === 'claimed' ? [r] : []));
    // (1000 + 25) / 200 = 5.125 ms apart (under the 25 ms guard, so not capped); 3000 / 5.125 = 585.4:
    // reservations 0..585 fit the budget.
    expect(claimed.map((r) => r.waitMs).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 586 }, (_, k) => k * 5.125),
    );
    expect(claimed.every((r) => r.admittedAt === T0 + r.waitMs)).toBe(true);
    const denied = starts.flatMap((r) => (r.kind === 'denied' ? [r] : []));
    expect(denied).toHaveLength(114);
    // Refused jobs come back one deferral slot apart, after the budget.
    const slots = denied.map((r) => r.retryAt).sort((a, b) => a - b);
    expect(slots[0]).toBeGreaterThan(T0 + 3000);
    expect(slots.every((s, i) => i === 0 || s - slots[i - 1]! >= 5.125)).toBe(true);
    const log = await logScores(keys.ratelimit('x'));
    expect(log).toHaveLength(586);
    expect(maxInSlidingWindow(log, 1025)).toBe(200);
  });

  it('reserves the latest instant any limit asks for, fills gaps another limit left, and consumes nothing when refused', async () => {
    const { store, keys } = await storeWithUser(uniquePrefix('rl'), 25);
    const wide: LimitSpec = { name: 'wide', limit: 10, windowMs: 1000 }; // spacing 102.5 ms, paced 25 ms apart (the guard)
    const narrow: LimitSpec = { name: 'narrow', limit: 2, windowMs: 1000 }; // spacing 512.5 ms, paced 25 ms apart
    let n = 0;
    const start = (limits: LimitSpec[], maxWaitMs = 5000) =>
      store.start({
        message: jobMessage('t', 'u', `q${n++}`),
        now: T0,
        leaseMs: 1000,
        maxWaitMs,
        limits,
        retried: 0,
      });
    expect(await start([wide, narrow])).toMatchObject({ kind: 'claimed', waitMs: 0 });
    // Paced 25 ms apart (the limit's spacing, 102.5 ms, capped at the 25 ms guard): a burst is spread out.
    expect(await start([wide])).toMatchObject({ kind: 'claimed', waitMs: 25 });
    expect(await start([wide, narrow])).toMatchObject({ kind: 'claimed', waitMs: 50 });
    // `narrow` is full until 1025: past a 600 ms budget, so refused, and `wide` keeps its three entries.
    expect(await start([wide, narrow], 600)).toMatchObject({ kind: 'denied', limit: 'narrow' });
    expect(await logScores(keys.ratelimit('wide'))).toEqual([T0, T0 + 25, T0 + 50]);
    // With a budget for it: `narrow` asks for 1025, `wide` would take 75; the reservation is the later.
    expect(await start([wide, narrow])).toMatchObject({ kind: 'claimed', waitMs: 1025 });
    // The room before that reservation in `wide` is not lost to it.
    expect(await start([wide])).toMatchObject({ kind: 'claimed', waitMs: 75 });
    expect(await logScores(keys.ratelimit('wide'))).toEqual([T0, T0 + 25, T0 + 50, T0 + 75, T0 + 1025]);
    expect(await logScores(keys.ratelimit('narrow'))).toEqual([T0, T0 + 50, T0 + 1025]);
  });

  it('reserves no earlier than the lead after its time (never past the budget) and reports the server clock it read', async () => {
    const { store } = await storeWithUser(uniquePrefix('rl'), 25);
    const wide: LimitSpec = { name: 'wide', limit: 10, windowMs: 1000 };
    const start = (i: number, leadMs: number, maxWaitMs: number) =>
      store.start({
        message: jobMessage('t', 'u', `l${i}`),
        now: T0,
        leaseMs: 1000,
        leadMs,
        maxWaitMs,
        limits: [wide],
        retried: 0,
      });
    const before = Date.now();
    const r = await start(0, 30, 1000);
    expect(r).toMatchObject({ kind: 'claimed', waitMs: 30, admittedAt: T0 + 30 });
    // The server's clock, not the injected now (the script's time is the later of the two).
    const serverAt = (r as { serverAt?: number }).serverAt!;
    expect(serverAt).toBeGreaterThanOrEqual(before - 1);
    expect(serverAt).toBeLessThanOrEqual(Date.now() + 1);
    // Paced 25 ms behind the first (the guard caps the limit's 102.5 ms spacing).
    expect(await start(1, 30, 1000)).toMatchObject({ kind: 'claimed', waitMs: 55 });
    expect(await start(2, 500, 300)).toMatchObject({ kind: 'claimed', waitMs: 300 });
  });

  it('takes a released claim out of the logs, so the next start gets its capacity', async () => {
    const { store, keys } = await storeWithUser(uniquePrefix('rl'), 25);
    const one: LimitSpec = { name: 'one', limit: 1, windowMs: 1000 };
    const a = jobMessage('t', 'u', 'a');
    const b = jobMessage('t', 'u', 'b');
    const first = await store.start({ message: a, now: T0, leaseMs: 1000, limits: [one], retried: 0 });
    expect(first).toMatchObject({ kind: 'claimed', attempt: 1, waitMs: 0 });
    expect(
      await store.start({ message: b, now: T0, leaseMs: 1000, limits: [one], retried: 0 }),
    ).toMatchObject({
      kind: 'denied',
      limit: 'one',
    });
    // A stale attempt gives nothing back.
    expect(await store.release(a, 2, T0 + 10, [one])).toBeUndefined();
    expect(await logScores(keys.ratelimit('one'))).toEqual([T0]);
    expect(await store.release(a, 1, T0 + 10, [one])).toEqual({ deferrals: 1, replays: 0 });
    expect(await logScores(keys.ratelimit('one'))).toEqual([]);
    expect(
      await store.start({ message: b, now: T0 + 20, leaseMs: 1000, limits: [one], retried: 0 }),
    ).toMatchObject({ kind: 'claimed', waitMs: 0, admittedAt: T0 + 20 });
    // The released job starts again with the same attempt number, and reserves behind b.
    expect(
      await store.start({
        message: a,
        now: T0 + 30,
        leaseMs: 1000,
        maxWaitMs: 2000,
        limits: [one],
        retried: 0,
      }),
    ).toMatchObject({ kind: 'claimed', attempt: 1, admittedAt: T0 + 20 + 1025 });
  });

  it('leases a claim over its wait; a worker that dies waiting is taken over after it, and only the new attempt owns the job', async () => {
    const { store, keys } = await storeWithUser(uniquePrefix('rl'), 25);
    const one: LimitSpec = { name: 'one', limit: 1, windowMs: 1000 };
    const other = jobMessage('t', 'u', 'other');
    const m = jobMessage('t', 'u', 'dies');
    const begin = (now: number) =>
      store.start({ message: m, now, leaseMs: 1000, maxWaitMs: 3000, limits: [one], retried: 0 });
    await store.start({ message: other, now: T0, leaseMs: 1000, limits: [one], retried: 0 });
    expect(await begin(T0)).toMatchObject({ kind: 'claimed', attempt: 1, waitMs: 1025 });
    // Leased until the reserved instant plus the lease: a second delivery meanwhile is turned back.
    expect(await begin(T0 + 2024)).toEqual({ kind: 'busy', leaseUntil: T0 + 2025 });
    // After it, the next delivery reclaims; the dead attempt's entry stays in the log (it may have been sent),
    // so the new reservation comes a whole slot after it.
    expect(await begin(T0 + 2025)).toMatchObject({ kind: 'claimed', attempt: 2, admittedAt: T0 + 2050 });
    expect(await logScores(keys.ratelimit('one'))).toEqual([T0 + 1025, T0 + 2050]);
    const record = (attempt: number) =>
      store.record({ message: m, attempt, outcome: 'succeeded', status: 200, durationMs: 5, now: T0 + 2100 });
    expect(await record(2)).toBe(true);
    expect(await record(1)).toBe(false);
    expect(await redis.hget(keys.job(m.jobId), 'state')).toBe('succeeded');
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

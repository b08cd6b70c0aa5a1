// Batch start and record (JobStore.startBatch / recordBatch) on a real redis-server through the REST bridge: each job
// of a batch ends exactly as it would alone (twin worlds compared key by key), no job is reserved before its planned
// start, no sliding window holds more than the limit, and a batch costs one command whatever its size.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInSlidingWindow } from '../../bench/lib/windows.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { keysFor, type Keys } from '../../lib/store/keys.js';
import { JobStore, type RecordInput, type StartInput, type StartResult } from '../../lib/worker/job-store.js';
import type { LimitSpec } from '../../lib/worker/limits.js';
import {
  recordBatch as recordBatchScript,
  startBatch as startBatchScript,
} from '../../lib/worker/lua/scripts.generated.js';
import { countRedisCommands, startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';
import { jobMessage } from '../helpers/worker-fixtures.js';

const TOKEN = 'job-store-batch-test-token';
const bridge = useBridge(TOKEN);
let redis: Redis;
let proxy: CountingProxy;
let counted: Redis;

beforeAll(async () => {
  redis = new Redis({ url: bridge.url, token: TOKEN, retry: false });
  proxy = await startCountingProxy(bridge.url, countRedisCommands);
  // One command per request, so the proxy sees each call as the client sends it.
  counted = new Redis({ url: proxy.url, token: TOKEN, retry: false, enableAutoPipelining: false });
});

afterAll(async () => {
  await proxy?.close();
});

/** Ahead of the server clock, so the scripts' time is the injected now. */
const T0 = 1_800_000_000_000;
const GUARD = 25;
const STATS = { ttlMs: 3_600_000, bucketMs: 60_000 };
const PERIOD = '2027-01-15T08';

/** Users of the task `t`: enabled with the task unless said otherwise. */
async function world(users: Record<string, 'enabled' | 'disabled' | 'no-task'>, client: Redis = redis) {
  const keys = keysFor(uniquePrefix('jb'));
  for (const [id, kind] of Object.entries(users)) {
    await redis.hset(keys.user(id), { enabled: kind === 'disabled' ? '0' : '1', zone: 'UTC' });
    if (kind !== 'no-task') await redis.hset(keys.userTasks(id), { t: `{"who":"${id}"}` });
  }
  return { keys, store: new JobStore(client, keys, GUARD) };
}

const job = (user: string, notBefore: number = T0 - 1000): JobMessage =>
  jobMessage('t', user, PERIOD, { notBefore });

const common = (limits: LimitSpec[], maxWaitMs: number) => ({
  now: T0,
  leaseMs: 1000,
  limits,
  maxWaitMs,
  retried: 0,
  periodStats: STATS,
});

/** Every key a start or a record of these jobs writes, read back by name (prefix left out). */
async function snapshot(keys: Keys, jobs: readonly JobMessage[], limits: readonly string[]) {
  const entries = async (key: string) => redis.zrange<string[]>(key, 0, -1, { withScores: true });
  const out: Record<string, unknown> = {
    metrics: await redis.hgetall(keys.metrics),
    periodStats: await redis.hgetall(keys.periodStats('t', PERIOD)),
    horizons: await redis.hgetall(keys.deferralHorizons),
    deadLetters: await entries(keys.deadLetters),
  };
  for (const name of limits) out[`rl:${name}`] = await entries(keys.ratelimit(name));
  for (const m of jobs) {
    out[`job:${m.jobId}`] = await redis.hgetall(keys.job(m.jobId));
    out[`runs:${m.userId}`] = await redis.lrange(keys.runs(m.userId, 't'), 0, -1);
    out[`dlq:${m.jobId}`] = await redis.hgetall(keys.deadLetter(m.jobId));
  }
  return out;
}

/** A start's result without the server clock it read (twin worlds run at different real instants). */
const withoutServerAt = (r: StartResult) => {
  if (r.kind !== 'claimed') return r;
  const { serverAt: _serverAt, ...rest } = r;
  return rest;
};

/** Puts a job in a state before the test: succeeded already, or running under an unexpired lease. */
async function preset(keys: Keys, m: JobMessage, fields: Record<string, string>) {
  await redis.hset(keys.job(m.jobId), { jobId: m.jobId, attempts: '1', ...fields });
}

describe('JobStore.startBatch', () => {
  it('starts each job exactly as startJob alone would: claims, duplicate, busy, skipped, paced, denied', async () => {
    const users = {
      a: 'enabled',
      done: 'enabled',
      held: 'enabled',
      off: 'disabled',
      none: 'no-task',
      b: 'enabled',
      c: 'enabled',
    } as const;
    const jobs = Object.keys(users).map((u) => job(u));
    const limits: LimitSpec[] = [{ name: 'g', limit: 2, windowMs: 1000 }];
    const alone = await world(users);
    const batched = await world(users);
    for (const w of [alone, batched]) {
      await preset(w.keys, job('done'), { state: 'succeeded' });
      await preset(w.keys, job('held'), { state: 'running', leaseUntil: String(T0 + 5000) });
    }

    const one: StartResult[] = [];
    for (const m of jobs)
      one.push(await alone.store.start({ ...common(limits, 1000), message: m } satisfies StartInput));
    const batch = await batched.store.startBatch({ ...common(limits, 1000), messages: jobs });

    // 2 per 1025 ms, paced 25 ms apart: a at 0, b at 25, and c's instant (1025) is past the 1 s budget.
    expect(batch.results).toMatchObject([
      { kind: 'claimed', attempt: 1, params: '{"who":"a"}', admittedAt: T0, waitMs: 0 },
      { kind: 'duplicate', state: 'succeeded' },
      { kind: 'busy', leaseUntil: T0 + 5000 },
      { kind: 'skipped', reason: 'user_disabled' },
      { kind: 'skipped', reason: 'task_not_enabled' },
      { kind: 'claimed', attempt: 1, params: '{"who":"b"}', admittedAt: T0 + 25, waitMs: 25 },
      { kind: 'denied', limit: 'g', retryAt: T0 + 1025, deferrals: 1, replays: 0 },
    ]);
    expect(batch.results.map(withoutServerAt)).toEqual(one.map(withoutServerAt));
    const claimed = batch.results.filter((r) => r.kind === 'claimed');
    expect(claimed.every((r) => r.serverAt === batch.serverAt)).toBe(true);

    // Every key either way holds the same: job hashes, metrics, period stats, the log and the deferral horizon.
    const after = await snapshot(batched.keys, jobs, ['g']);
    expect(after).toEqual(await snapshot(alone.keys, jobs, ['g']));
    expect(after).toMatchObject({
      metrics: {
        't:started': 2,
        't:duplicate': 1,
        't:busy': 1,
        't:skipped': 2,
        't:deferred': 1,
        'limit:g:denied': 1,
      },
      periodStats: { started: 2, skipped: 2, deferred: 1 },
      // c's deferral slot holds 1025; the next is one spacing (1025 / 2) later.
      horizons: { g: Math.ceil(T0 + 1025 + 512.5) },
      'rl:g': ['t:a:2027-01-15T08#1', T0, 't:b:2027-01-15T08#1', T0 + 25],
      [`job:${job('b').jobId}`]: { state: 'running', leaseUntil: T0 + 25 + 1000, attempts: 1 },
      [`job:${job('c').jobId}`]: { state: 'deferred', deferrals: 1 },
    });
    expect(after[`job:${job('c').jobId}`]).not.toHaveProperty('attempts');
  });

  it('never reserves a job before its planned notBefore, counts its budget from there, and refuses one past it with nothing consumed', async () => {
    const plan = { p: -500, a: 100, b: 1200, c: 1300, d: 5000, e: 5000 };
    const { keys, store } = await world(Object.fromEntries(Object.keys(plan).map((u) => [u, 'enabled'])));
    const jobs = Object.entries(plan).map(([u, off]) => job(u, T0 + off));
    const one: LimitSpec = { name: 'one', limit: 1, windowMs: 1000 };
    const { results } = await store.startBatch({ ...common([one], 1500), messages: jobs });

    // One per 1025 ms. p's notBefore has passed: it goes at the script's time. a waits for the window, b and d
    // for their own notBefore or the window, whichever is later; c's instant (3075) is past its 1300 + 1500.
    // d waits 5 s, over the 1.5 s budget from the script's time, but within it from its notBefore.
    expect(results).toMatchObject([
      { kind: 'claimed', admittedAt: T0, waitMs: 0 },
      { kind: 'claimed', admittedAt: T0 + 1025, waitMs: 1025 },
      { kind: 'claimed', admittedAt: T0 + 2050, waitMs: 2050 },
      { kind: 'denied', limit: 'one', retryAt: T0 + 3075 },
      { kind: 'claimed', admittedAt: T0 + 5000, waitMs: 5000 },
      { kind: 'claimed', admittedAt: T0 + 6025, waitMs: 6025 },
    ]);
    for (const [i, r] of results.entries()) {
      if (r.kind === 'claimed') expect(r.admittedAt).toBeGreaterThanOrEqual(Math.max(T0, jobs[i]!.notBefore));
    }
    // Nothing of c's is in the log; each claim's lease runs from its own reserved instant.
    const log = await redis.zrange<string[]>(keys.ratelimit('one'), 0, -1, { withScores: true });
    expect(log.filter((_, i) => i % 2 === 1).map(Number)).toEqual([
      T0,
      T0 + 1025,
      T0 + 2050,
      T0 + 5000,
      T0 + 6025,
    ]);
    expect(log.some((member) => String(member).startsWith('t:c:'))).toBe(false);
    expect(await redis.hget(keys.job(jobs[4]!.jobId), 'leaseUntil')).toBe(T0 + 5000 + 1000);
    expect(await redis.hmget(keys.job(jobs[3]!.jobId), 'state', 'attempts')).toEqual({
      state: 'deferred',
      attempts: null,
    });
    // Lateness counts from each job's own plan: p 500 ms, a 925, b 850, e 1025; d is on time.
    expect(await redis.hget(keys.metrics, 't:lat:sum')).toBe(500 + 925 + 850 + 1025);
  });

  it("reserves a job past its own budget while the batch's hold lasts, and refuses one past both", async () => {
    const plan = { a: 0, b: 0, c: 0, d: 0 };
    const { store } = await world(Object.fromEntries(Object.keys(plan).map((u) => [u, 'enabled'])));
    const jobs = Object.entries(plan).map(([u, off]) => job(u, T0 + off));
    const one: LimitSpec = { name: 'one', limit: 1, windowMs: 1000 };
    // One per 1025 ms, a 500 ms budget from each notBefore, held 2.5 s: a at 0, b at 1025, c at 2050, d refused.
    const { results } = await store.startBatch({ ...common([one], 500), holdMs: 2500, messages: jobs });
    expect(results.map((r) => r.kind)).toEqual(['claimed', 'claimed', 'claimed', 'denied']);
    expect(results.slice(0, 3)).toMatchObject([{ waitMs: 0 }, { waitMs: 1025 }, { waitMs: 2050 }]);
    // Without the hold, b and c were past their budget.
    const again = await world(Object.fromEntries(Object.keys(plan).map((u) => [u, 'enabled'])));
    const without = await again.store.startBatch({ ...common([one], 500), messages: jobs });
    expect(without.results.map((r) => r.kind)).toEqual(['claimed', 'denied', 'denied', 'denied']);
  });

  it('keeps every sliding window within the limit: 3 x limit jobs planned at once, in two concurrent batches', async () => {
    const limit = 5;
    const spec: LimitSpec = { name: 'x', limit, windowMs: 1000 };
    const users = Array.from({ length: 6 * limit }, (_, i) => `u${i}`);
    const { keys, store } = await world(Object.fromEntries(users.map((u) => [u, 'enabled'])));
    const jobs = users.map((u) => job(u, T0));
    const [first, second] = await Promise.all([
      store.startBatch({ ...common([spec], 60_000), messages: jobs.slice(0, 3 * limit) }),
      store.startBatch({ ...common([spec], 60_000), messages: jobs.slice(3 * limit) }),
    ]);
    const admitted = [...first!.results, ...second!.results].map((r) =>
      r.kind === 'claimed' ? r.admittedAt : Number.NaN,
    );
    expect(admitted.every((t) => t >= T0)).toBe(true);
    // Saturated (the limit is reached) but never passed, in any window of window + guard.
    expect(maxInSlidingWindow(admitted, 1000 + GUARD)).toBe(limit);
    const log = await redis.zrange<string[]>(keys.ratelimit('x'), 0, -1, { withScores: true });
    expect(log.filter((_, i) => i % 2 === 1).map(Number)).toEqual([...admitted].sort((a, b) => a - b));
  });

  it('refuses a batch of jobs of different periods before any call', async () => {
    const { store } = await world({ a: 'enabled' });
    const other = jobMessage('t', 'a', 'another-period');
    await expect(store.startBatch({ ...common([], 0), messages: [job('a'), other] })).rejects.toThrow(
      /startBatch/,
    );
  });
});

describe('JobStore.recordBatch', () => {
  it('records each run exactly as recordRun alone would: states, history, metrics, the dead letter, the attempt fence', async () => {
    const users = {
      ok: 'enabled',
      bad: 'enabled',
      gone: 'enabled',
      stale: 'enabled',
      back: 'enabled',
    } as const;
    const jobs = Object.keys(users).map((u) => job(u));
    const [ok, bad, gone, stale, back] = jobs as [JobMessage, JobMessage, JobMessage, JobMessage, JobMessage];
    const prepare = async () => {
      const w = await world(users);
      await w.store.startBatch({ ...common([], 0), messages: jobs });
      // stale's first claim expired and a second delivery took the job over: attempt 1 no longer owns it.
      await w.store.start({ ...common([], 0), now: T0 + 5000, message: stale });
      // back was dead-lettered by a failure callback while its attempt was still running.
      await redis.zadd(w.keys.deadLetters, { score: T0 + 50, member: back.jobId });
      await redis.hset(w.keys.deadLetter(back.jobId), { jobId: back.jobId, status: 'dead' });
      return w;
    };
    const run = (message: JobMessage, attempt: number, outcome: RecordInput['outcome'], status: number) =>
      ({
        message,
        attempt,
        outcome,
        status,
        durationMs: 120 + status / 100,
        now: T0 + 6000,
        periodStats: STATS,
        ...(outcome === 'succeeded' ? {} : { error: `HTTP ${status}` }),
        ...(outcome === 'dead' ? { deadReason: 'permanent' } : {}),
      }) satisfies RecordInput;
    const inputs = [
      run(ok, 1, 'succeeded', 200),
      run(bad, 1, 'failed', 503),
      run(gone, 1, 'dead', 404),
      run(stale, 1, 'succeeded', 200),
      run(back, 1, 'succeeded', 200),
    ];

    const alone = await prepare();
    const one: boolean[] = [];
    for (const input of inputs) one.push(await alone.store.record(input));
    const batched = await prepare();
    const answers = await batched.store.recordBatch(inputs);

    expect(answers).toEqual([true, true, true, false, true]);
    expect(answers).toEqual(one);
    const after = await snapshot(batched.keys, jobs, []);
    expect(after).toEqual(await snapshot(alone.keys, jobs, []));
    expect(after).toMatchObject({
      [`job:${ok.jobId}`]: { state: 'succeeded', lastStatus: 200, finishedAt: T0 + 6000 },
      [`job:${bad.jobId}`]: { state: 'failed', lastStatus: 503, lastError: 'HTTP 503' },
      [`job:${gone.jobId}`]: { state: 'dead', deadAt: T0 + 6000 },
      // The stale attempt leaves the state of the attempt that owns the job, but its run is in the history.
      [`job:${stale.jobId}`]: { state: 'running', attempts: 2 },
      [`job:${back.jobId}`]: { state: 'succeeded' },
      [`runs:${stale.userId}`]: [{ jobId: stale.jobId, attempt: 1, outcome: 'succeeded', status: 200 }],
      [`runs:${gone.userId}`]: [{ jobId: gone.jobId, attempt: 1, outcome: 'dead', error: 'HTTP 404' }],
      [`dlq:${gone.jobId}`]: { jobId: gone.jobId, reason: 'permanent', attempts: 1, message: gone },
      [`dlq:${back.jobId}`]: {},
      deadLetters: [gone.jobId, T0 + 6000],
      metrics: { 't:succeeded': 3, 't:failed': 1, 't:dead': 1, 't:dlq_permanent': 1 },
      periodStats: { succeeded: 3, failed: 1, dead: 1 },
    });
    expect(after[`job:${stale.jobId}`]).not.toHaveProperty('finishedAt');
  });
});

describe('one command a batch', () => {
  it('startBatch of N jobs and recordBatch of N runs are one EVALSHA each; empty lists send nothing', async () => {
    const n = 40;
    const users = Array.from({ length: n }, (_, i) => `n${i}`);
    const { store } = await world(Object.fromEntries(users.map((u) => [u, 'enabled'])), counted);
    const jobs = users.map((u) => job(u));
    const limits: LimitSpec[] = [
      { name: 'global', limit: 50, windowMs: 1000 },
      { name: 'task', limit: 20, windowMs: 1000 },
    ];
    // Loaded beforehand, as on a warm server: the first call of a fresh one pays a NOSCRIPT and an EVAL once.
    await redis.scriptLoad(startBatchScript.text);
    await redis.scriptLoad(recordBatchScript.text);
    proxy.reset();

    const { results } = await store.startBatch({ ...common(limits, 5000), messages: jobs });
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(n);
    expect(proxy.counts()).toMatchObject({ requests: 1, units: 1, byName: { EVALSHA: 1 } });

    proxy.reset();
    const recorded = await store.recordBatch(
      jobs.map((message) => ({
        message,
        attempt: 1,
        outcome: 'succeeded' as const,
        status: 200,
        durationMs: 10,
        now: T0 + 10_000,
      })),
    );
    expect(recorded).toEqual(jobs.map(() => true));
    expect(proxy.counts()).toMatchObject({ requests: 1, units: 1, byName: { EVALSHA: 1 } });

    proxy.reset();
    expect(await store.startBatch({ ...common(limits, 0), messages: [] })).toEqual({
      serverAt: T0,
      results: [],
    });
    expect(await store.recordBatch([])).toEqual([]);
    expect(proxy.counts().requests).toBe(0);
  });
});

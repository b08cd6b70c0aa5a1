// Scheduler ticks against the whole local stack (redis-server, REST bridge, QStash-compatible broker): exactly-once fan-out,
// crash resume, catch-up after missed ticks, and the spread of notBefore, asserted on what the broker stored.
import { CONFIG_DEFAULTS } from '../../lib/config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { keysFor } from '../../lib/store/keys.js';
import { uniquePrefix } from '../helpers/redis.js';
import {
  brokerJobs,
  RecordingPublisher,
  seedIndex,
  testDeps,
  userIds,
  writeSchedulerCatalog,
} from '../helpers/scheduler-fixtures.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const catalog = writeSchedulerCatalog({ slow: '1/2s' }, [
  { id: 'race_task' },
  { id: 'crash_task', retries: 5 },
  { id: 'missed_task' },
  { id: 'even_task', spread: '10m' },
  { id: 'limited_task', spread: '10m', rateLimits: ['slow'] },
]);
const tasks = catalog.tasks;

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { STAGGER_CATALOG_PATH: catalog.path } });
});
afterAll(async () => {
  await stack?.stop();
});

const MIN = 60_000;
const HOUR = 60 * MIN;
const T10 = Date.parse('2030-01-01T10:00:00Z');
const forever = () => 600_000;
const tickOf = (deps: Parameters<typeof runTick>[0], holder = 'test') =>
  runTick(deps, { holder, timeLeft: forever });

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

describe('scheduler fan-out', () => {
  it('fans a slot out exactly once when three schedulers tick at the same time', async () => {
    const prefix = uniquePrefix('race');
    const ids = userIds(1200);
    await seedIndex(stack, prefix, 'race_task', ids);
    const schedulers = ['a', 'b', 'c'].map(() => testDeps(stack, { prefix, tasks, now: T10 + 5_000 }));

    const summaries = await Promise.all(schedulers.map((deps, i) => tickOf(deps, `scheduler-${i}`)));

    expect(summaries.reduce((n, s) => n + s.claimed, 0)).toBe(1);
    const published = schedulers.flatMap((d) => d.recorder.jobs);
    expect(published).toHaveLength(ids.length);
    const stored = await brokerJobs(stack, 'race_task');
    expect(stored).toHaveLength(ids.length);
    expect(new Set(stored.map((s) => s.job.userId))).toEqual(new Set(ids));
    expect(
      stored.every((s) => s.job.periodKey === '2030-01-01T10' && s.deduplicationId === s.job.jobId),
    ).toBe(true);
    // A later tick in the same period finds nothing new.
    const again = await tickOf(testDeps(stack, { prefix, tasks, now: T10 + 30 * MIN }));
    expect(again).toMatchObject({ claimed: 0, resumed: 0, published: 0 });
  });

  it('resumes a fan-out killed between publish and checkpoint with no job missing or doubled', async () => {
    const prefix = uniquePrefix('crash');
    const ids = userIds(1000);
    await seedIndex(stack, prefix, 'crash_task', ids);
    const real = new QStashPublisher(stack.qstash, stack.api.url);
    // Page 4 reaches QStash, then the scheduler dies before checkpointing it.
    const crashing = new RecordingPublisher(real, 4);
    const first = await tickOf(testDeps(stack, { prefix, tasks, now: T10, publisher: crashing }));
    expect(first).toMatchObject({ claimed: 1, failed: 1, done: 0 });
    const slotKey = keysFor(prefix).slot('crash_task', '_', '2030-01-01T10');
    expect(await stack.redis.hmget(slotKey, 'state', 'count')).toEqual({ state: 'fanning', count: 300 });

    // The next tick finds the slot stale and takes it over from its checkpoint.
    const resumed = testDeps(stack, { prefix, tasks, now: T10 + 46_000 });
    const second = await tickOf(resumed);
    expect(second).toMatchObject({ claimed: 0, resumed: 1, done: 1 });
    expect(second.fence).toBeGreaterThan(first.fence!);

    const attempts = [...crashing.jobs, ...resumed.recorder.jobs];
    const perJob = countBy(attempts, (j) => j.jobId);
    expect(perJob.size).toBe(ids.length);
    // Exactly the crashed page went out twice from the scheduler ...
    expect([...perJob.values()].filter((n) => n === 2)).toHaveLength(100);
    // ... and QStash kept each job once.
    const stored = await brokerJobs(stack, 'crash_task');
    expect(stored).toHaveLength(ids.length);
    expect(new Set(stored.map((s) => s.job.jobId)).size).toBe(ids.length);
    expect(
      stored.every(
        (s) => s.maxRetries === 5 && s.failureCallbackUrl === `${stack.api.url}/internal/failures`,
      ),
    ).toBe(true);
    expect(await stack.redis.hget(slotKey, 'state')).toBe('done');
  });

  it('after five missed hourly ticks runs only the latest period, once, marked backfilled', async () => {
    const prefix = uniquePrefix('missed');
    const ids = userIds(50);
    await seedIndex(stack, prefix, 'missed_task', ids);
    const onTime = await tickOf(testDeps(stack, { prefix, tasks, now: T10 + 20_000 }));
    expect(onTime).toMatchObject({ claimed: 1, done: 1 });

    const later = T10 + 5 * HOUR + 10 * MIN;
    const catchUp = await tickOf(testDeps(stack, { prefix, tasks, now: later }));
    expect(catchUp).toMatchObject({ claimed: 1, done: 1, published: ids.length });
    expect(catchUp.slots).toEqual([
      expect.objectContaining({ slot: 'missed_task:_:2030-01-01T15', backfilled: true }),
    ]);

    const stored = await brokerJobs(stack, 'missed_task');
    expect(countBy(stored, (s) => s.job.periodKey)).toEqual(
      new Map([
        ['2030-01-01T10', 50],
        ['2030-01-01T15', 50],
      ]),
    );
    const caughtUp = stored.filter((s) => s.job.periodKey === '2030-01-01T15');
    expect(caughtUp.every((s) => s.job.backfilled)).toBe(true);
    expect(stored.filter((s) => s.job.periodKey === '2030-01-01T10').every((s) => !s.job.backfilled)).toBe(
      true,
    );
    // Spread over a whole window from the catch-up, not bunched at it.
    const starts = caughtUp.map((s) => s.job.notBefore).sort((a, b) => a - b);
    expect(starts[0]).toBeGreaterThanOrEqual(later);
    expect(starts.at(-1)!).toBeGreaterThan(later + 9 * MIN);
    expect(starts.at(-1)!).toBeLessThan(later + 10 * MIN);
    for (const hour of ['11', '12', '13', '14']) {
      expect(await stack.redis.exists(keysFor(prefix).slot('missed_task', '_', `2030-01-01T${hour}`))).toBe(
        0,
      );
    }
    // The skipped periods never run later either.
    expect(await tickOf(testDeps(stack, { prefix, tasks, now: later + MIN }))).toMatchObject({
      claimed: 0,
      published: 0,
    });
  });

  it('spreads notBefore evenly over [dueAt, dueAt + W): one job per stratum, QStash told the second rounded down (the worker waits out the rest)', async () => {
    const prefix = uniquePrefix('even');
    const ids = userIds(600);
    await seedIndex(stack, prefix, 'even_task', ids);
    await tickOf(testDeps(stack, { prefix, tasks, now: T10 }));

    const stored = await brokerJobs(stack, 'even_task');
    expect(stored).toHaveLength(600);
    const W = 10 * MIN;
    const strata = stored.map((s) => Math.floor(((s.job.notBefore - T10) * 600) / W)).sort((a, b) => a - b);
    expect(strata).toEqual(Array.from({ length: 600 }, (_, i) => i));
    for (const s of stored) expect(s.notBefore).toBe(Math.floor(s.job.notBefore / 1000) * 1000);
    // Ranks follow scan (id) order.
    const byUser = [...stored].sort((a, b) => (a.job.userId < b.job.userId ? -1 : 1));
    for (let i = 1; i < byUser.length; i++)
      expect(byUser[i]!.job.notBefore).toBeGreaterThanOrEqual(byUser[i - 1]!.job.notBefore);
  });

  it('stretches the window when the jobs would exceed the task rate limit over it', async () => {
    const prefix = uniquePrefix('limited');
    await seedIndex(stack, prefix, 'limited_task', userIds(600));
    await tickOf(testDeps(stack, { prefix, tasks, now: T10 }));

    const starts = (await brokerJobs(stack, 'limited_task'))
      .map((s) => s.job.notBefore)
      .sort((a, b) => a - b);
    expect(starts).toHaveLength(600);
    // 600 jobs at 1 per (2 s + the limiter's guard) need 600 * (2 s + guard) (+2% slack), over twice the 10-minute
    // spread: 1,254.6 s with the default 50 ms guard.
    const stride = 2_000 + CONFIG_DEFAULTS.limitGuardMs;
    const W = Math.ceil(1.02 * 600 * stride);
    expect(starts[0]).toBeGreaterThanOrEqual(T10);
    expect(starts.at(-1)!).toBeLessThan(T10 + W);
    expect(starts.at(-1)!).toBeGreaterThan(T10 + W - 1.02 * stride * 2);
    // One phase per slot: consecutive starts are a whole limiter window (+ guard) apart, so none is deferred.
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(stride);
  });
});

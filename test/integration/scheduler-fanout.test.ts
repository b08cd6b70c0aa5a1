// Scheduler ticks against the whole local stack (redis-server, REST bridge, QStash-compatible broker): exactly-once fan-out,
// crash resume, catch-up after missed ticks, and the spread of notBefore, asserted on what the broker stored.
import { CONFIG_DEFAULTS } from '../../lib/config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { keysFor } from '../../lib/store/keys.js';
import { uniquePrefix } from '../helpers/redis.js';
import { batchNotBefore, type BatchMessage } from '../../lib/domain/batch.js';
import { batchIdOf } from '../../lib/publishing/batch-id.js';
import { isBatch } from '../../lib/domain/delivery.js';
import {
  brokerJobs,
  expectedDeduplicationId,
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
  { id: 'dense_task', spread: '1m' },
  { id: 'paged_task', spread: '1m' },
  { id: 'crash_batch_task', spread: '1m', retries: 4 },
  { id: 'single_task', spread: '1m' },
  { id: 'slow_call_task', spread: '1m', timeoutMs: 26_500 },
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
      stored.every(
        (s) => s.job.periodKey === '2030-01-01T10' && s.deduplicationId === expectedDeduplicationId(s),
      ),
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
    // A batch is due with its first job.
    for (const s of stored)
      expect(s.notBefore).toBe(
        Math.floor((s.batch ? batchNotBefore(s.batch) : s.job.notBefore) / 1000) * 1000,
      );
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

  it('publishes a dense slot (300 users over 60 s) as 4 batch messages: every user once, each batch within its span', async () => {
    const prefix = uniquePrefix('dense');
    const ids = userIds(300);
    await seedIndex(stack, prefix, 'dense_task', ids);
    const deps = testDeps(stack, { prefix, tasks, now: T10, settings: { pageSize: 500 } });
    const summary = await tickOf(deps);

    expect(summary).toMatchObject({ claimed: 1, done: 1, published: 300, messages: 4 });
    const batches = deps.recorder.messages.filter(isBatch);
    // 200 ms apart, 15 s a batch: 76 jobs each, the rest in the last.
    expect(batches.map((b) => b.jobs.length)).toEqual([76, 76, 76, 72]);
    expect(deps.recorder.messages).toHaveLength(4);
    for (const b of batches)
      expect(b.jobs.at(-1)!.notBefore - b.jobs[0]!.notBefore).toBeLessThanOrEqual(deps.settings.batchSpanMs);

    const stored = await brokerJobs(stack, 'dense_task');
    expect(stored).toHaveLength(300);
    expect(stored.map((s) => s.job.userId).sort()).toEqual(ids);
    expect(new Set(stored.map((s) => s.messageId)).size).toBe(4);
    for (const s of stored) {
      const batch = s.batch!;
      expect(s.deduplicationId).toBe(batchIdOf(batch));
      expect(s.notBefore).toBe(Math.floor(batchNotBefore(batch) / 1000) * 1000);
      expect([s.maxRetries, s.failureCallbackUrl]).toEqual([3, `${stack.api.url}/internal/failures`]);
    }
    // The jobs keep the even plan: one per 200 ms stratum of [T10, T10 + 60 s).
    const strata = stored.map((s) => Math.floor((s.job.notBefore - T10) / 200)).sort((a, b) => a - b);
    expect(strata).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('never groups across a page: each page is planned on its own', async () => {
    const prefix = uniquePrefix('paged');
    const ids = userIds(300);
    await seedIndex(stack, prefix, 'paged_task', ids);
    const deps = testDeps(stack, { prefix, tasks, now: T10, settings: { pageSize: 100 } });
    const summary = await tickOf(deps);

    // Each page of 100 (20 s of the window): 76 jobs in 15 s, then 24.
    expect(summary).toMatchObject({ published: 300, messages: 6 });
    const sizes = deps.recorder.messages.map((m) => (isBatch(m) ? m.jobs.length : 1));
    expect(sizes).toEqual([76, 24, 76, 24, 76, 24]);
    const pageOf = (userId: string) => Math.floor(ids.indexOf(userId) / 100);
    for (const b of deps.recorder.messages.filter(isBatch))
      expect(new Set(b.jobs.map((j) => pageOf(j.userId))).size).toBe(1);
    expect((await brokerJobs(stack, 'paged_task')).map((s) => s.job.userId).sort()).toEqual(ids);
  });

  it('drops a batched page re-published after a crash as duplicates (same batch ids), counted in jobs by the checkpoint', async () => {
    const prefix = uniquePrefix('crash-batch');
    const ids = userIds(300);
    await seedIndex(stack, prefix, 'crash_batch_task', ids);
    const real = new QStashPublisher(stack.qstash, stack.api.url);
    // Page 2 reaches QStash, then the scheduler dies before checkpointing it.
    const crashing = new RecordingPublisher(real, 2);
    const first = await tickOf(testDeps(stack, { prefix, tasks, now: T10, publisher: crashing }));
    expect(first).toMatchObject({ claimed: 1, failed: 1, done: 0 });
    const slotKey = keysFor(prefix).slot('crash_batch_task', '_', '2030-01-01T10');
    expect(await stack.redis.hmget(slotKey, 'count')).toEqual({ count: 100 });

    // Taken over 46 s later, when page 2's planned starts (20-40 s) are past: they move up to now, the grouping does not.
    const resumed = testDeps(stack, { prefix, tasks, now: T10 + 46_000 });
    expect(await tickOf(resumed)).toMatchObject({ resumed: 1, done: 1, published: 200 });
    const batchIds = (ms: readonly BatchMessage[]) => ms.map(batchIdOf);
    const crashedPage = crashing.messages.slice(2).filter(isBatch);
    expect(crashedPage).toHaveLength(2);
    expect(batchIds(resumed.recorder.messages.slice(0, 2).filter(isBatch))).toEqual(batchIds(crashedPage));

    const stored = await brokerJobs(stack, 'crash_batch_task');
    expect(stored).toHaveLength(300);
    expect(new Set(stored.map((s) => s.job.jobId)).size).toBe(300);
    // QStash kept page 2's first copies, due at their planned times.
    const page2 = stored.filter((s) => ids.indexOf(s.job.userId) >= 100 && ids.indexOf(s.job.userId) < 200);
    expect(Math.min(...page2.map((s) => s.job.notBefore))).toBeLessThan(T10 + 46_000);
    // The checkpoint after the re-published page counted its 100 jobs (2 messages) as deduplicated.
    const metrics = await stack.redis.hgetall<Record<string, number>>(keysFor(prefix).metrics);
    expect(metrics).toMatchObject({ 'crash_batch_task:pubdup': 100, 'crash_batch_task:published': 300 });
    expect(await stack.redis.hget(slotKey, 'state')).toBe('done');
  });

  it('sends one message a job with STAGGER_BATCH_SPAN_MS=0, or when the task timeout leaves a batch under 1 s', async () => {
    const prefix = uniquePrefix('single');
    await seedIndex(stack, prefix, 'single_task', userIds(120));
    await seedIndex(stack, prefix, 'slow_call_task', userIds(120));
    const off = testDeps(stack, {
      prefix,
      tasks: new Map([['single_task', tasks.get('single_task')!]]),
      now: T10,
      settings: { batchSpanMs: 0 },
    });
    expect(await tickOf(off)).toMatchObject({ published: 120, messages: 120 });
    expect(off.recorder.messages.some(isBatch)).toBe(false);
    // 27 s of worker budget less a 26.5 s timeout: 0.5 s, too short a span to batch.
    const slow = testDeps(stack, {
      prefix,
      tasks: new Map([['slow_call_task', tasks.get('slow_call_task')!]]),
      now: T10,
    });
    expect(await tickOf(slow)).toMatchObject({ published: 120, messages: 120 });
    const stored = await brokerJobs(stack, 'single_task');
    expect(stored.every((s) => s.batch === undefined && s.deduplicationId === s.job.jobId)).toBe(true);
    expect(stored).toHaveLength(120);
  });
});

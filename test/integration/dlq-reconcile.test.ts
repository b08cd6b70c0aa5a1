// Long outages: jobs QStash gave up on come back from its DLQ into stagger's dead letters, and periods with unsettled jobs show in the status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';
import { sweepQStashDlq, type QStashDlq } from '../../lib/scheduler/dlq-reconcile.js';
import { readStatus } from '../../lib/scheduler/status.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { DeadLetterStore } from '../../lib/dead-letters/dead-letter-store.js';
import { jobsOfBatch, type BatchMessage } from '../../lib/domain/batch.js';
import { batchIdOf } from '../../lib/publishing/batch-id.js';
import { JobMessage } from '../../lib/domain/job.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { uniquePrefix } from '../helpers/redis.js';
import { seedIndex, testDeps, userIds, writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';
import { jobMessage } from '../helpers/worker-fixtures.js';

const catalog = writeSchedulerCatalog({}, [{ id: 'outage_task', spread: '10m' }]);
let stack: TestStack;
let deadUrl: string;

beforeAll(async () => {
  stack = await startStack({ env: { STAGGER_CATALOG_PATH: catalog.path } });
  // Nothing listens there: the worker of a deployment that is down.
  deadUrl = `http://127.0.0.1:${await freePort()}/internal/jobs`;
});
afterAll(async () => {
  await stack?.stop();
});

async function dlqEntriesFor(url: string) {
  const { messages } = await stack.qstash.dlq.listMessages({ filter: { url } });
  return messages.filter((m) => m.url === url);
}

describe('QStash DLQ sweep', () => {
  it('turns our jobs in QStash DLQ into stagger dead letters (unless they settled meanwhile), deletes them there, and runs once per interval', async () => {
    const prefix = uniquePrefix('sweep');
    const keys = keysFor(prefix);
    const lost = jobMessage('outage_task', 'ana', 'p-outage');
    const ran = jobMessage('outage_task', 'ben', 'p-outage');
    for (const m of [lost, ran])
      await stack.qstash.publishJSON({ url: deadUrl, body: m, deduplicationId: m.jobId, retries: 0 });
    await waitFor(async () => ((await dlqEntriesFor(deadUrl)).length === 2 ? true : undefined), 20_000);
    // ben's job ran after all (say, a delivery that got through before the outage grew).
    await stack.redis.hset(keys.job(ran.jobId), { state: 'succeeded' });

    const deps = {
      dlq: stack.qstash.dlq as QStashDlq,
      deadLetters: new DeadLetterStore(stack.redis, keys),
      jobsUrl: deadUrl,
      failuresUrl: `${deadUrl.replace('/jobs', '/failures')}`,
      acquireGuard: async (ms: number) =>
        (await stack.redis.set(keys.dlqSweep, 1, { nx: true, px: ms })) === 'OK',
      everyMs: 60_000,
      maxPages: 5,
    };
    const first = await sweepQStashDlq(deps);
    expect(first).toEqual({ swept: true, seen: 2, deadLettered: 1, ignored: 1, deleted: 2, kept: 0 });
    expect(await dlqEntriesFor(deadUrl)).toEqual([]);
    const dl = await stack.redis.hgetall<Record<string, unknown>>(keys.deadLetter(lost.jobId));
    expect(dl).toMatchObject({ jobId: lost.jobId, reason: 'retries_exhausted', status: 'dead' });
    expect(await stack.redis.exists(keys.deadLetter(ran.jobId))).toBe(0);
    expect(await stack.redis.hget(keys.job(lost.jobId), 'state')).toBe('dead');

    // Within the interval, another tick does not sweep again.
    expect((await sweepQStashDlq(deps)).swept).toBe(false);
  });

  it('turns a batch message in QStash DLQ into one dead letter per job not settled, each replayable alone', async () => {
    const prefix = uniquePrefix('sweep-batch');
    const keys = keysFor(prefix);
    const batch: BatchMessage = {
      v: 1,
      kind: 'batch',
      taskId: 'outage_task',
      periodKey: 'p-outage-batch',
      origin: 'scheduled',
      backfilled: false,
      jobs: ['ana', 'ben', 'cem'].map((userId, i) => ({ userId, notBefore: 1_000 + i })),
    };
    const [ana, ben, cem] = jobsOfBatch(batch) as [JobMessage, JobMessage, JobMessage];
    await stack.qstash.publishJSON({
      url: deadUrl,
      body: batch,
      deduplicationId: batchIdOf(batch),
      retries: 0,
    });
    const batchEntry = async () =>
      (await dlqEntriesFor(deadUrl)).filter((e) => (e.body ?? '').includes('p-outage-batch'));
    await waitFor(async () => ((await batchEntry()).length === 1 ? true : undefined), 20_000);
    // ben's job ran after all.
    await stack.redis.hset(keys.job(ben.jobId), { state: 'succeeded' });

    const result = await sweepQStashDlq({
      dlq: stack.qstash.dlq as QStashDlq,
      deadLetters: new DeadLetterStore(stack.redis, keys),
      jobsUrl: deadUrl,
      failuresUrl: `${deadUrl.replace('/jobs', '/failures')}`,
      acquireGuard: async (ms: number) =>
        (await stack.redis.set(keys.dlqSweep, 1, { nx: true, px: ms })) === 'OK',
      everyMs: 60_000,
      maxPages: 5,
    });
    // One entry, two jobs dead-lettered from it.
    expect(result).toEqual({ swept: true, seen: 1, deadLettered: 2, ignored: 0, deleted: 1, kept: 0 });
    expect(await batchEntry()).toEqual([]);
    for (const job of [ana, cem]) {
      const dl = await stack.redis.hgetall<Record<string, unknown>>(keys.deadLetter(job.jobId));
      expect(dl).toMatchObject({ jobId: job.jobId, reason: 'retries_exhausted', status: 'dead' });
      expect(
        JobMessage.parse(typeof dl!['message'] === 'string' ? JSON.parse(dl!['message']) : dl!['message']),
      ).toEqual(job);
      expect(await stack.redis.hget(keys.job(job.jobId), 'state')).toBe('dead');
    }
    expect(await stack.redis.exists(keys.deadLetter(ben.jobId))).toBe(0);
    expect(await stack.redis.zrange(keys.deadLetters, 0, -1)).toEqual([ana.jobId, cem.jobId].sort());
  });
});

describe('unsettled periods', () => {
  it('shows a period whose window ended with jobs not settled, until they settle', async () => {
    const prefix = uniquePrefix('settle');
    const keys = keysFor(prefix);
    await seedIndex(stack, prefix, 'outage_task', userIds(3));
    const T = Date.parse('2030-01-01T10:00:05Z');
    const deps = testDeps(stack, { prefix, tasks: catalog.tasks, now: T });
    const tick = await runTick(deps, { holder: 'test', timeLeft: () => 600_000 });
    expect(tick).toMatchObject({ claimed: 1, done: 1, published: 3 });

    // During the window nothing is reported; after it, all three are unsettled.
    expect((await readStatus(deps, 100, T + 60_000)).unsettled).toEqual([]);
    const after = T + 3_600_000;
    expect((await readStatus(deps, 100, after)).unsettled).toEqual([
      {
        taskId: 'outage_task',
        periodKey: '2030-01-01T10',
        windowEnd: new Date(T + 600_000).toISOString(),
        planned: 3,
        settled: 0,
        unsettled: 3,
      },
    ]);
    const stats = keys.periodStats('outage_task', '2030-01-01T10');
    await stack.redis.hincrby(stats, 'succeeded', 2);
    expect((await readStatus(deps, 100, after)).unsettled).toMatchObject([{ settled: 2, unsettled: 1 }]);
    await stack.redis.hincrby(stats, 'dead', 1);
    expect((await readStatus(deps, 100, after)).unsettled).toEqual([]);
  });
});

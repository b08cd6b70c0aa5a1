// Invariant 5: a job that keeps failing ends in the dead letters with its last error, and replays from the admin API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';
import { DeadLetterStore } from '../../lib/dead-letters/dead-letter-store.js';
import { jobOfBatch, type BatchMessage } from '../../lib/domain/batch.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';
import {
  deliverSigned,
  hitsOf,
  jobHash,
  jobMessage,
  publishJob,
  seedUser,
  writeCatalog,
} from '../helpers/worker-fixtures.js';

const behaviour = new Map<string, (n: number) => number>();
let stack: TestStack;
const keys = () => keysFor(stack.prefix);

interface DeadLetterJson {
  id: string;
  jobId: string;
  lastStatus: number;
  lastError: string;
  attempts: number;
  reason: string;
  deadAt: string;
  message: { origin: string };
  qstashDlqId?: string;
}

beforeAll(async () => {
  const catalog = writeCatalog({}, [
    { id: 'broken', retries: 2 },
    { id: 'refused', retries: 3 },
    { id: 'batched', retries: 1 },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog },
    target: { respond: (hit, n) => behaviour.get(hit.path.split('/')[2] ?? '')?.(n) ?? 200 },
  });
  await seedUser(stack, 'dora', { broken: { note: '-' }, refused: { note: '-' } });
  for (const u of ['ada', 'bea', 'cy', 'dan']) await seedUser(stack, u, { batched: { note: '-' } });
});

afterAll(async () => {
  await stack?.stop();
});

async function listDeadLetters(query = ''): Promise<{ items: DeadLetterJson[]; nextCursor: string | null }> {
  const res = await stack.admin(`/v1/dead-letters${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { items: DeadLetterJson[]; nextCursor: string | null };
}

describe('dead letters', () => {
  it('stores a job that always fails with its last error after the retries, and replays it once fixed', async () => {
    behaviour.set('broken', () => 502);
    const m = jobMessage('broken', 'dora', 'p-dl');
    await publishJob(stack, m, { retries: 2 });
    const dl = await waitFor(
      async () => (await listDeadLetters()).items.find((d) => d.jobId === m.jobId),
      15_000,
      'the dead letter',
    );
    expect(dl).toMatchObject({ id: m.jobId, lastStatus: 502, attempts: 3, reason: 'retries_exhausted' });
    expect(dl.lastError).toMatch(/^HTTP 502/);
    expect(hitsOf(stack, 'broken', 'dora', 'p-dl')).toHaveLength(3);
    expect((await jobHash(stack, m.jobId))['state']).toBe('dead');

    behaviour.set('broken', () => 200);
    const replay = await stack.admin(`/v1/dead-letters/${encodeURIComponent(dl.id)}/replay`, {
      method: 'POST',
    });
    expect(replay.status).toBe(202);
    const job = await waitFor(async () => {
      const r = (await (await stack.admin(`/v1/jobs/${encodeURIComponent(m.jobId)}`)).json()) as {
        state: string;
      };
      return r.state === 'succeeded' ? (r as Record<string, unknown>) : undefined;
    });
    expect(job).toMatchObject({ attempts: 1, replays: 1, origin: 'replay', lastStatus: 200 });
    expect(hitsOf(stack, 'broken', 'dora', 'p-dl')).toHaveLength(4);
    expect((await listDeadLetters()).items.map((d) => d.jobId)).not.toContain(m.jobId);
    // Replaying again finds nothing to replay.
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(dl.id)}/replay`, { method: 'POST' })).status,
    ).toBe(404);
  });

  it("drops QStash's own DLQ copy once the dead letter is stored, and stores it even when that delete fails", async () => {
    behaviour.set('broken', () => 503);
    const m = jobMessage('broken', 'dora', 'p-qstash-dlq');
    await publishJob(stack, m, { retries: 0 });
    const dl = await waitFor(
      async () => (await listDeadLetters()).items.find((d) => d.jobId === m.jobId),
      15_000,
      'the dead letter',
    );
    // The broker told its DLQ id in the callback; the failures function deleted that entry afterwards.
    expect(dl.qstashDlqId).toMatch(/\S/);
    await waitFor(
      async () =>
        (await stack.qstash.dlq.listMessages()).messages.some((e) => e.dlqId === dl.qstashDlqId)
          ? undefined
          : true,
      10_000,
      "QStash's DLQ entry to go",
    );

    // An id QStash does not know (already deleted, or its delete fails): the dead letter is stored anyway.
    const other = jobMessage('broken', 'dora', 'p-qstash-dlq-gone');
    const cb = {
      status: 503,
      sourceMessageId: 'msg_gone',
      sourceBody: Buffer.from(JSON.stringify(other)).toString('base64'),
      dlqId: 'no-such-dlq-id',
    };
    const res = await deliverSigned(stack, '/internal/failures', JSON.stringify(cb));
    expect([res.status, await res.json()]).toEqual([200, { outcome: 'stored', jobId: other.jobId }]);
    expect(await stack.redis.zscore(keys().deadLetters, other.jobId)).not.toBeNull();
  });

  it('ignores a failure callback from before a replay (it must not kill the replayed job)', async () => {
    const m = jobMessage('broken', 'dora', 'p-stale');
    behaviour.set('broken', () => 502);
    await publishJob(stack, m, { retries: 0 });
    await waitFor(async () => ((await jobHash(stack, m.jobId))['state'] === 'dead' ? true : undefined));
    behaviour.set('broken', () => 200);
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(m.jobId)}/replay`, { method: 'POST' }))
        .status,
    ).toBe(202);
    await waitFor(async () => ((await jobHash(stack, m.jobId))['state'] === 'succeeded' ? true : undefined));
    // A late copy of the old callback (origin scheduled, created before the replay).
    const late = {
      status: 502,
      sourceMessageId: 'msg_old',
      sourceBody: Buffer.from(JSON.stringify(m)).toString('base64'),
      createdAt: Date.now() - 60_000,
    };
    const res = await deliverSigned(stack, '/internal/failures', JSON.stringify(late));
    expect([res.status, await res.json()]).toEqual([200, { outcome: 'ignored', jobId: m.jobId }]);
    expect((await jobHash(stack, m.jobId))['state']).toBe('succeeded');
    // Same while the replayed run is still failing and being retried: stale, not dead.
    await stack.redis.hset(keys().job(m.jobId), { state: 'failed' });
    const again = await deliverSigned(stack, '/internal/failures', JSON.stringify(late));
    expect(await again.json()).toEqual({ outcome: 'stale', jobId: m.jobId });
    expect((await jobHash(stack, m.jobId))['state']).toBe('failed');
    expect(await stack.redis.zscore(keys().deadLetters, m.jobId)).toBeNull();
  });

  it('acknowledges a failure callback whose source is not a job message and writes nothing', async () => {
    const before = await stack.redis.zcard(keys().deadLetters);
    const cb = {
      status: 500,
      sourceMessageId: 'msg_x',
      sourceBody: Buffer.from('{"hello":"world"}').toString('base64'),
    };
    const res = await deliverSigned(stack, '/internal/failures', JSON.stringify(cb));
    expect([res.status, await res.json()]).toEqual([200, { outcome: 'not_a_job' }]);
    expect(await stack.redis.zcard(keys().deadLetters)).toBe(before);
  });

  it('pages dead letters newest first without repeats, and refuses a forged cursor', async () => {
    behaviour.set('refused', () => 410);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = jobMessage('refused', 'dora', `p-page-${i}`);
      ids.push(m.jobId);
      const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(m));
      expect(res.status).toBe(489);
    }
    const seen: DeadLetterJson[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: DeadLetterJson[]; nextCursor: string | null } = await listDeadLetters(
        `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const seenIds = seen.map((d) => d.id);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect(seenIds.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    const times = seen.map((d) => Date.parse(d.deadAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((await stack.admin('/v1/dead-letters?cursor=forged')).status).toBe(400);
    expect((await stack.admin('/v1/dead-letters?limit=0')).status).toBe(400);
  });

  it('deletes a dead letter for good', async () => {
    const id = jobMessage('refused', 'dora', 'p-page-0').jobId;
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(id)}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await listDeadLetters('?limit=100')).items.map((d) => d.id)).not.toContain(id);
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(id)}`, { method: 'DELETE' })).status,
    ).toBe(404);
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(id)}/replay`, { method: 'POST' })).status,
    ).toBe(404);
  });

  it('keeps the dead letter when the replay cannot be published', async () => {
    const id = jobMessage('refused', 'dora', 'p-page-1').jobId;
    const store = new DeadLetterStore(stack.redis, keys());
    const failing = { publish: () => Promise.reject(new Error('QStash down')) };
    await expect(store.replay(id, failing, 3)).rejects.toThrow(/could not publish/);
    expect((await listDeadLetters('?limit=100')).items.map((d) => d.id)).toContain(id);
    expect((await jobHash(stack, id))['state']).toBe('dead');
  });

  it('dead-letters each job of a failed batch that is not settled, with its own single-job message, and replays it', async () => {
    const batch: BatchMessage = {
      v: 1,
      kind: 'batch',
      taskId: 'batched',
      periodKey: 'p-batch',
      origin: 'scheduled',
      backfilled: false,
      jobs: ['ada', 'bea', 'cy', 'dan'].map((userId, i) => ({ userId, notBefore: 1_000 * i })),
    };
    const [ada, bea, cy, dan] = batch.jobs.map((j) => jobOfBatch(batch, j)) as [
      ReturnType<typeof jobOfBatch>,
      ReturnType<typeof jobOfBatch>,
      ReturnType<typeof jobOfBatch>,
      ReturnType<typeof jobOfBatch>,
    ];
    // ada never started; bea succeeded; cy failed with an answer the worker recorded; dan is a dead letter already.
    await stack.redis.hset(keys().job(bea.jobId), { state: 'succeeded' });
    await stack.redis.hset(keys().job(cy.jobId), {
      state: 'failed',
      lastStatus: 503,
      lastError: 'HTTP 503: busy',
      attempts: 2,
    });
    await stack.redis.hset(keys().job(dan.jobId), { state: 'dead' });
    const metricsBefore = Number(
      (await stack.redis.hget(keys().metrics, 'batched:dlq_retries_exhausted')) ?? 0,
    );
    const cb = {
      status: 500,
      retried: 1,
      body: Buffer.from('worker timed out').toString('base64'),
      sourceMessageId: 'msg_batch',
      sourceBody: Buffer.from(JSON.stringify(batch)).toString('base64'),
    };
    const res = await deliverSigned(stack, '/internal/failures', JSON.stringify(cb));
    expect([res.status, await res.json()]).toEqual([200, { outcome: 'stored', count: 2 }]);

    const listed = (await listDeadLetters('?limit=100')).items.filter((d) => d.jobId.startsWith('batched:'));
    expect(listed.map((d) => d.jobId).sort()).toEqual([ada.jobId, cy.jobId].sort());
    const byJob = new Map(listed.map((d) => [d.jobId, d]));
    // Each stored with its own single-job message, as any job's dead letter is.
    expect(byJob.get(ada.jobId)).toMatchObject({ id: ada.jobId, message: ada, lastStatus: 500, attempts: 0 });
    expect(byJob.get(ada.jobId)!.lastError).toBe(
      'QStash gave up after 1 retries; last answer 500: worker timed out',
    );
    expect(byJob.get(cy.jobId)).toMatchObject({
      message: cy,
      lastStatus: 503,
      lastError: 'HTTP 503: busy',
      attempts: 2,
    });
    expect((await jobHash(stack, ada.jobId))['state']).toBe('dead');
    expect((await jobHash(stack, cy.jobId))['state']).toBe('dead');
    // The succeeded and the dead job are left as they were.
    expect((await jobHash(stack, bea.jobId))['state']).toBe('succeeded');
    expect(await stack.redis.exists(keys().deadLetter(bea.jobId), keys().deadLetter(dan.jobId))).toBe(0);
    expect(Number(await stack.redis.hget(keys().metrics, 'batched:dlq_retries_exhausted'))).toBe(
      metricsBefore + 2,
    );

    // A replay runs ada's job alone, as any dead letter's.
    const replay = await stack.admin(`/v1/dead-letters/${encodeURIComponent(ada.jobId)}/replay`, {
      method: 'POST',
    });
    expect(replay.status).toBe(202);
    await waitFor(async () =>
      (await jobHash(stack, ada.jobId))['state'] === 'succeeded' ? true : undefined,
    );
    expect(hitsOf(stack, 'batched', 'ada', 'p-batch')).toHaveLength(1);

    // QStash retrying the callback: every job is settled by now, nothing is written.
    const again = await deliverSigned(stack, '/internal/failures', JSON.stringify(cb));
    expect(await again.json()).toEqual({ outcome: 'ignored', count: 0 });
    expect(Number(await stack.redis.hget(keys().metrics, 'batched:dlq_retries_exhausted'))).toBe(
      metricsBefore + 2,
    );
    // A job replayed since, failing again under its replay: the batch's old failure is stale for it.
    await stack.redis.hset(keys().job(ada.jobId), { state: 'failed' });
    const store = new DeadLetterStore(stack.redis, keys());
    expect(await store.recordFailure(cb)).toMatchObject({
      outcome: 'stale',
      batch: { jobs: 4, count: 0, outcomes: { stale: 1, ignored: 3 } },
    });
    expect((await jobHash(stack, ada.jobId))['state']).toBe('failed');
  });
});

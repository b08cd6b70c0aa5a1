// Batches through the local stack: each job once, a crashed delivery, a failing job beside good ones, redeliveries, replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchMessage } from '../../lib/domain/batch.js';
import { batchIdOf } from '../../lib/publishing/batch-id.js';
import { runtime } from '../../lib/runtime.js';
import { keysFor } from '../../lib/store/keys.js';
import { runBatch, type BatchWorkerDeps } from '../../lib/worker/run-batch.js';
import { ScriptClock } from '../../lib/worker/script-clock.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';
import { deliverSigned, hitsOf, jobHash, seedUser, writeCatalog } from '../helpers/worker-fixtures.js';

/** Per user: the status the target answers to the n-th request for that user (default 200). */
const behaviour = new Map<string, (n: number) => number | Promise<number>>();
const users = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];

let stack: TestStack;
const keys = () => keysFor(stack.prefix);

beforeAll(async () => {
  const catalog = writeCatalog({}, [
    { id: 'batched', retries: 2, timeoutMs: 1000 },
    { id: 'slowish', retries: 2, timeoutMs: 1000 },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog, STAGGER_BATCH_RETRY_DELAY_MS: '100' },
    target: {
      respond: (hit, n) => {
        const user = decodeURIComponent(hit.path.split('/')[3] ?? '');
        return behaviour.get(user)?.(n) ?? 200;
      },
    },
  });
  for (const u of users) await seedUser(stack, u, { batched: { note: u }, slowish: { note: u } });
});

afterAll(async () => {
  await stack?.stop();
});

function batchOf(taskId: string, periodKey: string, from: number, stepMs: number, who = users): BatchMessage {
  return {
    v: 1,
    kind: 'batch',
    taskId,
    periodKey,
    origin: 'scheduled',
    backfilled: false,
    jobs: who.map((userId, i) => ({ userId, notBefore: from + i * stepMs })),
  };
}

const jobIdOf = (b: BatchMessage, userId: string) => `${b.taskId}:${userId}:${b.periodKey}`;

async function publishBatch(b: BatchMessage, retries = 2) {
  return (
    await stack.qstash.publishJSON({
      url: `${stack.api.url}/internal/jobs`,
      body: b,
      deduplicationId: batchIdOf(b),
      retries,
      failureCallback: `${stack.api.url}/internal/failures`,
      notBefore: Math.floor(Math.min(...b.jobs.map((j) => j.notBefore)) / 1000),
    })
  ).messageId;
}

async function allIn(b: BatchMessage, state: string, who = b.jobs.map((j) => j.userId), timeoutMs = 20_000) {
  await waitFor(
    async () => {
      for (const u of who) if ((await jobHash(stack, jobIdOf(b, u)))['state'] !== state) return undefined;
      return true;
    },
    timeoutMs,
    `${who.length} jobs ${state}`,
  );
}

const hits = (b: BatchMessage, u: string) => hitsOf(stack, b.taskId, u, b.periodKey);
/** The dead letter of a job, from the admin API's list; undefined while there is none. */
async function deadLetter(jobId: string): Promise<Record<string, unknown> | undefined> {
  const res = await stack.admin('/v1/dead-letters?limit=100');
  const list = (await res.json()) as { items: Record<string, unknown>[] };
  return list.items.find((d) => d['jobId'] === jobId);
}
const metric = async (field: string) => Number((await stack.redis.hget(keys().metrics, field)) ?? 0);

describe('worker: batches', () => {
  it('runs every job of a batch once, none before its planned time, in planned order', async () => {
    const b = batchOf('batched', 'p-once', Date.now() + 300, 40);
    await publishBatch(b);
    await allIn(b, 'succeeded');
    for (const j of b.jobs) {
      const h = hits(b, j.userId);
      expect(h).toHaveLength(1);
      expect(h[0]!.at).toBeGreaterThanOrEqual(j.notBefore);
      expect(h[0]!.headers['idempotency-key']).toBe(jobIdOf(b, j.userId));
      expect(JSON.parse(h[0]!.body)).toEqual({ user: j.userId, note: j.userId });
      expect((await jobHash(stack, jobIdOf(b, j.userId)))['attempts']).toBe(1);
    }
    const order = b.jobs.map((j) => hits(b, j.userId)[0]!.at);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  });

  it('after a delivery dies half-way, the redelivery runs only the jobs it left unfinished', async () => {
    const b = batchOf('batched', 'p-crash', Date.now() - 1000, 10);
    const base = runtime().delivery;
    let recorded = 0;
    let calls = 0;
    let dead = false;
    const never = new Promise<never>(() => {});
    // The process is frozen from the 4th call on: nothing more leaves it, not a call, not a write.
    const deps: BatchWorkerDeps = {
      ...base,
      concurrency: 1,
      recordEveryMs: 0,
      scriptClock: new ScriptClock(),
      store: {
        rateGuardMs: base.store.rateGuardMs,
        start: (i) => (dead ? never : base.store.start(i)),
        record: (i) => (dead ? never : base.store.record(i)),
        release: (...a) => (dead ? never : base.store.release(...a)),
        startBatch: (i) => (dead ? never : base.store.startBatch(i)),
        serverClock: () => (dead ? never : base.store.serverClock()),
        recordBatch: async (inputs) => {
          if (dead) return never;
          const owned = await base.store.recordBatch(inputs);
          recorded += inputs.length;
          return owned;
        },
      },
      fetch: async (input, init) => {
        if (++calls === 4) {
          await waitFor(async () => (recorded >= 3 ? true : undefined), 10_000, 'three records');
          dead = true;
        }
        return dead ? never : fetch(input, init);
      },
    };
    void runBatch(deps, { message: b, messageId: 'msg_crash', retried: 0 });
    await waitFor(async () => (dead ? true : undefined), 10_000, 'the crash');
    for (const u of users.slice(0, 3)) expect(hits(b, u)).toHaveLength(1);
    for (const u of users.slice(3)) expect(hits(b, u)).toHaveLength(0);

    // QStash delivers the batch again: the three recorded jobs are duplicates, the rest are still claimed by the
    // dead delivery (their leases run on), so they go on as messages of their own for when those leases end.
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(b), {
      messageId: 'msg_crash',
      retried: 1,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, number | string>;
    expect(body).toMatchObject({ outcome: 'batch', jobs: 6, duplicate: 3, handedOn: 3, succeeded: 0 });
    await allIn(b, 'succeeded');
    for (const u of users) expect(hits(b, u)).toHaveLength(1);
  });

  it('a job that keeps failing goes on alone to its dead letter; the others of its batch succeed once', async () => {
    behaviour.set('b2', () => 500);
    try {
      const b = batchOf('batched', 'p-failing', Date.now() + 200, 20);
      await publishBatch(b);
      await allIn(
        b,
        'succeeded',
        users.filter((u) => u !== 'b2'),
      );
      const dl = await waitFor(() => deadLetter(jobIdOf(b, 'b2')), 30_000, 'the dead letter of b2');
      // Its first attempt in the batch, then retries: 2 more, as a message of its own.
      expect(dl).toMatchObject({ attempts: 3, lastStatus: 500, reason: 'retries_exhausted' });
      expect(hits(b, 'b2')).toHaveLength(3);
      expect(hits(b, 'b2').map((h) => h.headers['x-stagger-attempt'])).toEqual(['1', '2', '3']);
      for (const u of users.filter((x) => x !== 'b2')) expect(hits(b, u)).toHaveLength(1);
    } finally {
      behaviour.delete('b2');
    }
  });

  it('a batch delivered four times at once runs each job once', async () => {
    for (const u of users) behaviour.set(u, () => new Promise<number>((r) => setTimeout(() => r(200), 150)));
    try {
      const b = batchOf('slowish', 'p-four', Date.now() - 500, 10);
      const body = JSON.stringify(b);
      const replies = await Promise.all(
        [0, 1, 2, 3].map((retried) =>
          deliverSigned(stack, '/internal/jobs', body, { messageId: 'msg_four', retried }),
        ),
      );
      for (const r of replies) expect(r.status).toBe(200);
      const tallies = (await Promise.all(replies.map((r) => r.json()))) as { handedOn: number }[];
      const handedOn = tallies.reduce((n, t) => n + t.handedOn, 0);
      await allIn(b, 'succeeded');
      // Copies that found a job running handed it on; those messages come back after the run and find it done.
      await waitFor(
        async () => ((await metric('slowish:duplicate')) >= handedOn ? true : undefined),
        20_000,
        `${handedOn} handed-on copies delivered`,
      );
      for (const u of users) expect(hits(b, u)).toHaveLength(1);
      // Three more deliveries of the settled batch: every job a duplicate, nothing called.
      for (const retried of [4, 5, 6]) {
        const r = await deliverSigned(stack, '/internal/jobs', body, { messageId: 'msg_four', retried });
        expect(await r.json()).toMatchObject({ outcome: 'batch', duplicate: 6, succeeded: 0 });
      }
      for (const u of users) expect(hits(b, u)).toHaveLength(1);
    } finally {
      behaviour.clear();
    }
  });

  it('a job refused by its target is dead-lettered from the batch and replays on its own', async () => {
    behaviour.set('b4', () => 400);
    const b = batchOf('batched', 'p-replay', Date.now() - 200, 10);
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(b));
    expect(await res.json()).toMatchObject({ outcome: 'batch', succeeded: 5, dead: 1 });
    const id = jobIdOf(b, 'b4');
    const dl = await deadLetter(id);
    expect(dl).toMatchObject({ attempts: 1, lastStatus: 400, reason: 'permanent' });
    behaviour.delete('b4');
    const replay = await stack.admin(`/v1/dead-letters/${encodeURIComponent(id)}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    await allIn(b, 'succeeded', ['b4']);
    expect(hits(b, 'b4')).toHaveLength(2);
    expect(await jobHash(stack, id)).toMatchObject({ origin: 'replay', replays: 1 });
    expect(await stack.redis.zscore(keys().deadLetters, id)).toBeNull();
  });

  it('answers a malformed batch with a non-retryable 489 naming the field, and writes nothing', async () => {
    const before = await stack.redis.hgetall(keys().metrics);
    const b = batchOf('batched', 'p-bad', Date.now(), 10);
    const bad = { ...b, jobs: [b.jobs[0], { userId: 'no spaces', notBefore: 1 }, b.jobs[0]] };
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(bad));
    expect(res.status).toBe(489);
    const err = (await res.json()) as { error: { details: { path: string }[] } };
    expect(err.error.details.map((d) => d.path)).toContain('body.jobs[1].userId');
    expect(await stack.redis.hgetall(keys().metrics)).toEqual(before);
    expect(await stack.redis.exists(keys().job(jobIdOf(b, 'b1')))).toBe(0);
  });
});

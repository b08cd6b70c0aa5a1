// The worker end to end against the local stack: exactly-once execution, retries, permanent failures, signatures, skips.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogFileSync } from '../../lib/catalog-file.js';
import { logger } from '../../lib/log.js';
import { keysFor } from '../../lib/store/keys.js';
import { JobStore } from '../../lib/worker/job-store.js';
import { runDelivery } from '../../lib/worker/run-delivery.js';
import { startStack, TEST_KEYS, waitFor, type TestStack } from '../helpers/stack.js';
import {
  deliverSigned,
  hitsOf,
  jobHash,
  jobMessage,
  publishJob,
  seedUser,
  signQStash,
  writeCatalog,
} from '../helpers/worker-fixtures.js';

/** Per task id: the status the target answers to the n-th request of a path (default 200), optionally after a delay. */
const behaviour = new Map<string, (n: number) => number | Promise<number>>();
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: TestStack;
let catalogPath: string;
const keys = () => keysFor(stack.prefix);

beforeAll(async () => {
  const catalog = (catalogPath = writeCatalog({ global: '1000/1s' }, [
    { id: 'ping', timeoutMs: 1000 },
    { id: 'flaky', retries: 3 },
    { id: 'slow', timeoutMs: 2000 },
    { id: 'gone', retries: 3 },
    { id: 'sleepy', retries: 1, timeoutMs: 300 },
    { id: 'paused_task' },
    { id: 'off', enabled: false },
    { id: 'headed', retries: 3, headers: { 'x-note': 'note {{note}}' } },
  ]));
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog },
    target: {
      respond: (hit, n) => {
        const task = hit.path.split('/')[2] ?? '';
        return behaviour.get(task)?.(n) ?? 200;
      },
    },
  });
  const p = { note: '-' };
  await seedUser(stack, 'alice', {
    ping: { note: 'hi' },
    flaky: p,
    slow: p,
    gone: p,
    sleepy: p,
    paused_task: p,
    off: p,
  });
  await seedUser(stack, 'bob', { flaky: p });
  // Written past the admin API's checks (as data stored before them): a NUL for a header.
  await seedUser(stack, 'dora', { headed: { note: 'a\u0000b' } });
});

afterAll(async () => {
  await stack?.stop();
});

const metric = async (field: string) => Number((await stack.redis.hget(keys().metrics, field)) ?? 0);

async function settled(jobId: string, state: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const h = await jobHash(stack, jobId);
      return h['state'] === state ? h : undefined;
    },
    timeoutMs,
    `${jobId} ${state}`,
  );
}

describe('worker: exactly once', () => {
  it('runs a published job once with its params, idempotency key and attempt headers', async () => {
    const m = jobMessage('ping', 'alice', 'p-basic');
    await publishJob(stack, m);
    const job = await settled(m.jobId, 'succeeded');
    expect(job['attempts']).toBe(1);
    const hits = hitsOf(stack, 'ping', 'alice', 'p-basic');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.headers['idempotency-key']).toBe(m.jobId);
    expect(hits[0]!.headers['x-stagger-job-id']).toBe(m.jobId);
    expect(hits[0]!.headers['x-stagger-attempt']).toBe('1');
    expect(JSON.parse(hits[0]!.body)).toEqual({ user: 'alice', note: 'hi' });
  });

  it('does not call the target twice when QStash delivers the same job three times', async () => {
    const m = jobMessage('ping', 'alice', 'p-thrice');
    const before = await metric('ping:duplicate');
    // Distinct deduplication ids, so the broker really delivers three messages.
    await Promise.all([1, 2, 3].map((i) => publishJob(stack, m, { dedupId: `${m.jobId}:copy${i}` })));
    await settled(m.jobId, 'succeeded');
    await waitFor(
      async () => ((await metric('ping:duplicate')) - before >= 2 ? true : undefined),
      15_000,
      'two duplicates',
    );
    expect(hitsOf(stack, 'ping', 'alice', 'p-thrice')).toHaveLength(1);
    expect((await jobHash(stack, m.jobId))['attempts']).toBe(1);
  });

  it('lets exactly one of many concurrent deliveries run the job; the rest are not acknowledged while it runs', async () => {
    behaviour.set('slow', () => delay(300).then(() => 200));
    const m = jobMessage('slow', 'alice', 'p-concurrent');
    const body = JSON.stringify(m);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => deliverSigned(stack, '/internal/jobs', body)),
    );
    const outcomes = await Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        body: (await r.json()) as { outcome: string; reason?: string },
      })),
    );
    expect(outcomes.filter((o) => o.status === 200 && o.body.outcome === 'succeeded')).toHaveLength(1);
    // Busy deliveries answer 503 with Retry-After: if the running attempt fails, their retry brings the job back.
    for (const o of outcomes.filter((x) => x.body.outcome !== 'succeeded')) {
      expect([o.status, o.body.reason ?? o.body.outcome]).toEqual([503, 'running']);
    }
    expect(hitsOf(stack, 'slow', 'alice', 'p-concurrent')).toHaveLength(1);
    const again = await deliverSigned(stack, '/internal/jobs', body);
    expect([again.status, ((await again.json()) as { outcome: string }).outcome]).toEqual([200, 'duplicate']);
    expect(hitsOf(stack, 'slow', 'alice', 'p-concurrent')).toHaveLength(1);
  });
});

describe('worker: failures', () => {
  it('ends a target that fails three times then succeeds as succeeded with attempts 4', async () => {
    behaviour.set('flaky', (n) => (n <= 3 ? 500 : 200));
    const m = jobMessage('flaky', 'alice', 'p-flaky');
    await publishJob(stack, m, { retries: 3 });
    const job = await settled(m.jobId, 'succeeded');
    expect(job['attempts']).toBe(4);
    expect(job['lastError']).toBeUndefined();
    expect(hitsOf(stack, 'flaky', 'alice', 'p-flaky').map((h) => h.headers['x-stagger-attempt'])).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
    const runs = await stack.admin('/v1/users/alice/runs?taskId=flaky');
    const { items } = (await runs.json()) as {
      items: { outcome: string; status: number; attempt: number }[];
    };
    expect(items.map((r) => [r.attempt, r.outcome, r.status])).toEqual([
      [4, 'succeeded', 200],
      [3, 'failed', 500],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
  });

  it('does not retry a permanent 4xx and dead-letters it with the status at once', async () => {
    behaviour.set('gone', () => 404);
    const m = jobMessage('gone', 'alice', 'p-gone');
    await publishJob(stack, m, { retries: 3 });
    // The failure callback (after the 489) is the last event: wait for it, then count calls.
    const dl = await waitFor(async () => {
      const h = await stack.redis.hgetall<Record<string, unknown>>(keys().deadLetter(m.jobId));
      return h?.['qstashMessageId'] ? h : undefined;
    });
    expect(dl['reason']).toBe('permanent');
    expect(dl['lastStatus']).toBe(404);
    expect(String(dl['lastError'])).toMatch(/^HTTP 404/);
    expect(hitsOf(stack, 'gone', 'alice', 'p-gone')).toHaveLength(1);
    const job = await jobHash(stack, m.jobId);
    expect([job['state'], job['attempts']]).toEqual(['dead', 1]);
  });

  it('dead-letters at once, without retries or a call, a job whose params cannot be sent as a header', async () => {
    const m = jobMessage('headed', 'dora', 'p-header');
    await publishJob(stack, m, { retries: 3 });
    const dl = await waitFor(async () => {
      const h = await stack.redis.hgetall<Record<string, unknown>>(keys().deadLetter(m.jobId));
      return h?.['qstashMessageId'] ? h : undefined;
    });
    expect(dl['reason']).toBe('permanent');
    expect(String(dl['lastError'])).toMatch(/target not rendered \(headers.x-note\)/);
    expect(hitsOf(stack, 'headed', 'dora', 'p-header')).toHaveLength(0);
    const job = await jobHash(stack, m.jobId);
    expect([job['state'], job['attempts']]).toEqual(['dead', 1]);
  });

  it('treats a target timeout as retryable and records it', async () => {
    behaviour.set('sleepy', () => delay(1000).then(() => 200));
    const m = jobMessage('sleepy', 'alice', 'p-sleepy');
    await publishJob(stack, m, { retries: 1 });
    const dl = await waitFor(async () => {
      const h = await stack.redis.hgetall<Record<string, unknown>>(keys().deadLetter(m.jobId));
      return h?.['jobId'] ? h : undefined;
    });
    expect(dl['reason']).toBe('retries_exhausted');
    expect(dl['lastError']).toBe('timed out after 300 ms');
    expect(dl['attempts']).toBe(2);
  });
});

describe('worker: signatures and bad input write nothing', () => {
  const m = jobMessage('ping', 'alice', 'p-forged');
  const body = JSON.stringify(m);

  async function nothingWritten(before: Record<string, unknown> | null) {
    expect(await stack.redis.exists(keys().job(m.jobId))).toBe(0);
    expect(await stack.redis.hgetall(keys().metrics)).toEqual(before);
    expect(hitsOf(stack, 'ping', 'alice', 'p-forged')).toHaveLength(0);
  }

  it.each([
    ['no signature', { signature: null }],
    ['a signature made with a wrong key', { key: 'sig_someone_else' }],
    ['a tampered body', { signedBody: JSON.stringify({ ...m, userId: 'bob' }) }],
    ['a signature for another URL', { signedUrl: 'http://127.0.0.1:1/internal/jobs' }],
    ['a signature for the failure callback URL', { signedUrl: 'FAILURES' }],
    [
      'an expired signature',
      {
        signature: signQStash({
          url: 'JOBS',
          body,
          nowS: Math.floor(Date.now() / 1000) - 900,
          expS: Math.floor(Date.now() / 1000) - 600,
        }),
      },
    ],
  ] as const)('refuses %s with 401 before any work', async (_name, opts) => {
    const before = await stack.redis.hgetall(keys().metrics);
    const o: Parameters<typeof deliverSigned>[3] = { ...opts };
    if (o.signedUrl === 'FAILURES') o.signedUrl = `${stack.api.url}/internal/failures`;
    if (typeof o.signature === 'string')
      o.signature = signQStash({
        url: `${stack.api.url}/internal/jobs`,
        body,
        nowS: Math.floor(Date.now() / 1000) - 900,
        expS: Math.floor(Date.now() / 1000) - 600,
      });
    const res = await deliverSigned(stack, '/internal/jobs', body, o);
    expect(res.status).toBe(401);
    await nothingWritten(before);
  });

  it('accepts the next signing key (key rotation)', async () => {
    const n = jobMessage('ping', 'alice', 'p-next-key');
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(n), {
      key: TEST_KEYS.nextSigningKey,
    });
    expect(res.status).toBe(200);
    expect(hitsOf(stack, 'ping', 'alice', 'p-next-key')).toHaveLength(1);
  });

  it('refuses an unsigned failure callback with 401 and stores no dead letter', async () => {
    const res = await deliverSigned(
      stack,
      '/internal/failures',
      JSON.stringify({
        status: 500,
        sourceMessageId: 'msg_x',
        sourceBody: Buffer.from(body).toString('base64'),
      }),
      {
        key: 'sig_someone_else',
      },
    );
    expect(res.status).toBe(401);
    expect(await stack.redis.exists(keys().deadLetter(m.jobId))).toBe(0);
  });

  it("refuses a validly signed job whose id names another user's job with a non-retryable 489 naming jobId", async () => {
    const before = await stack.redis.hgetall(keys().metrics);
    const other = jobMessage('ping', 'bob', 'p-forged');
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify({ ...m, jobId: other.jobId }));
    expect(res.status).toBe(489);
    const err = (await res.json()) as { error: { details: { path: string }[] } };
    expect(err.error.details.map((d) => d.path)).toEqual(['body.jobId']);
    await nothingWritten(before);
    expect(await stack.redis.exists(keys().job(other.jobId))).toBe(0);
  });

  it('answers a signed but malformed job with a non-retryable 489 naming the field, and writes nothing', async () => {
    const before = await stack.redis.hgetall(keys().metrics);
    const res = await deliverSigned(
      stack,
      '/internal/jobs',
      JSON.stringify({ ...m, jobId: 'not-a-job-id', notBefore: 'soon' }),
    );
    expect(res.status).toBe(489);
    expect(res.headers.get('upstash-nonretryable-error')).toBe('true');
    const err = (await res.json()) as { error: { details: { path: string }[] } };
    expect(err.error.details.map((d) => d.path).sort()).toEqual(['body.jobId', 'body.notBefore']);
    await nothingWritten(before);
  });
});

describe('worker: fuzzed signed bodies', () => {
  it('answers any signed body with 200 or a non-retryable 489, never a 5xx QStash would retry forever', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              v: fc.constant(1),
              jobId: fc.string(),
              taskId: fc.string(),
              userId: fc.string(),
              periodKey: fc.string(),
              notBefore: fc.integer(),
              origin: fc.string(),
            },
            { requiredKeys: [] },
          ),
          fc.string(),
        ),
        async (value) => {
          const body = typeof value === 'string' ? value : JSON.stringify(value);
          const res = await deliverSigned(stack, '/internal/jobs', body ?? 'null');
          expect([200, 489]).toContain(res.status);
          if (res.status === 489) expect(res.headers.get('upstash-nonretryable-error')).toBe('true');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('worker: jobs that must not run', () => {
  it.each([
    ['the user no longer has the task', 'bob', 'ping', 'task_not_enabled'],
    ['the user does not exist', 'carol', 'ping', 'user_unknown'],
    ['the task type is disabled in the catalog', 'alice', 'off', 'task_disabled'],
    ['the task type is unknown to the catalog', 'alice', 'vanished', 'task_unknown'],
  ])('acknowledges and records skipped when %s', async (_name, user, task, reason) => {
    const m = jobMessage(task, user, 'p-skip');
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(m));
    expect([res.status, await res.json()]).toEqual([200, { outcome: 'skipped', reason }]);
    const job = await jobHash(stack, m.jobId);
    expect([job['state'], job['skipReason']]).toEqual(['skipped', reason]);
    expect(hitsOf(stack, task, user, 'p-skip')).toHaveLength(0);
  });

  it('skips a paused task type', async () => {
    await stack.redis.sadd(keys().pausedTasks, 'paused_task');
    const m = jobMessage('paused_task', 'alice', 'p-paused');
    const res = await deliverSigned(stack, '/internal/jobs', JSON.stringify(m));
    expect(await res.json()).toEqual({ outcome: 'skipped', reason: 'task_paused' });
    expect(hitsOf(stack, 'paused_task', 'alice', 'p-paused')).toHaveLength(0);
  });

  it('never calls the target before notBefore: a slightly early delivery waits, an early one is re-published', async () => {
    const soon = jobMessage('ping', 'alice', 'p-soon', { notBefore: Date.now() + 700 });
    const r1 = await deliverSigned(stack, '/internal/jobs', JSON.stringify(soon));
    expect(((await r1.json()) as { outcome: string }).outcome).toBe('succeeded');
    expect(hitsOf(stack, 'ping', 'alice', 'p-soon')[0]!.at).toBeGreaterThanOrEqual(soon.notBefore);

    const later = jobMessage('ping', 'alice', 'p-later', { notBefore: Date.now() + 3000 });
    const r2 = await deliverSigned(stack, '/internal/jobs', JSON.stringify(later));
    expect(await r2.json()).toEqual({ outcome: 'rescheduled' });
    expect(hitsOf(stack, 'ping', 'alice', 'p-later')).toHaveLength(0);
    await settled(later.jobId, 'succeeded');
    expect(hitsOf(stack, 'ping', 'alice', 'p-later')[0]!.at).toBeGreaterThanOrEqual(later.notBefore);
  });
});

describe('operator reads', () => {
  it('runs a task now under its own manual job id and shows it in the job and run history', async () => {
    const res = await stack.admin('/v1/users/alice/tasks/ping/run', { method: 'POST' });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    expect(jobId).toMatch(/^ping:alice:manual-[0-9a-z]{16}$/);
    const job = await waitFor(async () => {
      const r = await stack.admin(`/v1/jobs/${encodeURIComponent(jobId)}`);
      const j = (await r.json()) as {
        state: string;
        attempts: number;
        origin: string;
        lastStatus: number;
        plannedAt: string;
      };
      return j.state === 'succeeded' ? j : undefined;
    });
    expect(job).toMatchObject({ attempts: 1, origin: 'manual', lastStatus: 200 });
    const runs = (await (await stack.admin('/v1/users/alice/runs?limit=50')).json()) as {
      items: { jobId: string }[];
    };
    expect(runs.items.map((r) => r.jobId)).toContain(jobId);
  });

  it.each([
    ['an unknown job', '/v1/jobs/ping:alice:never', 'GET', 404],
    ['run-now for an unknown user', '/v1/users/nobody/tasks/ping/run', 'POST', 404],
    ['run-now for a task the user has not enabled', '/v1/users/bob/tasks/ping/run', 'POST', 404],
    ['runs of an unknown user', '/v1/users/nobody/runs', 'GET', 404],
    ['a malformed job id', '/v1/jobs/nocolons', 'GET', 400],
    ['a runs limit above the history cap', '/v1/users/alice/runs?limit=51', 'GET', 400],
  ])('answers %s with %s', async (_name, path, method, status) => {
    const res = await stack.admin(path, { method });
    expect(res.status).toBe(status);
  });

  it('refuses operator routes without the admin key', async () => {
    const res = await fetch(`${stack.api.url}/v1/dead-letters`);
    expect(res.status).toBe(401);
  });
});

describe('cost', () => {
  it('spends two Redis round trips and one target call on a job that runs, one round trip on a duplicate', async () => {
    const calls: string[] = [];
    // Every client call is one REST request (auto-pipelining may merge concurrent ones, never split one).
    const counted = new Proxy(stack.redis, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const published: unknown[] = [];
    const deps = {
      store: new JobStore(counted, keys()),
      publisher: { publish: async (m: unknown) => (published.push(m), 'msg') },
      catalog: loadCatalogFileSync(catalogPath, process.env),
      log: () => logger,
    };
    // Scripts are cached server-wide after their first EVAL: warm them as any earlier job would have.
    await runDelivery(deps, {
      message: jobMessage('ping', 'alice', 'p-cost-warm'),
      messageId: 'msg_warm',
      retried: 0,
    });
    calls.length = 0;
    const m = jobMessage('ping', 'alice', 'p-cost');
    const verdict = await runDelivery(deps, { message: m, messageId: 'msg_cost', retried: 0 });
    expect(verdict).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    expect(calls).toEqual(['evalsha', 'evalsha']);
    expect(hitsOf(stack, 'ping', 'alice', 'p-cost')).toHaveLength(1);
    calls.length = 0;
    expect(await runDelivery(deps, { message: m, messageId: 'msg_cost2', retried: 0 })).toMatchObject({
      outcome: 'duplicate',
    });
    expect(calls).toEqual(['evalsha']);
    expect(published).toEqual([]);
  });
});

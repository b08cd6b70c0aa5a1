// The worker's decisions per delivery, with a fake store, publisher and clock: deferral ids and budget, timing, verdicts.
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../lib/domain/catalog.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { logger } from '../../lib/log.js';
import type { RecordInput, StartInput, StartResult } from '../../lib/worker/job-store.js';
import type { PublishOptions } from '../../lib/publishing/qstash-publisher.js';
import {
  runDelivery,
  templateParams,
  WORKER_POLICY,
  type WorkerDeps,
} from '../../lib/worker/run-delivery.js';
import { verdictResult } from '../../lib/worker/qstash-edge.js';

const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);
const catalog = parseCatalog(`
version: 1
allowedHosts: [api.example.com]
rateLimits:
  global: { limit: 10, window: 1s }
  billing: { limit: 2, window: 1s }
tasks:
  - id: invoice
    description: d
    schedule: { every: hour }
    zone: { policy: fixed, tz: UTC }
    spread: 10m
    target: { method: POST, url: 'https://api.example.com/invoice/{{userId}}', body: { n: '{{n}}' } }
    timeoutMs: 5000
    retries: 5
    rateLimits: [billing]
`);

const message = (over: Partial<JobMessage> = {}): JobMessage => ({
  v: 1,
  jobId: 'invoice:u1:2026-11-30T08',
  taskId: 'invoice',
  userId: 'u1',
  periodKey: '2026-11-30T08',
  notBefore: NOW - 1000,
  origin: 'scheduled',
  backfilled: false,
  deferrals: 0,
  ...over,
});

function harness(
  start: StartResult,
  opts: { fetch?: typeof fetch; guardMs?: number; clockAfterStart?: number } = {},
) {
  let now = NOW;
  const starts: StartInput[] = [];
  const records: RecordInput[] = [];
  const published: { message: JobMessage; opts: PublishOptions }[] = [];
  const releases: number[] = [];
  const deps: WorkerDeps = {
    store: {
      rateGuardMs: opts.guardMs ?? 250,
      start: async (input) => {
        starts.push(input);
        if (opts.clockAfterStart !== undefined) now = opts.clockAfterStart;
        return start;
      },
      record: async (input) => (records.push(input), true),
      release: async (_m, attempt) => (releases.push(attempt), { deferrals: 3, replays: 0 }),
    },
    publisher: { publish: async (m, o) => (published.push({ message: m, opts: o }), 'msg_new') },
    catalog,
    log: () => logger,
    clock: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      now += ms;
    },
    fetch: opts.fetch ?? (async () => new Response(null, { status: 200 })),
  };
  return { deps, starts, records, published, releases, now: () => now };
}

describe('runDelivery', () => {
  it('checks the global limit first, then the task limits, with a lease of timeout plus margin', async () => {
    const h = harness({ kind: 'claimed', attempt: 1, params: '{"n":3}', admittedAt: NOW });
    await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(h.starts[0]!.limits.map((l) => [l.name, l.limit, l.windowMs])).toEqual([
      ['global', 10, 1000],
      ['billing', 2, 1000],
    ]);
    expect(h.starts[0]!.leaseMs).toBe(5000 + 2000);
  });

  it('defers a denied job: re-published for its slot with the next deduplication id and the retries it has left', async () => {
    const h = harness({ kind: 'denied', retryAt: NOW + 800, limit: 'billing', deferrals: 1, replays: 0 });
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 2 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'deferred' });
    expect(verdictResult(v).statusCode).toBe(200);
    const p = h.published[0]!;
    // Jitter within one slot of the refusing limit: (1000 + 250) / 2 * 0.5.
    expect(p.opts).toEqual({
      deduplicationId: 'invoice:u1:2026-11-30T08:d1',
      notBeforeMs: NOW + 800 + 313,
      retries: 3,
    });
    expect(p.message).toMatchObject({ deferrals: 1, notBefore: NOW + 800 + 313, origin: 'scheduled' });
    expect(h.records).toEqual([]);
  });

  it('keeps deduplication ids of a replayed job apart from its earlier life', async () => {
    const h = harness({ kind: 'denied', retryAt: NOW, limit: 'billing', deferrals: 1, replays: 2 });
    await runDelivery(h.deps, {
      message: message({ origin: 'replay', deferrals: 4 }),
      messageId: 'm1',
      retried: 0,
    });
    expect(h.published[0]!.opts.deduplicationId).toBe('invoice:u1:2026-11-30T08:g2:d5');
  });

  it('fails the attempt (5xx, QStash retries) once the deferral budget is spent, instead of deferring forever', async () => {
    const h = harness({ kind: 'denied', retryAt: NOW + 4000, limit: 'global', deferrals: 51, replays: 0 });
    const v = await runDelivery(h.deps, {
      message: message({ deferrals: WORKER_POLICY.maxDeferrals }),
      messageId: 'm1',
      retried: 0,
    });
    expect(v).toEqual({ kind: 'retry', reason: 'rate_limited', retryAfterMs: 4000 });
    const res = verdictResult(v);
    expect([res.statusCode, res.headers?.['Retry-After']]).toEqual([503, '4']);
    expect(h.published).toEqual([]);
  });

  it('gives a claim back and defers when the call would leave more than half the guard after admission', async () => {
    let called = false;
    const h = harness(
      { kind: 'claimed', attempt: 4, params: '{"n":1}', admittedAt: NOW },
      { guardMs: 250, clockAfterStart: NOW + 200, fetch: async () => ((called = true), new Response(null)) },
    );
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'deferred' });
    expect([h.releases, called, h.records]).toEqual([[4], false, []]);
  });

  it('never calls the target before notBefore: waits out a second, re-publishes anything earlier', async () => {
    const soon = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW + 900 });
    await runDelivery(soon.deps, { message: message({ notBefore: NOW + 900 }), messageId: 'm1', retried: 0 });
    expect(soon.starts[0]!.now).toBe(NOW + 900);

    const early = harness({ kind: 'claimed', attempt: 1, params: '{}', admittedAt: NOW });
    const v = await runDelivery(early.deps, {
      message: message({ notBefore: NOW + 60_000 }),
      messageId: 'm7',
      retried: 1,
    });
    expect(v).toEqual({ kind: 'ack', outcome: 'rescheduled' });
    expect(early.starts).toEqual([]);
    expect(early.published[0]!.opts).toEqual({
      deduplicationId: 'invoice:u1:2026-11-30T08:early:m7',
      notBeforeMs: NOW + 60_000,
      retries: 4,
    });
  });

  it('answers a busy job with 503 and Retry-After, so the delivery survives if the running attempt fails', async () => {
    const h = harness({ kind: 'busy', leaseUntil: NOW + 6500 });
    const res = verdictResult(await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 }));
    expect([res.statusCode, res.headers?.['Retry-After']]).toEqual([503, '7']);
  });

  it('dead-letters a job whose params cannot fill the target, and tells QStash not to retry (489)', async () => {
    const h = harness({ kind: 'claimed', attempt: 1, params: '{}', admittedAt: NOW });
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(h.records[0]).toMatchObject({ outcome: 'dead', status: 0, deadReason: 'permanent' });
    expect(h.records[0]!.error).toMatch(/Missing template param "n"/);
    const res = verdictResult(v);
    expect([res.statusCode, res.headers?.['Upstash-NonRetryable-Error']]).toEqual([489, 'true']);
  });

  it('waits out a short Redis outage to record a call the target accepted, instead of having it called again', async () => {
    let calls = 0;
    const h = harness(
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW },
      { fetch: async () => (calls++, new Response(null, { status: 200 })) },
    );
    let failures = 2;
    const record = h.deps.store.record;
    h.deps.store.record = async (input) => {
      if (failures-- > 0) throw new Error('ERR the bridge could not reach Redis');
      return record(input);
    };
    const verdict = await runDelivery(h.deps, {
      message: message(),
      messageId: 'm1',
      retried: 0,
      deadline: NOW + 30_000,
    });
    expect(verdict).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    expect(calls).toBe(1);
    expect(h.records.map((r) => r.outcome)).toEqual(['succeeded']);
    // It gives up (QStash retries the delivery) only when the invocation's time runs out.
    const late = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW });
    late.deps.store.record = async () => {
      throw new Error('ERR the bridge could not reach Redis');
    };
    await expect(
      runDelivery(late.deps, { message: message(), messageId: 'm2', retried: 0, deadline: NOW + 12_000 }),
    ).rejects.toThrow(/could not reach Redis/);
    expect(late.now()).toBeLessThanOrEqual(NOW + 12_000);
  });

  it('caps the call at the time the invocation has left', async () => {
    let signal: AbortSignal | undefined;
    const h = harness(
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW },
      { fetch: async (_u, init) => ((signal = init?.signal ?? undefined), new Response(null)) },
    );
    await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0, deadline: NOW + 3000 });
    expect(h.starts[0]!.leaseMs).toBe(1000 + 2000);
    expect(signal).toBeDefined();
    const none = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW });
    expect(
      await runDelivery(none.deps, { message: message(), messageId: 'm1', retried: 0, deadline: NOW + 1500 }),
    ).toEqual({
      kind: 'retry',
      reason: 'no_time_left',
    });
  });
});

describe('templateParams', () => {
  it("lets the job's identity win over a param of the same name", () => {
    const p = templateParams('{"userId":"mallory","n":2,"flag":true,"nested":{"x":1}}', message());
    expect(p).toEqual({
      userId: 'u1',
      n: 2,
      flag: 'true',
      taskId: 'invoice',
      periodKey: '2026-11-30T08',
      jobId: 'invoice:u1:2026-11-30T08',
    });
  });
});

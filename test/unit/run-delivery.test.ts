// The worker's decisions per delivery, with a fake store, publisher and clock: deferral ids and budget, timing, verdicts.
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../lib/domain/catalog.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { CONFIG_DEFAULTS } from '../../lib/config.js';
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
import { ScriptClock } from '../../lib/worker/script-clock.js';

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

function harness(start: StartResult, opts: { fetch?: typeof fetch; guardMs?: number } = {}) {
  let now = NOW;
  const starts: StartInput[] = [];
  const records: RecordInput[] = [];
  const published: { message: JobMessage; opts: PublishOptions }[] = [];
  const releases: number[] = [];
  const releasedLimits: string[][] = [];
  const deps: WorkerDeps = {
    store: {
      rateGuardMs: opts.guardMs ?? 250,
      start: async (input) => {
        starts.push(input);
        return start;
      },
      record: async (input) => (records.push(input), true),
      release: async (_m, attempt, _now, limits) => {
        releases.push(attempt);
        releasedLimits.push(limits.map((l) => l.name));
        return { deferrals: 3, replays: 0 };
      },
    },
    publisher: { publish: async (m, o) => (published.push({ message: m, opts: o }), 'msg_new') },
    catalog,
    log: () => logger,
    scriptClock: new ScriptClock(),
    clock: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      now += ms;
    },
    fetch: opts.fetch ?? (async () => new Response(null, { status: 200 })),
  };
  return {
    deps,
    starts,
    records,
    published,
    releases,
    releasedLimits,
    result: start,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('runDelivery', () => {
  it('checks the global limit first, then the task limits, with a lease of timeout plus margin', async () => {
    const h = harness({ kind: 'claimed', attempt: 1, params: '{"n":3}', admittedAt: NOW, waitMs: 0 });
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

  it('gives a late claim and its reservation back and reserves again; defers once the restarts are spent', async () => {
    let calls = 0;
    // Every start's reply comes 200 ms after it was sent: each reservation is missed by more than half the guard.
    const h = harness(
      { kind: 'claimed', attempt: 4, params: '{"n":1}', admittedAt: NOW, waitMs: 0 },
      { guardMs: 250, fetch: async () => (calls++, new Response(null)) },
    );
    h.deps.store.start = async (input) => (h.starts.push(input), h.advance(200), h.result);
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'deferred' });
    expect(h.starts).toHaveLength(1 + WORKER_POLICY.lateRestarts);
    expect([h.releases, calls, h.records]).toEqual([
      Array.from({ length: 1 + WORKER_POLICY.lateRestarts }, () => 4),
      0,
      [],
    ]);
    // The reservation leaves the limits it was written to.
    expect(h.releasedLimits[0]).toEqual(['global', 'billing']);
  });

  it('calls on a fresh reservation after one late wake-up', async () => {
    let calledAt: number | undefined;
    const h = harness(
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW + 40, waitMs: 40 },
      { guardMs: 25, fetch: async () => ((calledAt = h.now()), new Response(null)) },
    );
    // The first wake-up is 13 ms late (over 12.5, half the guard); the next reservation is immediate.
    const sleeps: number[] = [];
    h.deps.sleep = async (ms) => (sleeps.push(ms), h.advance(sleeps.length === 1 ? ms + 13 : ms));
    const first = h.result;
    h.deps.store.start = async (input) => {
      h.starts.push(input);
      return h.starts.length === 1 ? first : { ...first, admittedAt: input.now, waitMs: 0 };
    };
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    expect([sleeps, h.releases, h.starts.map((s) => s.now)]).toEqual([[40], [1], [NOW, NOW + 53]]);
    expect(calledAt).toBe(NOW + 53);
  });

  it('waits exactly the reserved wait from the reply, then calls', async () => {
    let calledAt: number | undefined;
    const h = harness(
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW + 1234.5, waitMs: 1234.5 },
      { fetch: async () => ((calledAt = h.now()), new Response(null)) },
    );
    const sleeps: number[] = [];
    h.deps.sleep = async (ms) => (sleeps.push(ms), h.advance(ms));
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    // Rounded up, never down: a call must not leave before its reserved instant.
    expect(sleeps).toEqual([1235]);
    expect(calledAt).toBe(NOW + 1235);
    expect(h.releases).toEqual([]);
  });

  it('places the reservation on its own clock whatever the skew: a slow reply is neither late nor sent early', async () => {
    // The server clock is 5 s ahead. The first start's round trip is instant (the offset is then known exactly);
    // the second's reply takes 40 ms, then a reservation 100 ms after the script ran is due 60 ms after the reply.
    const SKEW = 5000;
    let calledAt: number | undefined;
    const h = harness(
      { kind: 'duplicate', state: 'x' },
      { guardMs: 25, fetch: async () => ((calledAt = h.now()), new Response(null)) },
    );
    const sleeps: number[] = [];
    h.deps.sleep = async (ms) => (sleeps.push(ms), h.advance(ms));
    h.deps.store.start = async (input) => {
      h.starts.push(input);
      h.advance(10);
      const serverAt = h.now() + SKEW;
      h.advance(30);
      return {
        kind: 'claimed',
        attempt: 1,
        params: '{"n":1}',
        admittedAt: serverAt + 100,
        waitMs: 100,
        serverAt,
      };
    };
    // An earlier instant round trip taught the clock the offset.
    h.deps.scriptClock!.observe(NOW - 1, NOW - 1, NOW - 1 + SKEW);
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(v).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    // Reserved at NOW + 10 + 100 on the local clock: 70 ms after the reply at NOW + 40, not 100 ms after it.
    expect([sleeps, calledAt, h.releases]).toEqual([[70], NOW + 110, []]);
    // The next start reserves ahead by the smoothed round trip: 0.2 of 40 ms after the instant one.
    expect(h.deps.scriptClock!.leadMs()).toBe(8);
  });

  it('reserves a round trip ahead only once round trips are long enough to make a wake-up late', async () => {
    const leads: number[] = [];
    const h = harness({ kind: 'duplicate', state: 'succeeded' }, { guardMs: 50 });
    const trips = [0, 40, 40, 40, 40];
    h.deps.store.start = async (input) => {
      leads.push(input.leadMs ?? -1);
      h.advance(trips[leads.length - 1]!);
      return { kind: 'duplicate', state: 'succeeded' };
    };
    for (let i = 0; i < trips.length; i++)
      await runDelivery(h.deps, { message: message(), messageId: `m${i}`, retried: 0 });
    // Smoothed round trips 0, 8, 14.4, 19.52: led by once past 12.5 ms (a quarter of the guard).
    expect(leads).toEqual([0, 0, 0, 15, 20]);
  });

  it('offers the store a wait budget bounded by the setting and by the deadline less the task timeout', async () => {
    const budget = async (deadline: number | undefined, maxWaitMs?: number) => {
      const h = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW, waitMs: 0 });
      if (maxWaitMs !== undefined) h.deps.maxWaitMs = maxWaitMs;
      await runDelivery(h.deps, {
        message: message(),
        messageId: 'm1',
        retried: 0,
        ...(deadline === undefined ? {} : { deadline }),
      });
      return h.starts[0]!.maxWaitMs;
    };
    // The task's timeout is 5 s and 2 s are kept for the record: a wait leaves both before the deadline.
    expect(await budget(undefined)).toBe(CONFIG_DEFAULTS.maxWaitMs);
    expect(await budget(NOW + 30_000, 4000)).toBe(4000);
    expect(await budget(NOW + 9_000, 4000)).toBe(2000);
    expect(await budget(NOW + 6_000, 4000)).toBe(0);
    expect(await budget(undefined, 0)).toBe(0);
  });

  it('waits for an instant within the budget and re-publishes only one beyond it (or beyond the deadline)', async () => {
    // A store that reserves the earliest free instant, NOW + 2500, when the budget allows it.
    const run = async (deadline: number | undefined) => {
      const h = harness({ kind: 'duplicate', state: 'x' });
      h.deps.maxWaitMs = 3000;
      h.deps.store.start = async (input) => {
        h.starts.push(input);
        const wait = NOW + 2500 - input.now;
        return wait <= (input.maxWaitMs ?? 0)
          ? { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW + 2500, waitMs: wait }
          : { kind: 'denied', retryAt: NOW + 2500, limit: 'billing', deferrals: 1, replays: 0 };
      };
      const v = await runDelivery(h.deps, {
        message: message(),
        messageId: 'm1',
        retried: 0,
        ...(deadline === undefined ? {} : { deadline }),
      });
      return { v, published: h.published.length, records: h.records.length, at: h.now() };
    };
    expect(await run(undefined)).toMatchObject({
      v: { kind: 'ack', outcome: 'succeeded' },
      published: 0,
      records: 1,
      at: NOW + 2500,
    });
    expect(await run(NOW + 30_000)).toMatchObject({ v: { outcome: 'succeeded' }, published: 0 });
    // 9 s left: 5 s of task timeout and 2 s of record reserve leave a 2 s budget; 2.5 s is deferred.
    expect(await run(NOW + 9_000)).toMatchObject({
      v: { kind: 'ack', outcome: 'deferred' },
      published: 1,
      records: 0,
      at: NOW,
    });
  });

  it('never calls the target before notBefore: waits out a second, re-publishes anything earlier', async () => {
    const soon = harness({
      kind: 'claimed',
      attempt: 1,
      params: '{"n":1}',
      admittedAt: NOW + 900,
      waitMs: 0,
    });
    await runDelivery(soon.deps, { message: message({ notBefore: NOW + 900 }), messageId: 'm1', retried: 0 });
    expect(soon.starts[0]!.now).toBe(NOW + 900);

    const early = harness({ kind: 'claimed', attempt: 1, params: '{}', admittedAt: NOW, waitMs: 0 });
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
    const h = harness({ kind: 'claimed', attempt: 1, params: '{}', admittedAt: NOW, waitMs: 0 });
    const v = await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0 });
    expect(h.records[0]).toMatchObject({ outcome: 'dead', status: 0, deadReason: 'permanent' });
    expect(h.records[0]!.error).toMatch(/Missing template param "n"/);
    const res = verdictResult(v);
    expect([res.statusCode, res.headers?.['Upstash-NonRetryable-Error']]).toEqual([489, 'true']);
  });

  it('waits out a short Redis outage to record a call the target accepted, instead of having it called again', async () => {
    let calls = 0;
    const h = harness(
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW, waitMs: 0 },
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
    const late = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW, waitMs: 0 });
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
      { kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW, waitMs: 0 },
      { fetch: async (_u, init) => ((signal = init?.signal ?? undefined), new Response(null)) },
    );
    await runDelivery(h.deps, { message: message(), messageId: 'm1', retried: 0, deadline: NOW + 3000 });
    expect(h.starts[0]!.leaseMs).toBe(1000 + 2000);
    expect(signal).toBeDefined();
    const none = harness({ kind: 'claimed', attempt: 1, params: '{"n":1}', admittedAt: NOW, waitMs: 0 });
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

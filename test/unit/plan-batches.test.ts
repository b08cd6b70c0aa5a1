// Grouping a page of a slot's jobs into batch messages (gap, span, size), the batch policy per task, and the cost
// model it follows, at fixed instants.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BATCH_MAX_JOBS, BatchMessage, jobsOfBatch } from '../../lib/domain/batch.js';
import { batchIdOf } from '../../lib/publishing/batch-id.js';
import { jobIdOf } from '../../lib/domain/ids.js';
import type { JobMessage } from '../../lib/domain/job.js';
import {
  PRICES,
  WORKER_MEMORY_MB,
  maxGapMs,
  messageUsd,
  waitUsdPerMs,
} from '../../lib/publishing/batch-cost.js';
import { isBatch } from '../../lib/domain/delivery.js';
import type { FanOutMessage } from '../../lib/publishing/qstash-publisher.js';
import {
  WORKER_BUDGET_MS,
  WORKER_TIMEOUT_MS,
  batchPolicyOf,
  planBatches,
  planPage,
  type BatchPolicy,
} from '../../lib/scheduler/plan-batches.js';
import { planJobs } from '../../lib/scheduler/plan-jobs.js';

const T0 = Date.parse('2030-01-01T10:00:00Z');
const policy: BatchPolicy = { maxSpanMs: 15_000, maxGapMs: 3_360, maxJobs: BATCH_MAX_JOBS };

function job(userId: string, notBefore: number, over: Partial<JobMessage> = {}): JobMessage {
  return {
    v: 1,
    jobId: jobIdOf('sync', userId, '2030-01-01T10'),
    taskId: 'sync',
    userId,
    periodKey: '2030-01-01T10',
    notBefore,
    origin: 'scheduled',
    backfilled: false,
    deferrals: 0,
    ...over,
  };
}

/** Jobs at T0 + each offset, users u0, u1, ... */
const at = (...offsets: number[]) => offsets.map((o, i) => job(`u${i}`, T0 + o));

/** A message's users, for comparing groupings. */
const usersOf = (m: FanOutMessage) => (isBatch(m) ? m.jobs.map((j) => j.userId) : [m.userId]);
const opened = (messages: FanOutMessage[]) => messages.flatMap((m) => (isBatch(m) ? jobsOfBatch(m) : [m]));

describe('planBatches', () => {
  it('groups consecutive jobs while the gap to the previous one is at most maxGapMs', () => {
    const out = planBatches(at(0, 3_360, 6_720, 10_081, 10_500), policy);
    expect(out.map(usersOf)).toEqual([
      ['u0', 'u1', 'u2'],
      ['u3', 'u4'],
    ]);
  });

  it('starts a new group once the span from its first job would pass maxSpanMs', () => {
    // 1 s apart: 0..15 s is 16 jobs, the 17th starts the next group.
    const out = planBatches(at(...Array.from({ length: 20 }, (_, i) => i * 1_000)), policy);
    expect(out.map((m) => usersOf(m).length)).toEqual([16, 4]);
    const first = out[0] as BatchMessage;
    expect(first.jobs.at(-1)!.notBefore - first.jobs[0]!.notBefore).toBe(15_000);
  });

  it('caps a group at maxJobs', () => {
    const out = planBatches(at(...Array.from({ length: 7 }, () => 0)), { ...policy, maxJobs: 3 });
    expect(out.map((m) => usersOf(m).length)).toEqual([3, 3, 1]);
  });

  it('leaves a group of one as a plain job message, equal to the job given', () => {
    const jobs = at(0, 10_000, 10_100, 20_000);
    const out = planBatches(jobs, policy);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual(jobs[0]);
    expect(isBatch(out[1]!)).toBe(true);
    expect(out[2]).toEqual(jobs[3]);
  });

  it('groups only scheduled jobs never deferred; others travel alone and split the group around them', () => {
    const jobs = [
      job('a', T0),
      job('b', T0 + 100),
      job('c', T0 + 200, { origin: 'manual' }),
      job('d', T0 + 300),
      job('e', T0 + 400, { deferrals: 1 }),
      job('f', T0 + 500),
      job('g', T0 + 600),
    ];
    const out = planBatches(jobs, policy);
    expect(out.map(usersOf)).toEqual([['a', 'b'], ['c'], ['d'], ['e'], ['f', 'g']]);
    expect(out[1]).toEqual(jobs[2]);
    expect(out[3]).toEqual(jobs[4]);
  });

  it('makes valid batch messages whose jobs open into the very job messages given, in order', () => {
    const jobs = at(0, 500, 1_000, 4_000).map((j) => ({ ...j, backfilled: true }));
    const out = planBatches(jobs, policy);
    expect(out).toHaveLength(1);
    const batch = BatchMessage.parse(out[0]);
    expect(batch).toMatchObject({
      kind: 'batch',
      taskId: 'sync',
      periodKey: '2030-01-01T10',
      backfilled: true,
    });
    expect(jobsOfBatch(batch)).toEqual(jobs);
  });

  it('is deterministic: the same jobs give the same groups and batch ids', () => {
    const jobs = planJobs(
      { taskId: 'sync', periodKey: 'P', startAt: T0, windowMs: 600_000, total: 1_200, backfilled: false },
      Array.from({ length: 500 }, (_, i) => `user-${i}`),
      0,
      T0,
      () => 0.5,
    );
    const ids = (ms: FanOutMessage[]) => ms.map((m) => (isBatch(m) ? batchIdOf(m) : m.jobId));
    expect(ids(planBatches(jobs, policy))).toEqual(ids(planBatches(structuredClone(jobs), policy)));
  });

  it('a dense lattice of N jobs yields ceil(N / jobs per span) messages; a sparse one, one message a job', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_500 }), fc.integer({ min: 1, max: 3_360 }), (n, strideMs) => {
        const jobs = at(...Array.from({ length: n }, (_, i) => i * strideMs));
        const perSpan = Math.min(BATCH_MAX_JOBS, Math.floor(policy.maxSpanMs / strideMs) + 1);
        const out = planBatches(jobs, policy);
        expect(out).toHaveLength(Math.ceil(n / perSpan));
        expect(opened(out)).toEqual(jobs);
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 3_361, max: 600_000 }),
        (n, strideMs) => {
          const jobs = at(...Array.from({ length: n }, (_, i) => i * strideMs));
          expect(planBatches(jobs, policy)).toEqual(jobs);
        },
      ),
    );
  });

  it('300 jobs over 60 s travel in 4 batches of at most 15 s each', () => {
    const slot = {
      taskId: 'sync',
      periodKey: 'P',
      startAt: T0,
      windowMs: 60_000,
      total: 300,
      backfilled: false,
    };
    const users = Array.from({ length: 300 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
    const out = planBatches(
      planJobs(slot, users, 0, T0, () => 0),
      policy,
    );
    // 200 ms apart: 76 jobs per 15 s.
    expect(out.map((m) => usersOf(m).length)).toEqual([76, 76, 76, 72]);
  });
});

describe('planPage', () => {
  const slot = {
    taskId: 'sync',
    periodKey: 'P',
    startAt: T0,
    windowMs: 60_000,
    total: 100,
    backfilled: false,
  };
  const users = Array.from({ length: 120 }, (_, i) => `user-${String(i).padStart(3, '0')}`);

  it('without a policy is exactly planJobs', () => {
    const draws = [0.1, 0.7, 0.3];
    const random = () => draws.shift() ?? 0.5;
    const again = [0.1, 0.7, 0.3];
    expect(planPage(slot, users.slice(0, 103), 0, T0, random, undefined)).toEqual(
      planJobs(slot, users.slice(0, 103), 0, T0, () => again.shift() ?? 0.5),
    );
  });

  it('groups on the planned times, so a page planned again later (clamped to a later now) keeps its batch ids', () => {
    const ids = (ms: FanOutMessage[]) => ms.map((m) => (isBatch(m) ? batchIdOf(m) : m.jobId));
    const first = planPage(slot, users.slice(0, 100), 0, T0, () => 0, policy);
    const later = planPage(slot, users.slice(0, 100), 0, T0 + 46_000, () => 0, policy);
    expect(ids(later)).toEqual(ids(first));
    // ... and every start is still no earlier than its own now.
    for (const j of opened(later)) expect(j.notBefore).toBeGreaterThanOrEqual(T0 + 46_000);
    expect(opened(first).map((j) => j.notBefore)).toEqual(
      planJobs(slot, users.slice(0, 100), 0, T0, () => 0).map((j) => j.notBefore),
    );
  });

  it('sends members beyond the claimed total (random times) one a message', () => {
    const out = planPage(slot, users.slice(90), 90, T0, () => 0.25, policy);
    const batches = out.filter(isBatch);
    expect(batches.flatMap((b) => b.jobs.map((j) => j.userId))).toEqual(users.slice(90, 100));
    expect(
      out
        .filter((m) => !isBatch(m))
        .map(usersOf)
        .flat(),
    ).toEqual(users.slice(100));
  });
});

describe('batch policy per task', () => {
  it('spans at most STAGGER_BATCH_SPAN_MS and the worker budget less the task timeout; off below 1 s or at 0', () => {
    expect(WORKER_BUDGET_MS).toBe(27_000);
    expect(batchPolicyOf({ timeoutMs: 10_000 }, 15_000)).toEqual({
      maxSpanMs: 15_000,
      maxGapMs: maxGapMs(),
      maxJobs: BATCH_MAX_JOBS,
    });
    expect(batchPolicyOf({ timeoutMs: 20_000 }, 15_000)?.maxSpanMs).toBe(7_000);
    expect(batchPolicyOf({ timeoutMs: 26_000 }, 15_000)?.maxSpanMs).toBe(1_000);
    expect(batchPolicyOf({ timeoutMs: 26_001 }, 15_000)).toBeUndefined();
    expect(batchPolicyOf({ timeoutMs: 60_000 }, 15_000)).toBeUndefined();
    expect(batchPolicyOf({ timeoutMs: 1_000 }, 0)).toBeUndefined();
    expect(batchPolicyOf({ timeoutMs: 1_000 }, 999)).toBeUndefined();
  });

  it("uses the worker's timeout and memory as serverless.yml deploys them", () => {
    const doc = parse(readFileSync('serverless.yml', 'utf8')) as {
      provider: { memorySize: number };
      functions: { worker: { timeout: number; memorySize?: number } };
    };
    expect(doc.functions.worker.timeout * 1000).toBe(WORKER_TIMEOUT_MS);
    expect(doc.functions.worker.memorySize ?? doc.provider.memorySize).toBe(WORKER_MEMORY_MB);
  });
});

describe('cost model', () => {
  it('waits up to about 3.4 s between jobs at 256 MB rather than sending another message', () => {
    // $1 per 100,000 messages + $0.20 per million Lambda requests + $1.00 per million HTTP API requests.
    expect(messageUsd()).toBeCloseTo(1e-5 + 2e-7 + 1e-6, 15);
    // 256 MB at $0.0000133334 per GB-s, per ms.
    expect(waitUsdPerMs()).toBeCloseTo((0.0000133334 * 0.25) / 1000, 18);
    expect(maxGapMs()).toBe(3_359);
    expect(maxGapMs()).toBeGreaterThan(3_300);
    expect(maxGapMs()).toBeLessThan(3_500);
    // Twice the memory, half the gap worth waiting.
    expect(maxGapMs(512)).toBe(Math.floor(messageUsd() / waitUsdPerMs(512)));
    expect(maxGapMs(512)).toBeCloseTo(maxGapMs() / 2, -1);
  });

  it('reads one price table, shared with the bench', async () => {
    const bench = await import('../../bench/lib/prices.js');
    expect(bench.PRICES).toBe(PRICES);
    expect(PRICES.qstash.usdPer100kMessages).toBe(1);
    expect(PRICES.lambda.usdPerGbSecond).toBe(0.0000133334);
    expect(PRICES.lambda.usdPerMillionRequests).toBe(0.2);
    expect(PRICES.httpApi.usdPerMillionRequests).toBe(1);
  });
});

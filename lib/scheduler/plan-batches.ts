// Pure grouping of one page of a slot's jobs into batch messages: jobs planned close together travel as one message.
import { BATCH_MAX_JOBS, type BatchMessage } from '../domain/batch.js';
import type { JobMessage } from '../domain/job.js';
import { maxGapMs } from '../publishing/batch-cost.js';
import { isBatch } from '../domain/delivery.js';
import type { FanOutMessage } from '../publishing/qstash-publisher.js';
import { planJobs, type SlotJobs } from './plan-jobs.js';

export interface BatchPolicy {
  /** Longest a batch's jobs may lie apart, first notBefore to last: the worker waits through it. */
  maxSpanMs: number;
  /** Longest gap between consecutive jobs worth waiting out rather than sending another message (batch-cost.ts). */
  maxGapMs: number;
  maxJobs: number;
}

/** The worker's timeout (serverless.yml `functions.worker.timeout`). */
export const WORKER_TIMEOUT_MS = 30_000;
/**
 * What a batch invocation may spend waiting and calling: its timeout less 2 s to record the last run and less 1 s
 * for the early delivery QStash may make (it schedules in whole seconds, rounded down).
 */
export const WORKER_BUDGET_MS = WORKER_TIMEOUT_MS - 2_000 - 1_000;
/** Below this span a batch saves too little to be worth it: the task's jobs travel alone. */
export const MIN_BATCH_SPAN_MS = 1_000;

/**
 * A task's batch policy, or undefined when its jobs travel one a message: the last job of a batch starts up to
 * `maxSpanMs` after the first and may then run for the task's whole timeout, all inside one worker invocation.
 * `spanMs` is STAGGER_BATCH_SPAN_MS (0 = no batches).
 */
export function batchPolicyOf(task: { timeoutMs: number }, spanMs: number): BatchPolicy | undefined {
  const maxSpanMs = Math.min(spanMs, WORKER_BUDGET_MS - task.timeoutMs);
  if (!(maxSpanMs >= MIN_BATCH_SPAN_MS)) return undefined;
  return { maxSpanMs, maxGapMs: maxGapMs(), maxJobs: BATCH_MAX_JOBS };
}

/**
 * Groups consecutive jobs (one slot's, in planned order) while the gap to the previous job is at most `maxGapMs`,
 * the group's span (last notBefore - first) at most `maxSpanMs` and its size at most `maxJobs`. A group of one,
 * and any job that is not `scheduled`, stays a plain job message. The same jobs always give the same groups, so a
 * page re-planned after a crash publishes the same batch ids (batchIdOf) and QStash drops the copies.
 */
export function planBatches(jobs: readonly JobMessage[], policy: BatchPolicy): FanOutMessage[] {
  const out: FanOutMessage[] = [];
  let group: JobMessage[] = [];
  const users = new Set<string>();
  const flush = () => {
    if (group.length === 1) out.push(group[0]!);
    else if (group.length > 1) out.push(batchOf(group));
    group = [];
    users.clear();
  };
  for (const job of jobs) {
    if (!batchable(job)) {
      flush();
      out.push(job);
      continue;
    }
    const first = group[0];
    const last = group.at(-1);
    const joins =
      first !== undefined &&
      last !== undefined &&
      job.notBefore >= last.notBefore &&
      job.notBefore - last.notBefore <= policy.maxGapMs &&
      job.notBefore - first.notBefore <= policy.maxSpanMs &&
      group.length < policy.maxJobs &&
      job.taskId === first.taskId &&
      job.periodKey === first.periodKey &&
      job.backfilled === first.backfilled &&
      !users.has(job.userId);
    if (!joins) flush();
    group.push(job);
    users.add(job.userId);
  }
  flush();
  return out;
}

/** A batch carries scheduled jobs as first planned: anything else (run-now, replay, a deferral) travels alone. */
function batchable(job: JobMessage): boolean {
  return job.origin === 'scheduled' && job.deferrals === 0;
}

function batchOf(group: readonly JobMessage[]): BatchMessage {
  const head = group[0]!;
  return {
    v: 1,
    kind: 'batch',
    taskId: head.taskId,
    periodKey: head.periodKey,
    origin: 'scheduled',
    backfilled: head.backfilled,
    jobs: group.map((j) => ({ userId: j.userId, notBefore: j.notBefore })),
  };
}

/**
 * One fan-out page as messages: `userIds` (ranks from `firstRank`) planned by planJobs, the jobs within the
 * slot's claimed total grouped by planBatches (no policy: one message a job). Grouping reads the planned times
 * before they are moved up to `now`, so a page re-planned later (a take-over after a crash) groups the same
 * way; members beyond the claimed total get random times and travel alone. Every start is then at least `now`.
 */
export function planPage(
  slot: SlotJobs,
  userIds: readonly string[],
  firstRank: number,
  now: number,
  random: () => number,
  policy: BatchPolicy | undefined,
): FanOutMessage[] {
  if (!policy) return planJobs(slot, userIds, firstRank, now, random);
  const planned = planJobs(slot, userIds, firstRank, Number.NEGATIVE_INFINITY, random);
  const ranked = Math.max(0, Math.min(planned.length, slot.total - firstRank));
  const messages = [...planBatches(planned.slice(0, ranked), policy), ...planned.slice(ranked)];
  const from = Math.ceil(now);
  return messages.map((m) =>
    isBatch(m)
      ? { ...m, jobs: m.jobs.map((j) => ({ ...j, notBefore: Math.max(j.notBefore, from) })) }
      : { ...m, notBefore: Math.max(m.notBefore, from) },
  );
}

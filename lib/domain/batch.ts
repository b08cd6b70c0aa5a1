// A batch message: one QStash message for jobs of one slot planned close together; each job keeps its own state.
import { z } from 'zod';
import { jobIdOf, TaskId, UserId } from './ids.js';
import type { JobMessage } from './job.js';

/** Jobs one batch message carries at most: bounds the message size (about 200 kB) and one invocation's work. */
export const BATCH_MAX_JOBS = 1_000;

export const BatchJob = z.object({
  userId: UserId,
  /** Planned start, epoch ms: the worker never calls the target before it. */
  notBefore: z.number().int().nonnegative(),
});
export type BatchJob = z.output<typeof BatchJob>;

export const BatchMessage = z.object({
  v: z.literal(1),
  kind: z.literal('batch'),
  taskId: TaskId,
  periodKey: z.string().min(1).max(64),
  /** Batches carry scheduled jobs only: run-now, replays and deferrals travel one job a message. */
  origin: z.literal('scheduled'),
  backfilled: z.boolean().default(false),
  /** In planned order; one user once. */
  jobs: z
    .array(BatchJob)
    .min(2)
    .max(BATCH_MAX_JOBS)
    .refine((jobs) => new Set(jobs.map((j) => j.userId)).size === jobs.length, {
      message: 'a user appears more than once',
    }),
});
export type BatchMessage = z.output<typeof BatchMessage>;

/** The single-job message of one job of a batch: what a job handed on, dead-lettered or replayed carries. */
export function jobOfBatch(batch: BatchMessage, job: BatchJob): JobMessage {
  return {
    v: 1,
    jobId: jobIdOf(batch.taskId, job.userId, batch.periodKey),
    taskId: batch.taskId,
    userId: job.userId,
    periodKey: batch.periodKey,
    notBefore: job.notBefore,
    origin: batch.origin,
    backfilled: batch.backfilled,
    deferrals: 0,
  };
}

export function jobsOfBatch(batch: BatchMessage): JobMessage[] {
  return batch.jobs.map((j) => jobOfBatch(batch, j));
}

/**
 * The batch's QStash deduplication id: the same jobs make the same id, so a page re-published after a crash
 * (the plan is deterministic for a slot) is dropped by QStash instead of delivered twice.
 */
export function batchIdOf(batch: Pick<BatchMessage, 'taskId' | 'periodKey' | 'jobs'>): string {
  const text = batch.jobs.map((j) => j.userId).join('\n');
  return `batch:${batch.taskId}:${batch.periodKey}:${fnv1a64(text, FNV_BASIS_A)}${fnv1a64(text, FNV_BASIS_B)}`;
}

const FNV_PRIME = 0x100000001b3n;
const FNV_BASIS_A = 0xcbf29ce484222325n;
const FNV_BASIS_B = 0x84222325cbf29ce4n;
const MASK_64 = (1n << 64n) - 1n;

/** 64-bit FNV-1a of the UTF-16 code units, as 16 hex digits; two bases make a 128-bit id. */
function fnv1a64(text: string, basis: bigint): string {
  let h = basis;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * FNV_PRIME) & MASK_64;
  return h.toString(16).padStart(16, '0');
}

/** The planned start of a batch's first job: when its message is due. */
export function batchNotBefore(batch: Pick<BatchMessage, 'jobs'>): number {
  return Math.min(...batch.jobs.map((j) => j.notBefore));
}

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

/** The planned start of a batch's first job: when its message is due. */
export function batchNotBefore(batch: Pick<BatchMessage, 'jobs'>): number {
  return Math.min(...batch.jobs.map((j) => j.notBefore));
}

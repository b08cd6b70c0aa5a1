// The job message the scheduler publishes and the worker receives (QStash body), validated at both ends.
import { z } from 'zod';
import { JobId, jobIdOf, TaskId, UserId } from './ids.js';

export const JobMessage = z
  .object({
    v: z.literal(1),
    /** Absent (or `job`) on a job message; a batch says `batch` (lib/domain/batch.ts). */
    kind: z.literal('job').optional(),
    jobId: JobId,
    taskId: TaskId,
    userId: UserId,
    periodKey: z.string().min(1).max(64),
    /** Planned start, epoch ms: the worker never calls the target before it. */
    notBefore: z.number().int().nonnegative(),
    /** `scheduled` by the scheduler, `manual` from run-now, `replay` from the dead letters. */
    origin: z.enum(['scheduled', 'manual', 'replay']),
    /** Set when the period was caught up after missed ticks. */
    backfilled: z.boolean().default(false),
    /** How often the rate limiter has already deferred this job (bounded). */
    deferrals: z.number().int().nonnegative().default(0),
  })
  // The job id is the idempotency key: one naming another (task, user, period) would run this body under that job's claim.
  .refine((m) => m.jobId === jobIdOf(m.taskId, m.userId, m.periodKey), {
    path: ['jobId'],
    message: 'must be {taskId}:{userId}:{periodKey} of this message',
  });
export type JobMessage = z.output<typeof JobMessage>;

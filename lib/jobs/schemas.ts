// zod schemas of the job API (jobs, runs, run-now): edge parsing and the OpenAPI document come from here.
import { z } from 'zod';
import { JobId, TaskId, UserId } from '../domain/ids.js';
import { JOB_POLICY } from '../worker/job-store.js';

export const DEFAULT_PAGE = 20;

export const pageLimit = (max: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/, `an integer from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `an integer from 1 to ${max}`).max(max, `an integer from 1 to ${max}`))
    .meta({ description: `Page size, 1 to ${max}, default ${DEFAULT_PAGE}` });

// ---- inputs

export const JobPath = z.strictObject({ jobId: JobId });
export const RunsPath = z.strictObject({ userId: UserId });
export const RunNowPath = z.strictObject({ userId: UserId, taskId: TaskId });

export const RunsQuery = z.strictObject({
  taskId: TaskId.optional().meta({ description: 'One task type; default: all the user has enabled' }),
  limit: pageLimit(JOB_POLICY.historyCap).optional(),
});

// ---- outputs

export const Instant = z.iso.datetime().meta({ description: 'ISO 8601 instant (UTC)' });
const JobState = z.string().meta({
  description:
    'scheduled (fanned out, not delivered yet) | queued | deferred | running | succeeded | failed (will be retried) | dead | skipped',
});

export const JobView = z.object({
  jobId: JobId,
  taskId: TaskId,
  userId: UserId,
  periodKey: z.string(),
  state: JobState,
  attempts: z.number().int(),
  deferrals: z.number().int().meta({ description: 'Times the rate limiter deferred it' }),
  replays: z.number().int(),
  origin: z.string().optional(),
  plannedAt: Instant.optional().meta({ description: 'Planned start (notBefore)' }),
  startedAt: Instant.optional(),
  finishedAt: Instant.optional(),
  leaseUntil: Instant.optional(),
  durationMs: z.number().int().optional(),
  lastStatus: z
    .number()
    .int()
    .optional()
    .meta({ description: 'HTTP status of the target; 0 = none (timeout, network)' }),
  lastError: z.string().optional(),
  skipReason: z.string().optional(),
  deadAt: Instant.optional(),
  replayedAt: Instant.optional(),
  retried: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Upstash-Retried of the delivery that last ran it' }),
  window: z.object({ start: Instant, end: Instant }).optional().meta({
    description: "State scheduled: the slot's spread window; the job starts at a planned time inside it",
  }),
  backfilled: z.boolean().optional().meta({ description: 'State scheduled: the period is caught up late' }),
});

export const RunView = z.object({
  jobId: JobId,
  attempt: z.number().int(),
  outcome: z.enum(['succeeded', 'failed', 'dead']),
  status: z.number().int(),
  durationMs: z.number().int(),
  at: Instant,
  origin: z.enum(['scheduled', 'manual', 'replay']),
  error: z.string().optional(),
});
export const RunList = z.object({ items: z.array(RunView) });

export const Published = z.object({
  jobId: JobId,
  messageId: z.string().meta({ description: 'QStash message id' }),
});

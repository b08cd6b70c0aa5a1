// zod schemas of GET /v1/overview (the dashboard's one read): the handler's output and the OpenAPI document come from here.
import { z } from 'zod';
import { ScheduleView, ZoneView } from '../admin/schemas.js';
import { TaskId } from '../domain/ids.js';
import { SchedulerStatusSchema } from '../scheduler/routes.js';
import { DeadLetterView } from '../dead-letters/schemas.js';

const Instant = z.iso.datetime().meta({ description: 'ISO 8601 instant (UTC)' });

export const OverviewQuery = z.strictObject({
  chart: TaskId.optional().meta({
    description: 'Task type whose last window the starts chart shows; default: the most recently claimed',
  }),
});

export const PeriodOutcomes = z.object({
  planned: z.number().int().meta({ description: 'Jobs planned when the slots of the period were claimed' }),
  started: z.number().int().meta({ description: 'Jobs started (first attempts)' }),
  succeeded: z.number().int(),
  failed: z.number().int().meta({ description: 'Attempts that failed and were retried' }),
  dead: z.number().int().meta({ description: 'Jobs that became dead letters' }),
  skipped: z.number().int(),
  deferred: z.number().int().meta({ description: 'Deferrals by the rate limiter' }),
});

export const TaskOverview = z.object({
  id: TaskId,
  description: z.string(),
  schedule: ScheduleView,
  zone: ZoneView,
  enabled: z.boolean(),
  paused: z.boolean(),
  users: z.number().int().meta({ description: 'Users with the task type enabled' }),
  nextPeriod: z
    .object({ key: z.string(), dueAt: Instant, zone: z.string() })
    .nullable()
    .meta({ description: 'The earliest next period over the zone groups (null: nobody enabled it)' }),
  lastPeriod: PeriodOutcomes.extend({ key: z.string(), dueAt: Instant })
    .nullable()
    .meta({ description: 'The last period claimed and how its jobs ended so far' }),
});

export const StartsChart = z.object({
  taskId: TaskId,
  group: z.string(),
  periodKey: z.string(),
  startAt: Instant,
  windowMs: z.number().int(),
  barMs: z.number().int().meta({ description: 'Width of one bar' }),
  planned: z.number().int(),
  counts: z.array(z.number().int()).meta({ description: 'First starts per bar, from startAt' }),
  after: z
    .number()
    .int()
    .meta({ description: 'Starts just after the window (QStash delivers in whole seconds)' }),
  outside: z
    .number()
    .int()
    .meta({ description: 'Starts of the period further outside the window (late or early)' }),
});

export const LimitView = z.object({
  name: z.string(),
  limit: z.number().int(),
  windowMs: z.number().int(),
  used: z.number().int().meta({ description: 'Admissions in the current sliding window' }),
  remaining: z.number().int(),
  deferredUntil: Instant.nullable().meta({ description: 'Deferred jobs are coming back until then' }),
});

export const Overview = z.object({
  now: Instant,
  scheduler: SchedulerStatusSchema,
  totals: z
    .record(z.string(), z.number())
    .meta({ description: 'Job counters over all task types since the metrics began' }),
  taskTypes: z.array(TaskOverview),
  chart: StartsChart.nullable(),
  limits: z.array(LimitView),
  deadLetters: z.object({ total: z.number().int(), items: z.array(DeadLetterView) }),
});
export type Overview = z.output<typeof Overview>;

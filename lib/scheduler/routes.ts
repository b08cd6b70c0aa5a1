// The scheduler's admin routes (run now, status): read by the handlers, the serverless.yml check and OpenAPI.
import { z } from 'zod';
import type { RouteSpec } from '../api/route.js';

const Instant = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 instant' });

export const RunSchedulerBody = z
  .strictObject({
    now: Instant.optional().meta({
      description: 'Run as if it were this instant (only when STAGE is local)',
    }),
  })
  .optional();

const SlotReport = z.object({
  slot: z.string(),
  how: z.enum(['claimed', 'resumed', 'taken']),
  outcome: z.enum(['done', 'paused', 'lost', 'not-started', 'failed']),
  published: z.number(),
  backfilled: z.boolean(),
});

export const TickSummarySchema = z.object({
  locked: z.boolean(),
  fence: z.number().optional(),
  now: z.string(),
  claimed: z.number().meta({ description: 'New slots claimed' }),
  resumed: z.number().meta({ description: 'Abandoned slots taken over' }),
  published: z.number().meta({ description: 'Jobs published' }),
  messages: z
    .number()
    .meta({ description: 'QStash messages the jobs travelled in (a batch of jobs is one)' }),
  done: z.number(),
  continued: z.number().meta({ description: 'Slots handed to a continuation message' }),
  failed: z.number(),
  skipped: z.record(z.string(), z.number()),
  slots: z.array(SlotReport),
  dlq: z
    .object({
      swept: z.boolean(),
      seen: z.number(),
      deadLettered: z.number(),
      ignored: z.number(),
      deleted: z.number(),
      kept: z.number(),
    })
    .optional()
    .meta({ description: "What this tick's QStash-DLQ sweep did (only on ticks that ran one)" }),
});

export const SchedulerStatusSchema = z.object({
  lastTick: z.object({ at: z.string(), fence: z.number(), summary: z.unknown() }).nullable(),
  lock: z.object({
    held: z.boolean(),
    holder: z.string().nullable(),
    fence: z.number().nullable(),
    since: z.string().nullable(),
    ttlMs: z.number().nullable(),
  }),
  slots: z.array(
    z.object({
      slot: z.string(),
      taskId: z.string(),
      group: z.string(),
      periodKey: z.string(),
      fence: z.number(),
      count: z.number().meta({ description: 'Jobs published so far' }),
      total: z.number().meta({ description: 'Index members when the slot was claimed' }),
      backfilled: z.boolean(),
      claimedAt: z.string(),
      updatedAt: z.string(),
    }),
  ),
  unsettled: z
    .array(
      z.object({
        taskId: z.string(),
        periodKey: z.string(),
        windowEnd: z.string(),
        planned: z.number(),
        settled: z.number().meta({ description: 'Jobs succeeded, dead-lettered or skipped' }),
        unsettled: z.number().meta({ description: 'Jobs neither run nor in the dead letters (yet)' }),
      }),
    )
    .meta({
      description:
        "Recent periods whose spread windows ended with jobs not settled: still in QStash's retries, or lost to its DLQ until the next sweep",
    }),
});

export const SCHEDULER_ROUTES = {
  runScheduler: {
    auth: 'admin',
    operationId: 'runScheduler',
    method: 'POST',
    path: '/v1/scheduler/run',
    handler: 'functions/scheduler.run',
    tag: 'scheduler',
    summary: 'Run one scheduler tick now: claim due slots, fan them out, hand over what does not fit',
    body: RunSchedulerBody,
    responses: { 200: { description: 'What the tick did', schema: TickSummarySchema } },
    errors: [409],
  },
  schedulerStatus: {
    auth: 'admin',
    operationId: 'getSchedulerStatus',
    method: 'GET',
    path: '/v1/scheduler',
    handler: 'functions/scheduler.status',
    tag: 'scheduler',
    summary: 'Last tick, lock holder, and slots still fanning out with their progress',
    responses: { 200: { description: 'Scheduler status', schema: SchedulerStatusSchema } },
  },
} as const satisfies Record<string, RouteSpec>;

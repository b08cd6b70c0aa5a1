// What the scheduler's operations are given: adapters behind narrow interfaces, the task types, a clock, a random source, settings.
import type { Redis } from '@upstash/redis';
import { CONFIG_DEFAULTS } from '../config.js';
import type { Logger } from '../log.js';
import type { Keys } from '../store/keys.js';
import { LATE_AFTER_MS, type SchedulableTask } from './plan.js';
import type { DlqSweepResult } from './dlq-reconcile.js';
import type { FanOutPublisher } from '../publishing/qstash-publisher.js';
import type { SlotRedis } from './slots.js';

export type SchedulerRedis = SlotRedis &
  Pick<Redis, 'smembers' | 'sismember' | 'hset' | 'pttl' | 'pipeline' | 'hmget'>;

export interface SchedulerSettings {
  /** User ids per page: one Redis round trip and ⌈page/100⌉ QStash batch requests. */
  pageSize: number;
  /** Longest an invocation fans out before handing over to a continuation. */
  budgetMs: number;
  /** Stop when the Lambda has less than this left (a page, its checkpoint and the hand-over must fit). */
  marginMs: number;
  /** Slots fanned out at once by one invocation. */
  slotConcurrency: number;
  lockTtlMs: number;
  /** A fanning slot without a checkpoint for this long is taken over by the next tick. */
  staleAfterMs: number;
  doneRetentionMs: number;
  lateAfterMs: number;
  /** The worker's rate-limit guard (STAGGER_LIMIT_GUARD_MS): a limit admits `limit` per `window + guard`. */
  limitGuardMs: number;
  /** Longest span of one batch message (STAGGER_BATCH_SPAN_MS; 0 = one message a job): plan-batches.ts. */
  batchSpanMs: number;
}

export const DEFAULT_SETTINGS: SchedulerSettings = {
  pageSize: CONFIG_DEFAULTS.fanoutPageSize,
  budgetMs: CONFIG_DEFAULTS.fanoutBudgetMs,
  marginMs: 8_000,
  slotConcurrency: 8,
  lockTtlMs: 30_000,
  // Under the one-minute tick: a crashed fan-out is resumed by the next tick or the one after.
  staleAfterMs: 45_000,
  doneRetentionMs: 2 * 24 * 3_600_000,
  lateAfterMs: LATE_AFTER_MS,
  limitGuardMs: CONFIG_DEFAULTS.limitGuardMs,
  batchSpanMs: CONFIG_DEFAULTS.batchSpanMs,
};

export interface SchedulerDeps {
  redis: SchedulerRedis;
  keys: Keys;
  publisher: FanOutPublisher;
  /** Enabled task types by id. */
  tasks: ReadonlyMap<string, SchedulableTask>;
  clock: () => number;
  /** Uniform in [0,1): the u of each job's spread. */
  random: () => number;
  settings: SchedulerSettings;
  log?: Logger;
  /** Reconciles QStash's DLQ into stagger's dead letters when due (dlq-reconcile.ts); absent = never. */
  sweepDlq?: () => Promise<DlqSweepResult>;
}

/** Milliseconds of Lambda time left (`context.getRemainingTimeInMillis`). */
export type TimeLeft = () => number;

/** True once the invocation should stop after its current page: near the Lambda's end or past the budget. */
export function stopSignal(
  settings: Pick<SchedulerSettings, 'budgetMs' | 'marginMs'>,
  timeLeft: TimeLeft,
): () => boolean {
  const started = performance.now();
  return () => timeLeft() < settings.marginMs || performance.now() - started >= settings.budgetMs;
}

/** A clock that reads `startAt` now and runs on in real time (an explicit `now` of a local run). */
export function clockFrom(startAt: number, realNow: () => number = Date.now): () => number {
  const offset = startAt - realNow();
  return () => realNow() + offset;
}

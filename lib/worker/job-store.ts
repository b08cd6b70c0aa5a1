// Job state in Redis for the worker: one script to start a delivery, one to record its end.
import { z } from 'zod';
import { CONFIG_DEFAULTS } from '../config.js';
import type { JobMessage } from '../domain/job.js';
import { bucketLabel, DURATION_BOUNDS_MS, type PeriodStatsPolicy } from '../metrics/buckets.js';
import type { Keys } from '../store/keys.js';
import { jsonReply, runScript, type ScriptRedis } from '../store/lua/script.js';
import type { LimitSpec } from './limits.js';
import { recordRun, releaseClaim, startJob } from './lua/scripts.generated.js';

export const JOB_POLICY = {
  /** Runs kept per (user, task). */
  historyCap: 50,
  /** Job hashes outlive QStash's longest retry chain (about 3 days at 10 retries) with room to inspect. */
  retentionMs: 30 * 86_400_000,
  /** Added to a task's timeout for the claim's lease: the call is aborted at the timeout, the lease outlives it. */
  leaseMarginMs: 2_000,
  errorMaxChars: 500,
} as const;

export type StartResult =
  | { kind: 'duplicate'; state: string }
  | { kind: 'busy'; leaseUntil: number }
  | { kind: 'skipped'; reason: string }
  /** `retryAt`: this job's deferral slot, when the refusing limit has room for it. */
  | { kind: 'denied'; retryAt: number; limit: string; deferrals: number; replays: number }
  /**
   * `admittedAt`: the send instant the rate limits recorded for this run (epoch ms on the script's clock);
   * `waitMs`: how long after the script ran that instant is: wait that long from the reply, then call.
   * `serverAt`: the server clock the script read (ms), so `serverAt + waitMs` is the instant on that clock.
   */
  | {
      kind: 'claimed';
      attempt: number;
      params: string;
      admittedAt: number;
      waitMs: number;
      serverAt?: number;
    };

const StartReply = z.discriminatedUnion('r', [
  z.object({ r: z.literal('duplicate'), state: z.string() }),
  z.object({ r: z.literal('busy'), leaseUntil: z.number() }),
  z.object({ r: z.literal('skipped'), reason: z.string() }),
  z.object({
    r: z.literal('denied'),
    retryAt: z.number(),
    limit: z.string(),
    deferrals: z.number(),
    replays: z.number(),
  }),
  // @upstash/redis may have parsed the params JSON already; keep it as text for one parser downstream.
  z.object({
    r: z.literal('claimed'),
    attempt: z.number(),
    // Sent as text: the reservation grid's fractions of a millisecond would not survive cjson's number format.
    admittedAt: z.union([z.string(), z.number()]).pipe(z.coerce.number()),
    waitMs: z.number().min(0),
    serverAt: z.number(),
    params: z.unknown().transform((p) => (typeof p === 'string' ? p : JSON.stringify(p))),
  }),
]);

export interface StartInput {
  message: JobMessage;
  now: number;
  leaseMs: number;
  limits: readonly LimitSpec[];
  /** Longest wait for a reservation the caller takes (ms); a later one is refused (deferred). Default 0. */
  maxWaitMs?: number;
  /** Reserve no earlier than this long after the script's time (ms), so the reply arrives first. Default 0. */
  leadMs?: number;
  /** Set when the catalog already says the job must not run (unknown or disabled task type). */
  skipReason?: string;
  /** Upstash-Retried of this delivery. */
  retried: number;
  /** Keep the (task, period) stats the dashboard reads; absent: keep none (unknown task). */
  periodStats?: PeriodStatsPolicy;
}

/**
 * One start script for every job of a batch (one slot: same task, period and origin). Each job is started as
 * `start` would start it alone, in order, with one difference: its reservation is never before its own planned
 * `notBefore`, and its wait budget counts from then (`max(script time, notBefore) + maxWaitMs`).
 */
export interface BatchStartInput {
  messages: readonly JobMessage[];
  now: number;
  /** Lease of each claim once its own wait is over. */
  leaseMs: number;
  limits: readonly LimitSpec[];
  maxWaitMs?: number;
  leadMs?: number;
  skipReason?: string;
  /** Upstash-Retried of the batch's delivery. */
  retried: number;
  periodStats?: PeriodStatsPolicy;
}

export interface BatchStartResult {
  /** The server clock (ms) the script read: every `waitMs` counts from it. */
  serverAt: number;
  /** One per message, in order; a claimed job's `waitMs` is its reserved instant minus the script's time. */
  results: StartResult[];
}

export type RunOutcome = 'succeeded' | 'failed' | 'dead';

export interface RecordInput {
  message: JobMessage;
  attempt: number;
  outcome: RunOutcome;
  /** Target's HTTP status, 0 when there was none. */
  status: number;
  durationMs: number;
  error?: string;
  now: number;
  /** Why it is dead, when outcome is `dead`. */
  deadReason?: string;
  periodStats?: PeriodStatsPolicy;
}

/** Period stats belong to scheduled periods (and their replays): a manual run has a period key of its own. */
function statsOf(m: JobMessage, policy: PeriodStatsPolicy | undefined): PeriodStatsPolicy {
  return policy && m.origin !== 'manual' ? policy : { ttlMs: 0, bucketMs: 0 };
}

export interface RunEntry {
  jobId: string;
  attempt: number;
  outcome: RunOutcome;
  status: number;
  durationMs: number;
  at: number;
  origin: JobMessage['origin'];
  error?: string;
}

export function truncateError(text: string, max: number = JOB_POLICY.errorMaxChars): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export class JobStore {
  constructor(
    private readonly redis: ScriptRedis,
    private readonly keys: Keys,
    /** Added to every rate-limit window: covers the spread between a reserved instant and the call's arrival. */
    readonly rateGuardMs: number = CONFIG_DEFAULTS.limitGuardMs,
  ) {}

  async start(input: StartInput): Promise<StartResult> {
    const { message: m, limits } = input;
    const k = this.keys;
    const stats = statsOf(m, input.periodStats);
    const reply = await runScript(
      this.redis,
      startJob,
      [
        k.job(m.jobId),
        k.user(m.userId),
        k.userTasks(m.userId),
        k.pausedTasks,
        k.metrics,
        k.deferralHorizons,
        k.periodStats(m.taskId, m.periodKey),
        ...limits.map((l) => k.ratelimit(l.name)),
      ],
      [
        input.now,
        m.jobId,
        m.taskId,
        m.userId,
        m.periodKey,
        m.notBefore,
        m.origin,
        input.leaseMs,
        input.skipReason ?? '',
        JOB_POLICY.retentionMs,
        this.rateGuardMs,
        input.retried,
        stats.bucketMs,
        stats.ttlMs,
        Math.max(0, Math.floor(input.maxWaitMs ?? 0)),
        Math.max(0, Math.ceil(input.leadMs ?? 0)),
        ...limits.flatMap((l) => [l.name, l.limit, l.windowMs]),
      ],
    );
    const r = StartReply.parse(jsonReply(reply));
    switch (r.r) {
      case 'duplicate':
        return { kind: 'duplicate', state: r.state };
      case 'busy':
        return { kind: 'busy', leaseUntil: r.leaseUntil };
      case 'skipped':
        return { kind: 'skipped', reason: r.reason };
      case 'denied':
        return {
          kind: 'denied',
          retryAt: r.retryAt,
          limit: r.limit,
          deferrals: r.deferrals,
          replays: r.replays,
        };
      case 'claimed':
        return {
          kind: 'claimed',
          attempt: r.attempt,
          params: r.params,
          admittedAt: r.admittedAt,
          waitMs: r.waitMs,
          serverAt: r.serverAt,
        };
    }
  }

  /**
   * Gives back a claim whose call was not made, and its reservation in `limits` (the capacity returns);
   * undefined when the attempt no longer owns the job.
   */
  async release(
    message: JobMessage,
    attempt: number,
    now: number,
    limits: readonly LimitSpec[],
  ): Promise<{ deferrals: number; replays: number } | undefined> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      releaseClaim,
      [k.job(message.jobId), k.metrics, ...limits.map((l) => k.ratelimit(l.name))],
      [now, attempt, message.taskId, message.jobId],
    );
    if (reply === null || reply === undefined) return undefined;
    return z.object({ deferrals: z.number(), replays: z.number() }).parse(jsonReply(reply));
  }

  /** Records one attempt's end; false when a later attempt had already taken the job over. */
  async record(input: RecordInput): Promise<boolean> {
    const { message: m } = input;
    const k = this.keys;
    const error = input.error === undefined ? '' : truncateError(input.error);
    const durationMs = Math.max(0, Math.round(input.durationMs));
    const run: RunEntry = {
      jobId: m.jobId,
      attempt: input.attempt,
      outcome: input.outcome,
      status: input.status,
      durationMs,
      at: input.now,
      origin: m.origin,
      ...(error === '' ? {} : { error }),
    };
    const reply = await runScript(
      this.redis,
      recordRun,
      [
        k.job(m.jobId),
        k.runs(m.userId, m.taskId),
        k.metrics,
        k.deadLetters,
        k.deadLetter(m.jobId),
        k.periodStats(m.taskId, m.periodKey),
      ],
      [
        input.now,
        input.attempt,
        input.outcome,
        input.status,
        durationMs,
        error,
        JSON.stringify(run),
        JOB_POLICY.historyCap,
        m.taskId,
        JOB_POLICY.retentionMs,
        m.jobId,
        JSON.stringify(m),
        input.deadReason ?? '',
        bucketLabel(DURATION_BOUNDS_MS, durationMs),
        statsOf(m, input.periodStats).ttlMs,
      ],
    );
    return Number(reply) === 1;
  }
}

// Job state in Redis for the worker: start a delivery (or all the jobs of a batch), record its end, give a claim back.
import { z } from 'zod';
import { CONFIG_DEFAULTS } from '../config.js';
import type { JobMessage } from '../domain/job.js';
import { bucketLabel, DURATION_BOUNDS_MS, type PeriodStatsPolicy } from '../metrics/buckets.js';
import type { Keys } from '../store/keys.js';
import { jsonReply, runScript, type ScriptRedis } from '../store/lua/script.js';
import type { LimitSpec } from './limits.js';
import { parseBatchStartReply, parseStartReply } from './start-reply.js';
import {
  readClock,
  recordBatch,
  recordRun,
  releaseClaim,
  startBatch,
  startJob,
} from './lua/scripts.generated.js';

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
  /**
   * How long after the script's time any job may still be reserved, whatever its own budget (ms; default 0): the
   * invocation waits for its last job anyway, so waiting is cheaper than a deferral up to then.
   */
  holdMs?: number;
  leadMs?: number;
  skipReason?: string;
  /** Upstash-Retried of the batch's delivery. */
  retried: number;
  periodStats?: PeriodStatsPolicy;
}

export interface BatchStartResult {
  /** The server clock (ms) the script read first (a claimed job's `waitMs` counts from the script's time). */
  serverAt: number;
  /**
   * The server clock (ms) at the script's end: the reply left at least `serverEnd - serverAt` after the first reading,
   * so a long batch does not widen what the caller knows of the server's clock.
   */
  serverEnd?: number;
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

/** The jobs of one batch call share the keys and arguments of `fields`: a mix would write one job's stats to another's. */
function assertOneSlot(
  messages: readonly JobMessage[],
  fields: readonly (keyof JobMessage)[],
  what: string,
): void {
  const first = messages[0]!;
  const other = messages.find((m) => fields.some((f) => m[f] !== first[f]));
  if (other) throw new Error(`${what}: ${other.jobId} is not of the ${fields.join(', ')} of ${first.jobId}`);
}

/** What start and startBatch pass in the same order: startJob's ARGV[8..16], startBatch's ARGV[5..13]. */
interface StartPolicy {
  leaseMs: number;
  skipReason?: string;
  retried: number;
  maxWaitMs?: number;
  leadMs?: number;
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
    const [job, user, userTasks] = this.jobKeys(m);
    const [paused, metrics, horizons, stats] = this.slotKeys(m);
    const reply = await runScript(
      this.redis,
      startJob,
      [job, user, userTasks, paused, metrics, horizons, stats, ...this.limitKeys(limits)],
      [
        input.now,
        m.jobId,
        m.taskId,
        m.userId,
        m.periodKey,
        m.notBefore,
        m.origin,
        ...this.policyArgs(input, statsOf(m, input.periodStats)),
        ...limitArgs(limits),
      ],
    );
    return parseStartReply(jsonReply(reply));
  }

  /**
   * Starts every job of a batch in one script call (see BatchStartInput); one result per message, in order.
   * The messages share task, period and origin. An empty list makes no call: its serverAt is the given now.
   */
  /** The server clock (ms): one small round trip, for a worker to narrow what it knows of that clock. */
  async serverClock(): Promise<number> {
    return z.coerce.number().parse(await runScript(this.redis, readClock, [], []));
  }

  async startBatch(input: BatchStartInput): Promise<BatchStartResult> {
    const { messages, limits } = input;
    if (messages.length === 0) return { serverAt: input.now, results: [] };
    assertOneSlot(messages, ['taskId', 'periodKey', 'origin'], 'startBatch');
    const m = messages[0]!;
    const reply = await runScript(
      this.redis,
      startBatch,
      [...this.slotKeys(m), ...this.limitKeys(limits), ...messages.flatMap((j) => this.jobKeys(j))],
      [
        input.now,
        m.taskId,
        m.periodKey,
        m.origin,
        ...this.policyArgs(input, statsOf(m, input.periodStats)),
        limits.length,
        Math.max(0, Math.floor(input.holdMs ?? 0)),
        ...limitArgs(limits),
        ...messages.flatMap((j) => [j.jobId, j.userId, j.notBefore]),
      ],
    );
    const r = parseBatchStartReply(jsonReply(reply));
    if (r.results.length !== messages.length) {
      throw new Error(`startBatch: ${r.results.length} results for ${messages.length} jobs`);
    }
    return r;
  }

  /** A job's own keys, in the order both start scripts take them. */
  private jobKeys(m: JobMessage): [string, string, string] {
    return [this.keys.job(m.jobId), this.keys.user(m.userId), this.keys.userTasks(m.userId)];
  }

  /** The keys the jobs of one slot share, in the order both start scripts take them. */
  private slotKeys(m: JobMessage): [string, string, string, string] {
    const k = this.keys;
    return [k.pausedTasks, k.metrics, k.deferralHorizons, k.periodStats(m.taskId, m.periodKey)];
  }

  private limitKeys(limits: readonly LimitSpec[]): string[] {
    return limits.map((l) => this.keys.ratelimit(l.name));
  }

  private policyArgs(p: StartPolicy, stats: PeriodStatsPolicy): (string | number)[] {
    return [
      p.leaseMs,
      p.skipReason ?? '',
      JOB_POLICY.retentionMs,
      this.rateGuardMs,
      p.retried,
      stats.bucketMs,
      stats.ttlMs,
      Math.max(0, Math.floor(p.maxWaitMs ?? 0)),
      Math.max(0, Math.ceil(p.leadMs ?? 0)),
    ];
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
    const run = recordArgs(input);
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
      [...run.attempt, JOB_POLICY.historyCap, m.taskId, JOB_POLICY.retentionMs, ...run.job],
    );
    return Number(reply) === 1;
  }

  /**
   * Records the ends of several attempts of one task and period in one script call, each as `record` would;
   * one answer per input, in order (false: stale). An empty list makes no call.
   */
  async recordBatch(inputs: readonly RecordInput[]): Promise<boolean[]> {
    if (inputs.length === 0) return [];
    assertOneSlot(
      inputs.map((i) => i.message),
      ['taskId', 'periodKey'],
      'recordBatch',
    );
    const k = this.keys;
    const m = inputs[0]!.message;
    const reply = await runScript(
      this.redis,
      recordBatch,
      [
        k.metrics,
        k.deadLetters,
        k.periodStats(m.taskId, m.periodKey),
        ...inputs.flatMap(({ message: j }) => [
          k.job(j.jobId),
          k.runs(j.userId, j.taskId),
          k.deadLetter(j.jobId),
        ]),
      ],
      [
        m.taskId,
        JOB_POLICY.historyCap,
        JOB_POLICY.retentionMs,
        ...inputs.flatMap((input) => {
          const run = recordArgs(input);
          return [...run.attempt, ...run.job];
        }),
      ],
    );
    const recorded = z.array(z.union([z.number(), z.string()]).pipe(z.coerce.number())).parse(reply);
    if (recorded.length !== inputs.length) {
      throw new Error(`recordBatch: ${recorded.length} answers for ${inputs.length} runs`);
    }
    return recorded.map((r) => r === 1);
  }
}

const limitArgs = (limits: readonly LimitSpec[]) => limits.flatMap((l) => [l.name, l.limit, l.windowMs]);

/**
 * One run's own arguments, as both record scripts take them: `attempt` (now, attempt, outcome, status, duration,
 * error, history entry) and `job` (job id, message, dead-letter reason, duration bucket, period stats retention).
 */
function recordArgs(input: RecordInput): { attempt: (string | number)[]; job: (string | number)[] } {
  const { message: m } = input;
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
  return {
    attempt: [input.now, input.attempt, input.outcome, input.status, durationMs, error, JSON.stringify(run)],
    job: [
      m.jobId,
      JSON.stringify(m),
      input.deadReason ?? '',
      bucketLabel(DURATION_BOUNDS_MS, durationMs),
      statsOf(m, input.periodStats).ttlMs,
    ],
  };
}

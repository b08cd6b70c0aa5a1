// One QStash delivery of a batch: its jobs started in one script call, each run at its own reserved instant.
import { CONFIG_DEFAULTS } from '../config.js';
import { batchNotBefore, jobsOfBatch, type BatchMessage } from '../domain/batch.js';
import { batchIdOf } from '../publishing/batch-id.js';
import type { Task } from '../domain/catalog.js';
import type { JobMessage } from '../domain/job.js';
import type { Logger } from '../log.js';
import { periodStatsPolicy } from '../metrics/buckets.js';
import type { BatchPublisher, JobPublisher } from '../publishing/qstash-publisher.js';
import { callJob, outcomeOf } from './call-job.js';
import {
  JOB_POLICY,
  type BatchStartInput,
  type BatchStartResult,
  type RecordInput,
  type StartResult,
} from './job-store.js';
import type { LimitSpec } from './limits.js';
import { RecordGroups } from './record-groups.js';
import {
  defer,
  leadFor,
  processScriptClock,
  reservedLocally,
  runDelivery,
  runOf,
  taskPlan,
  WORKER_POLICY,
  type Delivery,
  type Verdict,
  type WorkerDeps,
} from './run-delivery.js';

export const BATCH_POLICY = {
  /** Calls of one batch in flight at once; a job whose turn comes too late is started again on its own. */
  concurrency: 64,
  /** A finished job's record waits at most this long to share a script call with others. */
  recordEveryMs: 200,
} as const;

/** QStash's own backoff before retry n: `min(1 day, e^(2.5 n))` seconds. A failed job of a batch waits as long. */
export function qstashRetryDelayMs(n: number): number {
  return Math.ceil(Math.min(86_400, Math.exp(2.5 * Math.max(1, n))) * 1000);
}

/** One script call to start a batch's jobs, one to record a group of them (JobStore). */
export interface BatchJobStore {
  startBatch(input: BatchStartInput): Promise<BatchStartResult>;
  /** The server clock alone (a small round trip). */
  serverClock(): Promise<number>;
  recordBatch(inputs: readonly RecordInput[]): Promise<boolean[]>;
}

export interface BatchWorkerDeps extends WorkerDeps {
  store: WorkerDeps['store'] & BatchJobStore;
  publisher: JobPublisher & BatchPublisher;
  /** Log lines about the batch as a whole (task, period, batch id, request id). */
  batchLog: (batch: BatchMessage, requestId?: string) => Logger;
  concurrency?: number;
  recordEveryMs?: number;
  /** Delay before the next attempt of a job that failed in a batch (default: QStash's curve). */
  retryDelayMs?: (attempt: number) => number;
}

export interface BatchDelivery extends Omit<Delivery, 'message'> {
  message: BatchMessage;
}

/** How each job of a batch ended in this delivery. */
export interface BatchTally {
  succeeded: number;
  /** Failed, handed on as a single-job message for its next attempt. */
  failed: number;
  dead: number;
  duplicate: number;
  skipped: number;
  deferred: number;
  /** Not run here (running elsewhere, or no time left in this invocation): handed on as a single-job message. */
  handedOn: number;
  /** Woke too late for its reservation: run on its own path instead. */
  restarted: number;
}

interface BatchRun {
  deps: BatchWorkerDeps;
  d: BatchDelivery;
  task: Task | undefined;
  limits: readonly LimitSpec[];
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  log: Logger;
  tally: BatchTally;
  /** Set when a job could be neither finished nor handed on: the batch must come back. */
  incomplete: boolean;
}

/** A counting semaphore: at most `n` holders. */
function limiter(n: number) {
  let free = n;
  const queue: (() => void)[] = [];
  return {
    acquire: () =>
      free > 0 ? (free--, Promise.resolve()) : new Promise<void>((resolve) => queue.push(resolve)),
    release: () => {
      const next = queue.shift();
      if (next) next();
      else free++;
    },
  };
}

export async function runBatch(deps: BatchWorkerDeps, d: BatchDelivery): Promise<Verdict> {
  const clock = deps.clock ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const b = d.message;
  const { task, skipReason, limits } = taskPlan(deps.catalog, b.taskId);
  const log = deps.batchLog(b, d.requestId);
  const tally: BatchTally = {
    succeeded: 0,
    failed: 0,
    dead: 0,
    duplicate: 0,
    skipped: 0,
    deferred: 0,
    handedOn: 0,
    restarted: 0,
  };
  const run: BatchRun = { deps, d, task, limits, clock, sleep, log, tally, incomplete: false };
  log.debug({ jobs: b.jobs.length, messageId: d.messageId, retried: d.retried }, 'batch delivered');

  const first = batchNotBefore(b);
  if (first - clock() > WORKER_POLICY.earlyWaitMaxMs) {
    await deps.publisher.publishBatch(b, {
      deduplicationId: `${batchIdOf(b)}:early:${d.messageId}`,
      notBeforeMs: first,
      retries: Math.max(0, (task?.retries ?? 0) - d.retried),
    });
    log.info({ outcome: 'rescheduled', earlyMs: first - clock() }, 'batch arrived early; re-published');
    return { kind: 'ack', outcome: 'rescheduled' };
  }

  // A job planned too close to this invocation's end for its whole timeout goes on as a message of its own.
  const deadline = d.deadline ?? Number.POSITIVE_INFINITY;
  const timeout = task?.timeoutMs ?? 0;
  const latestStart = deadline - WORKER_POLICY.recordReserveMs - timeout;
  const jobs = jobsOfBatch(b);
  const here = skipReason ? jobs : jobs.filter((m) => m.notBefore <= latestStart);
  const later = skipReason ? [] : jobs.filter((m) => m.notBefore > latestStart);
  const handOns = later.map((m) => handOn(run, m, m.notBefore, task?.retries ?? 0, `h:${d.messageId}`));

  const maxWaitMs = Math.max(
    0,
    Math.min(
      deps.maxWaitMs ?? CONFIG_DEFAULTS.maxWaitMs,
      latestStart - Math.max(0, ...here.map((m) => m.notBefore)),
    ),
  );
  const scriptClock = deps.scriptClock ?? processScriptClock;
  const startedAt = clock();
  // No jobs to start (all handed on): the store answers without a round trip.
  const started = await deps.store.startBatch({
    messages: here,
    now: startedAt,
    leaseMs: timeout + JOB_POLICY.leaseMarginMs,
    limits,
    maxWaitMs,
    holdMs: Math.max(0, latestStart - clock()),
    leadMs: Math.min(maxWaitMs, leadFor(scriptClock, deps.store.rateGuardMs)),
    retried: d.retried,
    ...(skipReason ? { skipReason } : {}),
    ...(task ? { periodStats: periodStatsPolicy(task) } : {}),
  });
  const repliedAt = clock();
  if (here.length > 0) {
    // The script read the clock again at its end: that reading happened at least its run time after the request left.
    const ran = Math.min((started.serverEnd ?? started.serverAt) - started.serverAt, repliedAt - startedAt);
    scriptClock.observe(startedAt + ran, repliedAt, started.serverAt + ran);
    // A big batch travels slowly both ways, and what is left of the round trip is how uncertain every reserved
    // instant is on this clock. Past a quarter of the guard (half is all a wake-up may take), one small round trip
    // narrows it.
    if (repliedAt - startedAt - ran > deps.store.rateGuardMs / 4) {
      try {
        const before = clock();
        const server = await deps.store.serverClock();
        scriptClock.observe(before, clock(), server);
      } catch {
        // Only precision is lost: late wake-ups reserve again on their own.
      }
    }
  }

  const records = new RecordGroups(
    (inputs) => deps.store.recordBatch(inputs),
    deps.recordEveryMs ?? BATCH_POLICY.recordEveryMs,
    {
      clock,
      sleep,
      ...(d.deadline === undefined ? {} : { deadline: d.deadline }),
      log,
    },
  );
  const slots = limiter(deps.concurrency ?? BATCH_POLICY.concurrency);
  const timing = { startedAt, repliedAt, serverAt: started.serverAt, scriptClock };
  await Promise.all([
    ...handOns,
    ...here.map((m, i) => settle(run, m, started.results[i]!, timing, records, slots)),
  ]);
  await records.drain();

  const detail = { jobs: b.jobs.length, ...tally, recordWrites: records.writes };
  if (run.incomplete) {
    log.warn(
      { outcome: 'retry', ...detail },
      'batch left jobs neither finished nor handed on; asked to come back',
    );
    return { kind: 'retry', reason: 'batch_incomplete' };
  }
  log.info({ outcome: 'batch', ...detail }, 'batch run');
  return { kind: 'ack', outcome: 'batch', detail };
}

interface Timing {
  startedAt: number;
  repliedAt: number;
  serverAt: number;
  scriptClock: typeof processScriptClock;
}

/** One job of the batch from its start result to its end here. */
async function settle(
  run: BatchRun,
  m: JobMessage,
  start: StartResult,
  timing: Timing,
  records: RecordGroups,
  slots: ReturnType<typeof limiter>,
): Promise<void> {
  const { deps, d, task, tally, clock } = run;
  const single: Delivery = {
    message: m,
    messageId: d.messageId,
    retried: d.retried,
    ...(d.deadline === undefined ? {} : { deadline: d.deadline }),
    ...(d.requestId === undefined ? {} : { requestId: d.requestId }),
  };
  switch (start.kind) {
    case 'duplicate':
      tally.duplicate++;
      return;
    case 'skipped':
      tally.skipped++;
      return;
    case 'busy':
      return handOn(run, m, start.leaseUntil, task?.retries ?? 0, `busy:${d.messageId}:${d.retried}`);
    case 'denied':
      try {
        await defer(runOf(deps, single), start.retryAt, start.limit, start.deferrals, start.replays);
        tally.deferred++;
      } catch (err) {
        failedHandOn(run, m, err);
      }
      return;
    case 'claimed':
      break;
  }
  // A claimed job always has a known, enabled task: the script skipped everything else.
  const t = task!;
  const reserved = reservedLocally(timing.scriptClock, timing.startedAt, timing.repliedAt, {
    waitMs: start.waitMs,
    serverAt: timing.serverAt,
  });
  // Never before the reserved instant, nor before the planned time on this clock.
  const sendAt = Math.max(reserved.latest, m.notBefore);
  if (sendAt > clock()) await run.sleep(Math.ceil(sendAt - clock()));
  await slots.acquire();
  let held = true;
  const free = () => {
    if (held) slots.release();
    held = false;
  };
  try {
    const timeoutMs = Math.min(
      t.timeoutMs,
      (d.deadline ?? Number.POSITIVE_INFINITY) - clock() - WORKER_POLICY.recordReserveMs,
    );
    const late = clock() - reserved.earliest;
    if (timeoutMs < 1 || (deps.store.rateGuardMs > 0 && late > deps.store.rateGuardMs / 2)) {
      // Too late to send on this reservation: give it back and run the job on its own path (a fresh reservation).
      free();
      const released = await deps.store.release(m, start.attempt, clock(), run.limits);
      if (!released) return;
      tally.restarted++;
      return await finishSingle(run, m, start.attempt + 1, await runDelivery(deps, single));
    }
    const result = await callJob({
      catalog: deps.catalog,
      task: t,
      message: m,
      attempt: start.attempt,
      params: start.params,
      timeoutMs,
      clock,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    free();
    // The last attempt a job has (its first plus the task's retries) ends in the dead letters.
    const outcome = outcomeOf(result);
    const exhausted = outcome === 'failed' && start.attempt > t.retries;
    const owned = await records.record({
      message: m,
      attempt: start.attempt,
      outcome: exhausted ? 'dead' : outcome,
      status: result.status,
      durationMs: result.durationMs,
      now: clock(),
      ...(result.kind === 'succeeded' ? {} : { error: result.error }),
      ...(outcome === 'dead'
        ? { deadReason: 'permanent' }
        : exhausted
          ? { deadReason: 'retries_exhausted' }
          : {}),
      periodStats: periodStatsPolicy(t),
    });
    const log = deps.log(m, d.requestId);
    const fields = {
      outcome,
      attempt: start.attempt,
      status: result.status,
      durationMs: result.durationMs,
      origin: m.origin,
      batch: true,
    };
    if (!owned)
      log.warn(fields, 'attempt finished after its claim was taken over; state left to the newer attempt');
    else if (result.kind === 'succeeded') log.info(fields, 'job run');
    else log.warn({ ...fields, error: result.error, exhausted }, 'job run failed');
    if (!owned) return;
    if (outcome === 'succeeded') tally.succeeded++;
    else if (outcome === 'dead' || exhausted) tally.dead++;
    else {
      tally.failed++;
      const retryAt =
        clock() +
        (result.kind === 'retryable' && result.retryAfterMs !== undefined
          ? result.retryAfterMs
          : (deps.retryDelayMs ?? qstashRetryDelayMs)(start.attempt));
      await handOn(run, m, retryAt, t.retries - start.attempt, `a${start.attempt}`, false);
    }
  } catch (err) {
    free();
    // The record could not be written (Redis gone for longer than the invocation can wait): the batch comes back.
    run.incomplete = true;
    deps
      .log(m, d.requestId)
      .error({ err: err instanceof Error ? err.message : String(err) }, 'job of a batch not finished');
  }
}

/** A job that ran on its own path: its verdict as the batch's tally, a retry handed on as its own message. */
async function finishSingle(run: BatchRun, m: JobMessage, attempt: number, v: Verdict): Promise<void> {
  if (v.kind === 'ack') {
    if (v.outcome === 'succeeded') run.tally.succeeded++;
    else if (v.outcome === 'deferred' || v.outcome === 'rescheduled') run.tally.deferred++;
    else if (v.outcome === 'skipped') run.tally.skipped++;
    else run.tally.duplicate++;
    return;
  }
  if (v.kind === 'stop') {
    run.tally.dead++;
    return;
  }
  const delay = v.retryAfterMs ?? (run.deps.retryDelayMs ?? qstashRetryDelayMs)(attempt);
  await handOn(
    run,
    m,
    run.clock() + delay,
    (run.task?.retries ?? 0) - attempt,
    `r${attempt}:${run.d.messageId}`,
  );
}

/** Publishes one job of the batch as a message of its own, due at `notBefore`, with `retries` QStash retries. */
async function handOn(
  run: BatchRun,
  m: JobMessage,
  notBefore: number,
  retries: number,
  tag: string,
  count = true,
): Promise<void> {
  try {
    // Whole milliseconds: a message's notBefore is an integer (a delay from a curve or a header need not be).
    const due = Math.ceil(Math.max(notBefore, m.notBefore));
    await run.deps.publisher.publish(
      { ...m, notBefore: due },
      { deduplicationId: `${m.jobId}:${tag}`, notBeforeMs: due, retries: Math.max(0, retries) },
    );
    if (count) run.tally.handedOn++;
  } catch (err) {
    failedHandOn(run, m, err);
  }
}

function failedHandOn(run: BatchRun, m: JobMessage, err: unknown): void {
  run.incomplete = true;
  run.deps
    .log(m, run.d.requestId)
    .error(
      { err: err instanceof Error ? err.message : String(err) },
      'job of a batch could not be handed on',
    );
}

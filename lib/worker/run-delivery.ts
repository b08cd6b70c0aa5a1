// One QStash delivery of a job, start to end: timing, claim, rate limits, the HTTP call, the record, the verdict.
import { CONFIG_DEFAULTS } from '../config.js';
import type { Catalog, Task } from '../domain/catalog.js';
import type { JobMessage } from '../domain/job.js';
import type { Logger } from '../log.js';
import { periodStatsPolicy } from '../metrics/buckets.js';
import { callJob, outcomeOf } from './call-job.js';
import { writeWhileReachable } from './record-groups.js';
import { ScriptClock } from './script-clock.js';
import { JOB_POLICY, type JobStore } from './job-store.js';
import { limitsFor, type LimitSpec } from './limits.js';
import type { JobPublisher } from '../publishing/qstash-publisher.js';

export { templateParams } from './call-job.js';

export const WORKER_POLICY = {
  /** Deferrals a job may take before it fails like any other attempt (and spends a QStash retry). */
  maxDeferrals: 50,
  /**
   * QStash schedules in whole seconds: a message may arrive up to a second before its notBefore.
   * Waiting that out here is cheaper than another publish; anything earlier is re-published.
   */
  earlyWaitMaxMs: 1_500,
  /** Time kept back from the Lambda deadline for recording the run after the call is cut off. */
  recordReserveMs: 2_000,
  /**
   * Fresh reservations a delivery takes after waking too late for one, before it defers instead: one more start
   * script is far cheaper than a re-published message (and the late start it would arrive as).
   */
  lateRestarts: 5,
} as const;

export interface Delivery {
  message: JobMessage;
  /** Upstash-Message-Id. */
  messageId: string;
  /** Upstash-Retried: retries QStash has already spent on this message. */
  retried: number;
  /** Epoch ms when this invocation is cut off (Lambda's remaining time); the call must end before it. */
  deadline?: number;
  /** The HTTP request id of this delivery, on every log line about it. */
  requestId?: string;
}

/** What the worker answers QStash: acknowledge, retry (5xx, optionally after a delay) or stop retrying. */
export type Verdict =
  | {
      kind: 'ack';
      outcome: 'succeeded' | 'duplicate' | 'skipped' | 'deferred' | 'rescheduled' | 'batch';
      detail?: Record<string, unknown>;
    }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; status?: number }
  | { kind: 'stop'; reason: string; status?: number };

export interface WorkerDeps {
  store: Pick<JobStore, 'start' | 'record' | 'release' | 'rateGuardMs'>;
  publisher: JobPublisher;
  catalog: Catalog;
  /** A logger whose lines carry the job's id, task, user and period (and the request id when given). */
  log: (message: JobMessage, requestId?: string) => Logger;
  /**
   * Longest wait in process for a rate-limit reservation (STAGGER_MAX_WAIT_MS); a later one is deferred
   * (re-published). Also bounded per delivery by its deadline less the task's timeout.
   */
  maxWaitMs?: number;
  /** What this process knows of the start script's clock (offset, round trip); default: one per process. */
  scriptClock?: ScriptClock;
  clock?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

/** One delivery's working set, so the steps below read as steps. */
export interface Run {
  deps: WorkerDeps;
  d: Delivery;
  m: JobMessage;
  log: Logger;
  clock: () => number;
  limits: readonly LimitSpec[];
  retriesLeft: number;
}

const tasksByCatalog = new WeakMap<Catalog, Map<string, Task>>();
/** What this process knows of the start script's clock, shared by every delivery it runs. */
export const processScriptClock = new ScriptClock();

/**
 * The local instants between which a reserved instant falls: from this start alone, between the wait counted from
 * the request and from the reply; with the server clock the script read, as narrow as recent starts allow.
 */
export function reservedLocally(
  scriptClock: ScriptClock,
  sentAt: number,
  repliedAt: number,
  start: { waitMs: number; serverAt?: number },
): { earliest: number; latest: number } {
  const alone = { earliest: sentAt + start.waitMs, latest: repliedAt + start.waitMs };
  if (start.serverAt === undefined) return alone;
  const known = scriptClock.local(start.serverAt + start.waitMs);
  return {
    earliest: Math.max(alone.earliest, known.earliest),
    latest: Math.min(alone.latest, known.latest),
  };
}

export function taskOf(catalog: Catalog, taskId: string): Task | undefined {
  let byId = tasksByCatalog.get(catalog);
  if (!byId) {
    byId = new Map(catalog.tasks.map((t) => [t.id, t]));
    tasksByCatalog.set(catalog, byId);
  }
  return byId.get(taskId);
}

/** The task a message names, why it must not run (unknown or disabled) and its limits. */
export function taskPlan(catalog: Catalog, taskId: string) {
  const task = taskOf(catalog, taskId);
  const skipReason = !task ? 'task_unknown' : !task.enabled ? 'task_disabled' : undefined;
  return { task, skipReason, limits: task && !skipReason ? limitsFor(catalog, task) : [] };
}

/** One job's working set. */
export function runOf(deps: WorkerDeps, d: Delivery): Run {
  const { task, limits } = taskPlan(deps.catalog, d.message.taskId);
  return {
    deps,
    d,
    m: d.message,
    log: deps.log(d.message, d.requestId),
    clock: deps.clock ?? Date.now,
    limits,
    retriesLeft: Math.max(0, (task?.retries ?? 0) - d.retried),
  };
}

export async function runDelivery(deps: WorkerDeps, d: Delivery): Promise<Verdict> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const m = d.message;
  const { task, skipReason } = taskPlan(deps.catalog, m.taskId);
  const run = runOf(deps, d);
  const clock = run.clock;

  // The whole message only at debug: it names the user and period, never params or secrets, but is noise at info.
  run.log.debug({ message: m, messageId: d.messageId, retried: d.retried }, 'job delivered');

  // Never call the target before the planned time, whatever the clocks say.
  const early = m.notBefore - clock();
  if (early > WORKER_POLICY.earlyWaitMaxMs) {
    await deps.publisher.publish(m, {
      deduplicationId: `${m.jobId}:early:${d.messageId}`,
      notBeforeMs: m.notBefore,
      retries: run.retriesLeft,
    });
    run.log.info({ outcome: 'rescheduled', earlyMs: early }, 'job arrived early; re-published for its time');
    return { kind: 'ack', outcome: 'rescheduled' };
  }
  if (early > 0) await sleep(early);
  for (let restarts = 0; ; restarts++) {
    const verdict = await startAndRun(run, task, skipReason, restarts < WORKER_POLICY.lateRestarts);
    if (verdict !== 'restart') return verdict;
  }
}

/**
 * How far ahead to reserve: a round trip, once it is long enough to make a wake-up late (a quarter of the guard,
 * the half a wake-up may take less room for the timer); below that a job is sent as soon as the reply is back.
 */
export function leadFor(scriptClock: ScriptClock, guardMs: number): number {
  const lead = scriptClock.leadMs();
  return lead > guardMs / 4 ? lead : 0;
}

/**
 * One start: claim and reserve, wait for the reserved instant, call. `'restart'` when the wake-up came too late
 * and the reservation was given back (only while `mayRestart`; otherwise the job is deferred).
 */
async function startAndRun(
  run: Run,
  task: Task | undefined,
  skipReason: string | undefined,
  mayRestart: boolean,
): Promise<Verdict | 'restart'> {
  const { deps, d, m, clock } = run;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = d.deadline ?? Number.POSITIVE_INFINITY;
  // A task timeout longer than this invocation has left would be cut off by Lambda, unrecorded.
  const timeoutMs = Math.min(task?.timeoutMs ?? 0, deadline - clock() - WORKER_POLICY.recordReserveMs);
  if (task && !skipReason && timeoutMs < 1) return { kind: 'retry', reason: 'no_time_left' };
  // A wait must leave the call its whole timeout (and the record its reserve) before the deadline.
  const maxWaitMs = Math.max(
    0,
    Math.min(
      deps.maxWaitMs ?? CONFIG_DEFAULTS.maxWaitMs,
      deadline - clock() - WORKER_POLICY.recordReserveMs - (task?.timeoutMs ?? 0),
    ),
  );
  const scriptClock = deps.scriptClock ?? processScriptClock;
  const startedAt = clock();
  const start = await deps.store.start({
    message: m,
    now: startedAt,
    leaseMs: Math.max(0, timeoutMs) + JOB_POLICY.leaseMarginMs,
    maxWaitMs,
    leadMs: Math.min(maxWaitMs, leadFor(scriptClock, deps.store.rateGuardMs)),
    limits: run.limits,
    retried: d.retried,
    ...(skipReason ? { skipReason } : {}),
    ...(task ? { periodStats: periodStatsPolicy(task) } : {}),
  });
  const repliedAt = clock();
  scriptClock.observe(startedAt, repliedAt, start.kind === 'claimed' ? start.serverAt : undefined);
  switch (start.kind) {
    case 'duplicate':
      run.log.info({ outcome: 'duplicate', state: start.state }, 'job already settled; acknowledged');
      return { kind: 'ack', outcome: 'duplicate', detail: { state: start.state } };
    case 'skipped':
      run.log.info({ outcome: 'skipped', reason: start.reason }, 'job skipped');
      return { kind: 'ack', outcome: 'skipped', detail: { reason: start.reason } };
    case 'busy':
      // Not acknowledged: if the running attempt fails, this delivery is what brings the job back.
      run.log.info(
        { outcome: 'busy', leaseUntil: start.leaseUntil },
        'job running elsewhere; asked QStash to come back',
      );
      return { kind: 'retry', reason: 'running', retryAfterMs: Math.max(1000, start.leaseUntil - clock()) };
    case 'denied':
      return defer(run, start.retryAt, start.limit, start.deferrals, start.replays);
    case 'claimed': {
      // Never before the latest local instant the reservation can be; late by at most the time since the earliest.
      const reserved = reservedLocally(scriptClock, startedAt, repliedAt, start);
      if (reserved.latest > repliedAt) await sleep(Math.ceil(reserved.latest - repliedAt));
      // Sent much later than reserved, this call could bunch with later ones at the target: give the claim back.
      // (A guard of 0 means: trust reserved instants as arrival times.)
      const late = clock() - reserved.earliest;
      if (deps.store.rateGuardMs > 0 && late > deps.store.rateGuardMs / 2) {
        const released = await deps.store.release(m, start.attempt, clock(), run.limits);
        if (!released) return { kind: 'retry', reason: 'claim_lost' };
        run.log.info(
          { lateMs: late, waitMs: start.waitMs, roundTripMs: repliedAt - startedAt },
          mayRestart ? 'woke too late to send; reserving again' : 'woke too late to send; deferred',
        );
        if (mayRestart) return 'restart';
        return defer(run, clock(), run.limits[0]?.name ?? 'late', released.deferrals, released.replays);
      }
      if (start.waitMs > 0) run.log.debug({ waitMs: start.waitMs }, 'waited for the rate-limit reservation');
      // A claimed job always has a known, enabled task: the script skipped everything else.
      return execute(run, task!, timeoutMs, start.attempt, start.params);
    }
  }
}

/** Re-publishes the job for `retryAt` (plus jitter within one limit slot) and acknowledges this delivery. */
export async function defer(
  run: Run,
  retryAt: number,
  limit: string,
  deferrals: number,
  replays: number,
): Promise<Verdict> {
  const { deps, m, log, clock } = run;
  if (m.deferrals >= WORKER_POLICY.maxDeferrals) {
    log.warn(
      { outcome: 'rate_limited', limit, deferrals: m.deferrals },
      'deferral budget spent; failing the attempt',
    );
    return { kind: 'retry', reason: 'rate_limited', retryAfterMs: Math.max(1000, retryAt - clock()) };
  }
  const spec = run.limits.find((l) => l.name === limit) ?? run.limits[0];
  const slotMs = spec ? (spec.windowMs + deps.store.rateGuardMs) / spec.limit : 0;
  const notBeforeMs = Math.ceil(retryAt + (deps.random ?? Math.random)() * slotMs);
  const n = m.deferrals + 1;
  // A replayed job starts its deferrals again: its generation keeps the dedup ids apart.
  const gen = replays > 0 ? `:g${replays}` : '';
  const messageId = await deps.publisher.publish(
    { ...m, notBefore: notBeforeMs, deferrals: n },
    { deduplicationId: `${m.jobId}${gen}:d${n}`, notBeforeMs, retries: run.retriesLeft },
  );
  log.info(
    { outcome: 'deferred', limit, deferrals: n, totalDeferrals: deferrals, notBefore: notBeforeMs },
    'rate limited; deferred',
  );
  return {
    kind: 'ack',
    outcome: 'deferred',
    detail: { limit, deferrals: n, notBefore: notBeforeMs, messageId },
  };
}

/** Records the run, retrying while Redis is unreachable within the time the invocation has left. */
function recordPersistently(run: Run, input: Parameters<WorkerDeps['store']['record']>[0]): Promise<boolean> {
  const { deps, d, clock } = run;
  return writeWhileReachable(() => deps.store.record(input), {
    clock,
    sleep: deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    ...(d.deadline === undefined ? {} : { deadline: d.deadline }),
    log: run.log,
  });
}

async function execute(
  run: Run,
  task: Task,
  timeoutMs: number,
  attempt: number,
  paramsJson: string,
): Promise<Verdict> {
  const { deps, d, m, log, clock } = run;
  const result = await callJob({
    catalog: deps.catalog,
    task,
    message: m,
    attempt,
    params: paramsJson,
    timeoutMs,
    clock,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const outcome = outcomeOf(result);
  const owned = await recordPersistently(run, {
    message: m,
    attempt,
    outcome,
    status: result.status,
    durationMs: result.durationMs,
    now: clock(),
    ...(result.kind === 'succeeded' ? {} : { error: result.error }),
    ...(outcome === 'dead' ? { deadReason: 'permanent' } : {}),
    periodStats: periodStatsPolicy(task),
  });
  const fields = {
    outcome,
    attempt,
    status: result.status,
    durationMs: result.durationMs,
    origin: m.origin,
    retried: d.retried,
  };
  if (!owned)
    log.warn(fields, 'attempt finished after its claim was taken over; state left to the newer attempt');
  else if (result.kind === 'succeeded') log.info(fields, 'job run');
  else log.warn({ ...fields, error: result.error }, 'job run failed');

  switch (result.kind) {
    case 'succeeded':
      return { kind: 'ack', outcome: 'succeeded', detail: { attempt, status: result.status } };
    case 'retryable':
      return {
        kind: 'retry',
        reason: 'target_failed',
        status: result.status,
        ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
      };
    case 'permanent':
      return { kind: 'stop', reason: 'target_refused', status: result.status };
  }
}

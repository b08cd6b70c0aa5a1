// One QStash delivery of a job, start to end: timing, claim, rate limits, the HTTP call, the record, the verdict.
import type { Catalog, Task } from '../domain/catalog.js';
import type { JobMessage } from '../domain/job.js';
import { renderTarget, TargetError, type TemplateParams } from '../domain/target.js';
import type { Logger } from '../log.js';
import { callTarget } from './call-target.js';
import { JOB_POLICY, type JobStore, type StartResult } from './job-store.js';
import { limitsFor, type LimitSpec } from './limits.js';
import type { JobPublisher } from './publish-job.js';

export const WORKER_POLICY = {
  /** Deferrals a job may take before it fails like any other attempt (and spends a QStash retry). */
  maxDeferrals: 50,
  /**
   * QStash schedules in whole seconds: a message may arrive up to a second before its notBefore.
   * Waiting that out here is cheaper than another publish; anything earlier is re-published.
   */
  earlyWaitMaxMs: 1_500,
  /** A deferred job is spread over up to this many windows after capacity returns. */
  maxJitterWindows: 8,
  /** Time kept back from the Lambda deadline for recording the run after the call is cut off. */
  recordReserveMs: 2_000,
} as const;

export interface Delivery {
  message: JobMessage;
  /** Upstash-Message-Id. */
  messageId: string;
  /** Upstash-Retried: retries QStash has already spent on this message. */
  retried: number;
  /** Epoch ms when this invocation is cut off (Lambda's remaining time); the call must end before it. */
  deadline?: number;
}

/** What the worker answers QStash: acknowledge, retry (5xx, optionally after a delay) or stop retrying. */
export type Verdict =
  | { kind: 'ack'; outcome: 'succeeded' | 'duplicate' | 'skipped' | 'deferred' | 'rescheduled'; detail?: Record<string, unknown> }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; status?: number }
  | { kind: 'stop'; reason: string; status?: number };

export interface WorkerDeps {
  store: Pick<JobStore, 'start' | 'record'>;
  publisher: JobPublisher;
  catalog: Catalog;
  log: (message: JobMessage) => Logger;
  clock?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

const tasksByCatalog = new WeakMap<Catalog, Map<string, Task>>();

function taskOf(catalog: Catalog, taskId: string): Task | undefined {
  let byId = tasksByCatalog.get(catalog);
  if (!byId) {
    byId = new Map(catalog.tasks.map((t) => [t.id, t]));
    tasksByCatalog.set(catalog, byId);
  }
  return byId.get(taskId);
}

/** User params as template values; the job's own identity wins over a param of the same name. */
export function templateParams(paramsJson: string, m: JobMessage): TemplateParams {
  const raw: unknown = JSON.parse(paramsJson);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TargetError('params are not a JSON object', 'params');
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean') out[k] = String(v);
  }
  return { ...out, userId: m.userId, taskId: m.taskId, periodKey: m.periodKey, jobId: m.jobId };
}

export async function runDelivery(deps: WorkerDeps, d: Delivery): Promise<Verdict> {
  const clock = deps.clock ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const m = d.message;
  const log = deps.log(m);
  const task = taskOf(deps.catalog, m.taskId);
  const retriesLeft = Math.max(0, (task?.retries ?? 0) - d.retried);

  // Never call the target before the planned time, whatever the clocks say.
  const early = m.notBefore - clock();
  if (early > WORKER_POLICY.earlyWaitMaxMs) {
    await deps.publisher.publish(m, {
      deduplicationId: `${m.jobId}:early:${d.messageId}`,
      notBeforeMs: m.notBefore,
      retries: retriesLeft,
    });
    log.info({ outcome: 'rescheduled', earlyMs: early }, 'job arrived early; re-published for its time');
    return { kind: 'ack', outcome: 'rescheduled' };
  }
  if (early > 0) await sleep(early);

  const skipReason = !task ? 'task_unknown' : !task.enabled ? 'task_disabled' : undefined;
  const limits = task && !skipReason ? limitsFor(deps.catalog, task) : [];
  // A task timeout longer than this invocation has left would be cut off by Lambda, unrecorded.
  const timeoutMs = Math.min(task?.timeoutMs ?? 0, (d.deadline ?? Number.POSITIVE_INFINITY) - clock() - WORKER_POLICY.recordReserveMs);
  if (task && !skipReason && timeoutMs < 1) return { kind: 'retry', reason: 'no_time_left' };
  const start = await deps.store.start({
    message: m,
    now: clock(),
    leaseMs: Math.max(0, timeoutMs) + JOB_POLICY.leaseMarginMs,
    limits,
    retried: d.retried,
    ...(skipReason ? { skipReason } : {}),
  });
  if (start.kind !== 'claimed') return settleUnclaimed(deps, d, start, limits, retriesLeft, clock, log);
  // A claimed job always has a known, enabled task: the script skipped everything else.
  return execute(deps, d, task!, timeoutMs, start.attempt, start.params, clock, log);
}

async function settleUnclaimed(
  deps: WorkerDeps,
  d: Delivery,
  start: Exclude<StartResult, { kind: 'claimed' }>,
  limits: readonly LimitSpec[],
  retriesLeft: number,
  clock: () => number,
  log: Logger,
): Promise<Verdict> {
  const m = d.message;
  switch (start.kind) {
    case 'duplicate':
      log.info({ outcome: 'duplicate', state: start.state }, 'job already settled; acknowledged');
      return { kind: 'ack', outcome: 'duplicate', detail: { state: start.state } };
    case 'skipped':
      log.info({ outcome: 'skipped', reason: start.reason }, 'job skipped');
      return { kind: 'ack', outcome: 'skipped', detail: { reason: start.reason } };
    case 'busy':
      // Not acknowledged: if the running attempt fails, this delivery is what brings the job back.
      log.info({ outcome: 'busy', leaseUntil: start.leaseUntil }, 'job running elsewhere; asked QStash to come back');
      return { kind: 'retry', reason: 'running', retryAfterMs: Math.max(1000, start.leaseUntil - clock()) };
    case 'denied': {
      const waitMs = Math.max(0, start.retryAt - clock());
      if (m.deferrals >= WORKER_POLICY.maxDeferrals) {
        log.warn({ outcome: 'rate_limited', limit: start.limit, deferrals: m.deferrals }, 'deferral budget spent; failing the attempt');
        return { kind: 'retry', reason: 'rate_limited', retryAfterMs: Math.max(1000, waitMs) };
      }
      const windowMs = limits.find((l) => l.name === start.limit)?.windowMs ?? 1000;
      const windows = Math.min(1 + m.deferrals, WORKER_POLICY.maxJitterWindows);
      const notBeforeMs = Math.ceil(start.retryAt + (deps.random ?? Math.random)() * windowMs * windows);
      const n = m.deferrals + 1;
      // A replayed job starts its deferrals again: its generation keeps the dedup ids apart.
      const gen = start.replays > 0 ? `:g${start.replays}` : '';
      const messageId = await deps.publisher.publish(
        { ...m, notBefore: notBeforeMs, deferrals: n },
        { deduplicationId: `${m.jobId}${gen}:d${n}`, notBeforeMs, retries: retriesLeft },
      );
      log.info({ outcome: 'deferred', limit: start.limit, deferrals: n, notBefore: notBeforeMs }, 'rate limited; deferred');
      return { kind: 'ack', outcome: 'deferred', detail: { limit: start.limit, deferrals: n, notBefore: notBeforeMs, messageId } };
    }
  }
}

async function execute(
  deps: WorkerDeps,
  d: Delivery,
  task: Task,
  timeoutMs: number,
  attempt: number,
  paramsJson: string,
  clock: () => number,
  log: Logger,
): Promise<Verdict> {
  const m = d.message;
  let result: Awaited<ReturnType<typeof callTarget>>;
  try {
    const target = renderTarget(task, templateParams(paramsJson, m), { allowedHosts: deps.catalog.allowedHosts });
    result = await callTarget(target, {
      timeoutMs,
      headers: {
        'Idempotency-Key': m.jobId,
        'X-Stagger-Job-Id': m.jobId,
        'X-Stagger-Attempt': String(attempt),
        'X-Stagger-Origin': m.origin,
      },
      clock,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
  } catch (err) {
    if (!(err instanceof TargetError) && !(err instanceof SyntaxError)) throw err;
    result = { kind: 'permanent', status: 0, durationMs: 0, error: `target not rendered (${err instanceof TargetError ? err.field : 'params'}): ${err.message}` };
  }

  const outcome = result.kind === 'succeeded' ? 'succeeded' : result.kind === 'retryable' ? 'failed' : 'dead';
  const owned = await deps.store.record({
    message: m,
    attempt,
    outcome,
    status: result.status,
    durationMs: result.durationMs,
    now: clock(),
    ...(result.kind === 'succeeded' ? {} : { error: result.error }),
    ...(outcome === 'dead' ? { deadReason: 'permanent' } : {}),
  });
  const fields = { outcome, attempt, status: result.status, durationMs: result.durationMs, origin: m.origin, retried: d.retried };
  if (!owned) log.warn(fields, 'attempt finished after its claim was taken over; state left to the newer attempt');
  else if (outcome === 'succeeded') log.info(fields, 'job run');
  else log.warn({ ...fields, error: result.kind === 'succeeded' ? undefined : result.error }, 'job run failed');

  switch (result.kind) {
    case 'succeeded':
      return { kind: 'ack', outcome: 'succeeded', detail: { attempt, status: result.status } };
    case 'retryable':
      return { kind: 'retry', reason: 'target_failed', status: result.status, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) };
    case 'permanent':
      return { kind: 'stop', reason: 'target_refused', status: result.status };
  }
}

// One job's HTTP call: its target rendered from the user's params, sent with the job's idempotency headers.
import type { Catalog, Task } from '../domain/catalog.js';
import type { JobMessage } from '../domain/job.js';
import { renderTarget, TargetError, type TemplateParams } from '../domain/target.js';
import { callTarget, type CallResult } from './call-target.js';

/** User params as template values; the job's own identity wins over a param of the same name. */
export function templateParams(paramsJson: string, m: JobMessage): TemplateParams {
  const raw: unknown = JSON.parse(paramsJson);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new TargetError('params are not a JSON object', 'params');
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'boolean') out[k] = String(v);
  }
  return { ...out, userId: m.userId, taskId: m.taskId, periodKey: m.periodKey, jobId: m.jobId };
}

export interface CallJobOptions {
  catalog: Catalog;
  task: Task;
  message: JobMessage;
  attempt: number;
  params: string;
  timeoutMs: number;
  clock: () => number;
  fetch?: typeof fetch;
}

/** Calls the job's target; a target that cannot be rendered from the params is a permanent failure, not a throw. */
export async function callJob(o: CallJobOptions): Promise<CallResult> {
  const m = o.message;
  try {
    const target = renderTarget(o.task, templateParams(o.params, m), {
      allowedHosts: o.catalog.allowedHosts,
    });
    return await callTarget(target, {
      timeoutMs: o.timeoutMs,
      headers: {
        'Idempotency-Key': m.jobId,
        'X-Stagger-Job-Id': m.jobId,
        'X-Stagger-Attempt': String(o.attempt),
        'X-Stagger-Origin': m.origin,
      },
      clock: o.clock,
      ...(o.fetch ? { fetch: o.fetch } : {}),
    });
  } catch (err) {
    if (!(err instanceof TargetError) && !(err instanceof SyntaxError)) throw err;
    const field = err instanceof TargetError ? err.field : 'params';
    return {
      kind: 'permanent',
      status: 0,
      durationMs: 0,
      error: `target not rendered (${field}): ${err.message}`,
    };
  }
}

/** The state a call's result leaves the job in. */
export function outcomeOf(result: CallResult): 'succeeded' | 'failed' | 'dead' {
  return result.kind === 'succeeded' ? 'succeeded' : result.kind === 'retryable' ? 'failed' : 'dead';
}

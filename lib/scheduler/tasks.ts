// Adapter from the task catalog to what the scheduler reads of a task type (enabled tasks only).
import { GLOBAL_RATE_LIMIT, type Catalog, type Task } from '../domain/catalog.js';
import type { SchedulableTask } from './plan.js';
import type { RateLimitRule } from './plan-spread.js';

export function schedulableTask(task: Task, limits: Catalog['rateLimits']): SchedulableTask {
  const rules: RateLimitRule[] = [];
  for (const key of new Set([...task.rateLimits, GLOBAL_RATE_LIMIT])) {
    const rule = limits[key];
    if (rule) rules.push({ name: key, limit: rule.limit, windowMs: rule.windowMs });
  }
  return {
    id: task.id,
    schedule: task.schedule,
    zone: task.zone,
    spreadMs: task.spreadMs,
    retries: task.retries,
    timeoutMs: task.timeoutMs,
    catchUp: task.catchUp,
    rateLimits: rules,
  };
}

/** The enabled task types of a catalog, by id. */
export function schedulableTasks(catalog: Catalog): Map<string, SchedulableTask> {
  const out = new Map<string, SchedulableTask>();
  for (const task of catalog.tasks)
    if (task.enabled) out.set(task.id, schedulableTask(task, catalog.rateLimits));
  return out;
}

// Catalog lookups and the API's views of task types (no target: URLs and headers stay internal).
import type { z } from 'zod';
import type { Catalog, Task } from '../domain/catalog.js';
import type { ScheduleView, TaskTypeView } from './schemas.js';

const indexes = new WeakMap<Catalog, Map<string, Task>>();

export function findTask(catalog: Catalog, taskId: string): Task | undefined {
  let byId = indexes.get(catalog);
  if (!byId) {
    byId = new Map(catalog.tasks.map((t) => [t.id, t]));
    indexes.set(catalog, byId);
  }
  return byId.get(taskId);
}

export function scheduleView(schedule: Task['schedule']): z.output<typeof ScheduleView> {
  return schedule.kind === 'cron' ? { cron: schedule.cron } : { every: schedule.every, at: schedule.at };
}

export function taskTypeView(task: Task, users: number, paused: boolean): z.output<typeof TaskTypeView> {
  return {
    id: task.id,
    description: task.description,
    schedule: scheduleView(task.schedule),
    zone: task.zone,
    spreadMs: task.spreadMs,
    timeoutMs: task.timeoutMs,
    retries: task.retries,
    rateLimits: task.rateLimits,
    enabled: task.enabled,
    paused,
    users,
  };
}

// Admin use cases for task types: the catalog joined with live counts and the paused set.
import type { z } from 'zod';
import { NotFoundError } from '../errors.js';
import { findTask, taskTypeView } from './catalog-views.js';
import type { PauseResult, TaskTypeDetail, TaskTypeList } from './schemas.js';
import type { AdminDeps } from './users-service.js';

function mustFind(deps: AdminDeps, taskId: string) {
  const task = findTask(deps.catalog, taskId);
  if (!task) throw new NotFoundError(`task type ${taskId} not found`);
  return task;
}

export async function listTaskTypes(deps: AdminDeps): Promise<z.output<typeof TaskTypeList>> {
  const stats = await deps.store.taskStats();
  return {
    taskTypes: deps.catalog.tasks.map((t) =>
      taskTypeView(t, stats.counts[t.id] ?? 0, stats.paused.has(t.id)),
    ),
  };
}

export async function getTaskType(deps: AdminDeps, taskId: string): Promise<z.output<typeof TaskTypeDetail>> {
  const task = mustFind(deps, taskId);
  const stats = await deps.store.taskStats(taskId);
  return {
    ...taskTypeView(task, stats.counts[taskId] ?? 0, stats.paused.has(taskId)),
    zoneGroups: stats.zones,
  };
}

export async function setPaused(
  deps: AdminDeps,
  taskId: string,
  paused: boolean,
): Promise<z.output<typeof PauseResult>> {
  mustFind(deps, taskId);
  const changed = paused ? await deps.store.pauseTask(taskId) : await deps.store.resumeTask(taskId);
  return { id: taskId, paused, changed };
}

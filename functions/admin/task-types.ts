// Admin API: the task catalog with live counts, and pausing. Thin: lib/admin/task-types-service does the work.
import { adminDeps } from '../../lib/admin/deps.js';
import { ADMIN_ROUTES as R } from '../../lib/admin/routes.js';
import * as taskTypes from '../../lib/admin/task-types-service.js';
import { routeHandler } from '../../lib/api/route.js';

export const list = routeHandler(R.listTaskTypes, async () => ({
  status: 200,
  body: await taskTypes.listTaskTypes(adminDeps()),
}));

export const get = routeHandler(R.getTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.getTaskType(adminDeps(), path.taskId),
}));

export const pause = routeHandler(R.pauseTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.setPaused(adminDeps(), path.taskId, true),
}));

export const resume = routeHandler(R.resumeTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.setPaused(adminDeps(), path.taskId, false),
}));

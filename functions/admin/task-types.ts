// Admin API: the task catalog with live counts, and pausing. Thin: lib/admin/task-types-service does the work.
import { ADMIN_ROUTES as R } from '../../lib/admin/routes.js';
import * as taskTypes from '../../lib/admin/task-types-service.js';
import { routeHandler } from '../../lib/api/route.js';
import { runtime } from '../../lib/runtime.js';

export const list = routeHandler(R.listTaskTypes, async () => ({
  status: 200,
  body: await taskTypes.listTaskTypes(runtime().admin),
}));

export const get = routeHandler(R.getTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.getTaskType(runtime().admin, path.taskId),
}));

export const pause = routeHandler(R.pauseTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.setPaused(runtime().admin, path.taskId, true),
}));

export const resume = routeHandler(R.resumeTaskType, async ({ path }) => ({
  status: 200,
  body: await taskTypes.setPaused(runtime().admin, path.taskId, false),
}));

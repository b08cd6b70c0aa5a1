// Admin API: the task types a user has enabled. Thin: the route spec parses, lib/admin/users-service does the work.
import { ADMIN_ROUTES as R } from '../../lib/admin/routes.js';
import * as users from '../../lib/admin/users-service.js';
import { routeHandler } from '../../lib/api/route.js';
import { runtime } from '../../lib/runtime.js';

export const put = routeHandler(R.putUserTask, async ({ path, body }) => {
  const result = await users.enableUserTask(runtime().admin, path.userId, path.taskId, body?.params ?? {});
  return { status: result.outcome === 'enabled' ? 201 : 200, body: result };
});

export const remove = routeHandler(R.deleteUserTask, async ({ path }) => {
  await users.disableUserTask(runtime().admin, path.userId, path.taskId);
  return { status: 204 };
});

export const list = routeHandler(R.listUserTasks, async ({ path }) => ({
  status: 200,
  body: await users.listUserTasks(runtime().admin, path.userId),
}));

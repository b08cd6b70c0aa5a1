// Admin API: users. Thin: the route spec parses, lib/admin/users-service does the work.
import { ADMIN_ROUTES as R } from '../../lib/admin/routes.js';
import * as users from '../../lib/admin/users-service.js';
import { routeHandler } from '../../lib/api/route.js';
import { runtime } from '../../lib/runtime.js';

export const put = routeHandler(R.putUser, async ({ path, body }) => {
  const { created, user } = await users.putUser(runtime().admin, path.userId, body);
  return { status: created ? 201 : 200, body: user };
});

export const get = routeHandler(R.getUser, async ({ path }) => ({
  status: 200,
  body: await users.getUser(runtime().admin, path.userId),
}));

export const remove = routeHandler(R.deleteUser, async ({ path }) => {
  await users.deleteUser(runtime().admin, path.userId);
  return { status: 204 };
});

export const list = routeHandler(R.listUsers, async ({ query }) => ({
  status: 200,
  body: await users.listUsers(runtime().admin, query.cursor, query.limit),
}));

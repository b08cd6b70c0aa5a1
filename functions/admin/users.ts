// Admin API: users. Thin: the route spec parses, lib/admin/users-service does the work.
import { adminDeps } from '../../lib/admin/deps.js';
import { ADMIN_ROUTES as R } from '../../lib/admin/routes.js';
import * as users from '../../lib/admin/users-service.js';
import { routeHandler } from '../../lib/api/route.js';

export const put = routeHandler(R.putUser, async ({ path, body }) => {
  const { created, user } = await users.putUser(adminDeps(), path.userId, body);
  return { status: created ? 201 : 200, body: user };
});

export const get = routeHandler(R.getUser, async ({ path }) => ({
  status: 200,
  body: await users.getUser(adminDeps(), path.userId),
}));

export const remove = routeHandler(R.deleteUser, async ({ path }) => {
  await users.deleteUser(adminDeps(), path.userId);
  return { status: 204 };
});

export const list = routeHandler(R.listUsers, async ({ query }) => ({
  status: 200,
  body: await users.listUsers(adminDeps(), query.cursor, query.limit),
}));

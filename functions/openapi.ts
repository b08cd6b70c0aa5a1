// GET /openapi.json: the API description, generated from the route table. Public: it holds no data, only shapes.
import { buildOpenApi } from '../lib/api/openapi.js';
import { ALL_ROUTES, PUBLIC_ROUTES } from '../lib/api/routes.js';
import { routeHandler } from '../lib/api/route.js';

let document: ReturnType<typeof buildOpenApi> | undefined;

export const handler = routeHandler(PUBLIC_ROUTES.openapi, async () => {
  document ??= buildOpenApi(ALL_ROUTES);
  return { status: 200, body: document };
});

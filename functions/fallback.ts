// Any method and path no route takes: 405 with Allow when the path exists, else 404, in the API's one error shape.
import { allowedMethods, FALLBACK_ROUTE } from '../lib/api/fallback.js';
import { routeHandler } from '../lib/api/route.js';
import { ALL_ROUTES } from '../lib/api/routes.js';
import { MethodNotAllowedError, NotFoundError } from '../lib/errors.js';

export const handler = routeHandler(FALLBACK_ROUTE, async (_input, { event }) => {
  const method = event.requestContext.http.method.toUpperCase();
  const allow = allowedMethods(ALL_ROUTES, event.rawPath);
  if (allow.length === 0) throw new NotFoundError(`no route for ${method} ${event.rawPath}`);
  throw new MethodNotAllowedError(method, allow);
});

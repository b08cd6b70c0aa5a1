// Any method and path no route takes: 405 with Allow when the path exists, else 404, in the API's one error shape.
import { allowedMethods } from '../lib/api/fallback.js';
import { ALL_ROUTES } from '../lib/api/routes.js';
import { MethodNotAllowedError, NotFoundError } from '../lib/errors.js';
import { errorResult, httpHandler } from '../lib/http/handler.js';

export const handler = httpHandler({ auth: 'none' }, async ({ event, requestId }) => {
  const method = event.requestContext.http.method.toUpperCase();
  const allow = allowedMethods(ALL_ROUTES, event.rawPath);
  if (allow.length === 0) throw new NotFoundError(`no route for ${method} ${event.rawPath}`);
  const result = errorResult(new MethodNotAllowedError(method, allow), requestId);
  return { ...result, headers: { ...result.headers, allow: allow.join(', ') } };
});

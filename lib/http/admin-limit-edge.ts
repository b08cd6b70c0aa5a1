// The admin limits at the edge: one call from routeHandler after the key check; a denied request is a 429 with Retry-After.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RateLimitedError } from '../errors.js';
import { logger } from '../log.js';
import { runtime } from '../runtime.js';
import { limitClassOf, sourceAddressOf } from './admin-limits.js';
import { bearerToken } from './auth.js';

/** Throws RateLimitedError when the caller's key or address is over the route's budget. */
export async function enforceAdminLimits(
  route: { operationId: string; method: string },
  event: APIGatewayProxyEventV2,
): Promise<void> {
  const cls = limitClassOf(route);
  const address = sourceAddressOf(event);
  const verdict = await runtime().adminLimiter.check(cls, { key: bearerToken(event.headers) ?? '', address });
  if (verdict.allowed) return;
  // The address is an operator's concern; the key never appears, not even hashed.
  logger.warn(
    { route: route.operationId, budget: cls, scope: verdict.scope, address },
    'admin request limited',
  );
  throw new RateLimitedError(
    `too many ${cls === 'runNow' ? 'run-now' : cls} requests for this ${verdict.scope === 'key' ? 'API key' : 'address'}: at most ${verdict.limit} per window`,
    verdict.retryAfterMs,
  );
}

// The admin limits at the edge: one call from routeHandler after the key check; a denied request is a 429 with Retry-After.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RateLimitedError } from '../errors.js';
import { logger } from '../log.js';
import { runtime, type Runtime } from '../runtime.js';
import { keysFor } from '../store/keys.js';
import { AdminLimiter, adminLimitSettings, limitClassOf, sourceAddressOf } from './admin-limits.js';
import { bearerToken } from './auth.js';

// One limiter per runtime (a Lambda instance), so its cache of blocked callers outlives a request.
const limiters = new WeakMap<Runtime, AdminLimiter>();

function limiterOf(rt: Runtime): AdminLimiter {
  let limiter = limiters.get(rt);
  if (!limiter) {
    const prefix = keysFor(rt.config.STAGGER_KEY_PREFIX).adminRateLimit;
    limiter = new AdminLimiter(rt.redis, adminLimitSettings(), { prefix });
    limiters.set(rt, limiter);
  }
  return limiter;
}

/** Throws RateLimitedError when the caller's key or address is over the route's budget. */
export async function enforceAdminLimits(
  route: { operationId: string; method: string },
  event: APIGatewayProxyEventV2,
): Promise<void> {
  const cls = limitClassOf(route);
  const address = sourceAddressOf(event);
  const verdict = await limiterOf(runtime()).check(cls, { key: bearerToken(event.headers) ?? '', address });
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

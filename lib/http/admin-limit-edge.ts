// The edge's admin limits (before, after the key check): a caller over its budget gets 429 with Retry-After.
import { RateLimitedError } from '../errors.js';
import { logger } from '../log.js';
import { runtime } from '../runtime.js';
import { limitClassOf } from './admin-limits.js';
import { bearerToken } from './auth.js';
import type { EdgeMiddleware } from './event.js';

/** before: throws RateLimitedError when the caller's key or address is over the route's budget. */
export function adminLimits(route: { operationId: string; method: string }): EdgeMiddleware {
  const cls = limitClassOf(route);
  return {
    before: async ({ event: { event } }) => {
      const address = event.requestContext?.http?.sourceIp ?? 'unknown';
      const key = bearerToken(event.headers) ?? '';
      const verdict = await runtime().adminLimiter.check(cls, { key, address });
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
    },
  };
}

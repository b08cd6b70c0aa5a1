// The edge's admin limits (before, after the key check): a caller over its budget gets 429 with Retry-After.
import { RateLimitedError } from '../errors.js';
import { logger } from '../log.js';
import { runtime, type Runtime } from '../runtime.js';
import { keysFor } from '../store/keys.js';
import { AdminLimiter, adminLimitSettings, limitClassOf } from './admin-limits.js';
import { bearerToken } from './auth.js';
import type { EdgeMiddleware } from './event.js';

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

/** before: throws RateLimitedError when the caller's key or address is over the route's budget. */
export function adminLimits(route: { operationId: string; method: string }): EdgeMiddleware {
  const cls = limitClassOf(route);
  return {
    before: async ({ event: { event } }) => {
      const address = event.requestContext?.http?.sourceIp ?? 'unknown';
      const key = bearerToken(event.headers) ?? '';
      const verdict = await limiterOf(runtime()).check(cls, { key, address });
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

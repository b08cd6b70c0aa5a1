// The edge's one error mapper (onError): every error becomes {error:{code,message,requestId,details?}}; 4xx shown, the rest generic.
import {
  AppError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RateLimitedError,
  ValidationError,
} from '../errors.js';
import { logger } from '../log.js';
import type { EdgeMiddleware } from './event.js';
import { json, type HttpResult } from './response.js';

/** QStash's documented opt-out of retries: this status with `Upstash-NonRetryable-Error: true`. */
export const NON_RETRYABLE_STATUS = 489;
export const NON_RETRYABLE_HEADERS = { 'Upstash-NonRetryable-Error': 'true' };

/** Maps any error to the one error shape; only 4xx messages are shown, everything else is a generic 500. */
export function errorResult(err: unknown, requestId: string): HttpResult {
  if (err instanceof AppError && err.status < 500) {
    const body: Record<string, unknown> = { code: err.code, message: err.message, requestId };
    if (err.details !== undefined) body['details'] = err.details;
    const headers: Record<string, string> = {};
    if (err instanceof RateLimitedError) headers['Retry-After'] = String(Math.ceil(err.retryAfterMs / 1000));
    if (err instanceof MethodNotAllowedError) headers['allow'] = err.allow.join(', ');
    return json(err.status, { error: body }, headers);
  }
  const status = err instanceof AppError ? err.status : 500;
  const described =
    err instanceof Error
      ? { name: err.name, message: err.message, stack: err.stack }
      : { value: String(err) };
  logger.error({ requestId, err: described }, 'request failed');
  const code = status === 503 ? 'unavailable' : 'internal_error';
  return json(status, { error: { code, message: 'internal error', requestId } });
}

/** onError: the error as a response. `signed`: a bad body (invalid, too large) fails every retry alike: 489. */
export function errorMapper(signed: boolean): EdgeMiddleware {
  return {
    onError: (request) => {
      const { error: err, event } = request;
      const result = (request.response = errorResult(err, event.requestId));
      if (!signed || !(err instanceof ValidationError || err instanceof PayloadTooLargeError)) return;
      result.statusCode = NON_RETRYABLE_STATUS;
      result.headers = { ...result.headers, ...NON_RETRYABLE_HEADERS };
    },
  };
}

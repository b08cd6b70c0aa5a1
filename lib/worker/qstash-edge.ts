// A delivery's verdict as the HTTP answer QStash acts on: 200 acknowledges, 503 retries, 489 stops retrying.
import { NON_RETRYABLE_HEADERS, NON_RETRYABLE_STATUS } from '../http/errors.js';
import { json, type HttpResult } from '../http/response.js';
import type { Verdict } from './run-delivery.js';

/** ack: 200. retry: 503 (QStash retries; Retry-After when we know better). stop: 489, non-retryable. */
export function verdictResult(v: Verdict): HttpResult {
  switch (v.kind) {
    case 'ack':
      return json(200, { outcome: v.outcome, ...v.detail });
    case 'retry': {
      const headers: Record<string, string> =
        v.retryAfterMs === undefined ? {} : { 'Retry-After': String(Math.ceil(v.retryAfterMs / 1000)) };
      return json(
        503,
        { outcome: 'retry', reason: v.reason, ...(v.status === undefined ? {} : { status: v.status }) },
        headers,
      );
    }
    case 'stop':
      return json(
        NON_RETRYABLE_STATUS,
        { outcome: 'failed', reason: v.reason, ...(v.status === undefined ? {} : { status: v.status }) },
        NON_RETRYABLE_HEADERS,
      );
  }
}

// The client's fetch: a timeout per attempt, and retries with backoff when the server says "not now" (429, 503).
export interface RetryPolicy {
  /** Milliseconds before one attempt is abandoned (default 10 s). */
  timeoutMs: number;
  /** Retries after the first attempt on 429/503 (and, for GET/PUT/DELETE, on network errors and timeouts). */
  retries: number;
  /** First backoff; doubled each retry, capped at 10 s. A Retry-After header in seconds wins when given. */
  retryBaseMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { timeoutMs: 10_000, retries: 2, retryBaseMs: 250 };

const RETRY_STATUSES = new Set([429, 503]);
/** A request that may or may not have reached the server is repeated only when repeating it changes nothing. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const MAX_BACKOFF_MS = 10_000;

/** Milliseconds to wait before retry number `retry` (0-based). */
export function backoffMs(policy: RetryPolicy, retry: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_BACKOFF_MS);
  return Math.min(policy.retryBaseMs * 2 ** retry, MAX_BACKOFF_MS);
}

/**
 * Aborts after `ms` (covering the body too) or with the caller's signal. A plain timer rather than
 * AbortSignal.timeout inside AbortSignal.any, whose timeout Node 20 may collect before it fires.
 */
function timeoutSignal(ms: number, outer: AbortSignal | null): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    ms,
  );
  timer.unref();
  outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return controller.signal;
}

export function retryingFetch(
  policy: RetryPolicy,
  inner: (input: Request) => Promise<Response> = (r) => fetch(r),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): (input: Request) => Promise<Response> {
  return async (request) => {
    for (let retry = 0; ; retry++) {
      const last = retry >= policy.retries;
      const attempt = new Request(request.clone(), {
        signal: timeoutSignal(policy.timeoutMs, request.signal),
      });
      let response: Response;
      try {
        response = await inner(attempt);
      } catch (err) {
        if (last || !IDEMPOTENT.has(request.method) || request.signal?.aborted) throw err;
        await sleep(backoffMs(policy, retry, null));
        continue;
      }
      if (last || !RETRY_STATUSES.has(response.status)) return response;
      await response.body?.cancel();
      await sleep(backoffMs(policy, retry, response.headers.get('retry-after')));
    }
  };
}

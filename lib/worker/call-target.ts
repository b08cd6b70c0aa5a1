// The job's HTTP call: one timeout for the whole exchange, same-host redirects only, and a verdict on retrying.
import type { RenderedTarget } from '../domain/target.js';

export const MAX_REDIRECTS = 3;
const ERROR_BODY_BYTES = 300;

export type CallResult =
  | { kind: 'succeeded'; status: number; durationMs: number }
  /** Worth retrying: 408, 425, 429, 5xx, timeouts, network errors. `retryAfterMs` from the target's Retry-After. */
  | { kind: 'retryable'; status: number; durationMs: number; error: string; retryAfterMs?: number }
  /** Retrying cannot help: other 4xx, redirects off the host or too many of them. */
  | { kind: 'permanent'; status: number; durationMs: number; error: string };

export interface CallOptions {
  timeoutMs: number;
  /** Added to the rendered headers; they win over the catalog's. */
  headers: Record<string, string>;
  fetch?: typeof fetch;
  clock?: () => number;
}

const RETRYABLE_4XX = new Set([408, 425, 429]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DAY_MS = 86_400_000;

/** `Retry-After` in seconds or as an HTTP date; undefined when absent, malformed or over a day. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) && ms >= 0 && ms <= DAY_MS ? ms : undefined;
}

async function bodySnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `network error: ${err instanceof Error ? err.message : String(err)}${cause}`;
}

export async function callTarget(target: RenderedTarget, opts: CallOptions): Promise<CallResult> {
  const doFetch = opts.fetch ?? fetch;
  const clock = opts.clock ?? Date.now;
  const started = clock();
  const elapsed = () => clock() - started;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const origin = new URL(target.url);
  let url = origin;
  let method: string = target.method;
  let body = target.body;
  let headers: Record<string, string> = { ...target.headers, ...opts.headers };

  try {
    for (let redirects = 0; ; redirects++) {
      const res = await doFetch(url, { method, headers, body, redirect: 'manual', signal });
      const status = res.status;
      if (status >= 200 && status < 300) {
        await res.body?.cancel().catch(() => undefined);
        return { kind: 'succeeded', status, durationMs: elapsed() };
      }
      if (REDIRECTS.has(status)) {
        await res.body?.cancel().catch(() => undefined);
        const location = res.headers.get('location');
        const next =
          location === null || !URL.canParse(location, url.href) ? undefined : new URL(location, url);
        if (!next)
          return {
            kind: 'permanent',
            status,
            durationMs: elapsed(),
            error: `HTTP ${status} without a usable Location`,
          };
        // Only the host the catalog allowed; a redirect elsewhere is refused, not followed.
        if (next.host !== origin.host || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
          return {
            kind: 'permanent',
            status,
            durationMs: elapsed(),
            error: `HTTP ${status} redirect to another host refused`,
          };
        }
        if (redirects >= MAX_REDIRECTS) {
          return {
            kind: 'permanent',
            status,
            durationMs: elapsed(),
            error: `more than ${MAX_REDIRECTS} redirects`,
          };
        }
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = Object.fromEntries(
            Object.entries(headers).filter(([n]) => n.toLowerCase() !== 'content-type'),
          );
        }
        url = next;
        continue;
      }
      const snippet = await bodySnippet(res);
      const error = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
      if (status >= 500 || RETRYABLE_4XX.has(status)) {
        const after = retryAfterMs(res.headers.get('retry-after'), clock());
        return {
          kind: 'retryable',
          status,
          durationMs: elapsed(),
          error,
          ...(after === undefined ? {} : { retryAfterMs: after }),
        };
      }
      return { kind: 'permanent', status, durationMs: elapsed(), error };
    }
  } catch (err) {
    return {
      kind: 'retryable',
      status: 0,
      durationMs: elapsed(),
      error: describeFailure(err, opts.timeoutMs),
    };
  }
}

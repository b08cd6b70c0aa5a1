// When a failed delivery is tried again: QStash's backoff curve, `Upstash-Retry-Delay`
// expressions, `Retry-After`-style response headers, and durations like "1d10h30m".
import { HttpError } from './errors.js';

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** Parses "50s", "3m", "1d10h30m", "1500ms", or a bare number of seconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    end = re.lastIndex;
  }
  if (end === 0 || end !== s.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/**
 * QStash's documented default backoff: `min(86400, e ** (2.5 * n))` seconds before retry n
 * (n = 1 for the first retry: 12 s, 2 min 28 s, 30 min, 6 h, then 24 h).
 */
export function qstashBackoffMs(retryNumber: number): number {
  return Math.round(Math.min(86_400, Math.exp(2.5 * retryNumber)) * 1000);
}

type Fn = (...xs: number[]) => number;
const FUNCTIONS: Record<string, Fn> = {
  pow: (x = 0, y = 0) => x ** y,
  sqrt: (x = 0) => Math.sqrt(x),
  abs: (x = 0) => Math.abs(x),
  exp: (x = 0) => Math.exp(x),
  floor: (x = 0) => Math.floor(x),
  ceil: (x = 0) => Math.ceil(x),
  round: (x = 0) => Math.round(x),
  min: (...xs) => Math.min(...xs),
  max: (...xs) => Math.max(...xs),
};

/**
 * Evaluates an `Upstash-Retry-Delay` expression (milliseconds) such as `pow(2, retried) * 1000`:
 * numbers, `retried`, + - * / %, parentheses, and pow sqrt abs exp floor ceil round min max.
 * A small recursive-descent parser, so no user text is ever run as code.
 */
export function evalRetryDelay(expr: string, retried: number): number {
  const tokens = expr.match(/\d+(?:\.\d+)?|[A-Za-z_]+|[-+*/%(),]|\S/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new HttpError(400, `invalid Upstash-Retry-Delay expression: ${why}`);
  };
  const peek = () => tokens[i];
  const take = (t?: string) => {
    const tok = tokens[i++];
    if (tok === undefined || (t !== undefined && tok !== t)) fail(`expected ${t ?? 'a term'}`);
    return tok as string;
  };
  const primary = (): number => {
    const tok = take();
    if (/^\d/.test(tok)) return Number(tok);
    if (tok === '(') {
      const v = sum();
      take(')');
      return v;
    }
    if (tok === '-') return -primary();
    if (tok === '+') return primary();
    if (tok === 'retried') return retried;
    const fn = FUNCTIONS[tok];
    if (!fn) return fail(`unknown name "${tok}"`);
    take('(');
    const args = [sum()];
    while (peek() === ',') {
      take(',');
      args.push(sum());
    }
    take(')');
    return fn(...args);
  };
  const product = (): number => {
    let v = primary();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      take();
      const r = primary();
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      take();
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const value = sum();
  if (i !== tokens.length) fail(`unexpected "${tokens[i]}"`);
  if (!Number.isFinite(value)) fail('not a finite number');
  return Math.max(0, Math.round(value));
}

/**
 * Reads `Retry-After`, `X-RateLimit-Reset`, `X-RateLimit-Reset-Requests` or
 * `X-RateLimit-Reset-Tokens` (seconds, an HTTP date, or a duration like "6m5s").
 * Returns ms, or undefined when absent or beyond QStash's one-day cap.
 */
export function retryAfterMs(header: (name: string) => string | undefined, now: number): number | undefined {
  const names = [
    'retry-after',
    'x-ratelimit-reset',
    'x-ratelimit-reset-requests',
    'x-ratelimit-reset-tokens',
  ];
  for (const name of names) {
    const v = header(name)?.trim();
    if (!v) continue;
    let ms = parseDuration(v);
    if (ms === undefined) {
      const date = Date.parse(v);
      if (!Number.isNaN(date)) ms = Math.max(0, date - now);
    }
    if (ms !== undefined) return ms <= DAY_MS ? ms : undefined;
  }
  return undefined;
}

export interface RetryDelayInput {
  /** Upstash-Retried of the attempt that just failed (0 for the first attempt). */
  retried: number;
  expression?: string;
  responseHeader?: (name: string) => string | undefined;
  now: number;
  /** Fast local curve `retryBaseMs * 2^retried`; undefined = QStash's curve. */
  retryBaseMs?: number;
}

/** Milliseconds to wait before the next attempt. */
export function nextRetryDelayMs(input: RetryDelayInput): number {
  const fromResponse = input.responseHeader ? retryAfterMs(input.responseHeader, input.now) : undefined;
  if (fromResponse !== undefined) return fromResponse;
  if (input.expression !== undefined) return evalRetryDelay(input.expression, input.retried);
  if (input.retryBaseMs !== undefined) return Math.min(DAY_MS, input.retryBaseMs * 2 ** input.retried);
  return qstashBackoffMs(input.retried + 1);
}

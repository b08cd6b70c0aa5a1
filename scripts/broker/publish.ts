// Turns a publish request (destination, headers, body) into a stored message spec, as QStash reads its headers.
import { createHash } from 'node:crypto';
import { HttpError } from './errors.js';
import type { CallbackSpec, MessageSpec } from './message.js';
import { evalRetryDelay, parseDuration } from './retry-policy.js';

export const DEFAULT_RETRIES = 3;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

export interface PublishInput {
  destination: string;
  /** Header pairs with their original case. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  /** Unix ms. */
  now: number;
  callerIp?: string;
  queueName?: string;
}

export interface ParsedPublish {
  spec: MessageSpec;
  /** Due time, unix ms. */
  dueAt: number;
  /** Key to deduplicate on (explicit id or content hash), if asked for. */
  dedupKey?: string;
}

/** Accepts the destination as the client sends it (raw, or URL-encoded as curl users do). */
export function normalizeDestination(raw: string): string {
  let d = raw;
  if (/^https?%3A/i.test(d)) d = decodeURIComponent(d);
  // Some proxies collapse "//" in paths: "http:/host" -> "http://host".
  d = d.replace(/^(https?):\/(?!\/)/i, '$1://');
  if (!/^https?:\/\//i.test(d)) {
    throw new HttpError(
      400,
      `destination must be an http(s) URL; URL groups and APIs are not supported: ${d}`,
    );
  }
  try {
    new URL(d);
  } catch {
    throw new HttpError(400, `invalid destination URL: ${d}`);
  }
  return d;
}

function duration(name: string, v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new HttpError(400, `invalid ${name} header: ${v}`);
  return ms;
}

function count(name: string, v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new HttpError(400, `invalid ${name} header: ${v}`);
  return Number(v);
}

function method(name: string, v: string): string {
  const m = v.trim().toUpperCase();
  if (!METHODS.has(m)) throw new HttpError(400, `invalid ${name} header: ${v}`);
  return m;
}

function checkedUrl(name: string, v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return v;
  } catch {
    // fall through
  }
  throw new HttpError(400, `invalid ${name} header: ${v}`);
}

function checkedExpression(v: string): string {
  evalRetryDelay(v, 0);
  return v;
}

/** Applies one `Upstash-Callback-*` / `Upstash-Failure-Callback-*` setting; false if `rest` is not one. */
function callbackSetting(
  cb: Partial<CallbackSpec>,
  headers: Record<string, string>,
  rest: string,
  name: string,
  value: string,
): boolean {
  const lower = rest.toLowerCase();
  if (lower === '') cb.url = checkedUrl(name, value);
  else if (lower.startsWith('-forward-')) headers[rest.slice('-forward-'.length)] = value;
  else if (lower === '-method') cb.method = method(name, value);
  else if (lower === '-timeout') cb.timeoutMs = duration(name, value);
  else if (lower === '-retries') cb.retries = count(name, value);
  else if (lower === '-delay') cb.delayMs = duration(name, value);
  else if (lower === '-retry-delay') cb.retryDelay = checkedExpression(value);
  else return false;
  return true;
}

function finishCallback(
  cb: Partial<CallbackSpec>,
  headers: Record<string, string>,
): CallbackSpec | undefined {
  if (cb.url === undefined) return undefined;
  return { ...cb, url: cb.url, method: cb.method ?? 'POST', headers };
}

export function parsePublish(input: PublishInput): ParsedPublish {
  const url = normalizeDestination(input.destination);
  const forwarded: Record<string, string> = {};
  const cb: Partial<CallbackSpec> = {};
  const cbHeaders: Record<string, string> = {};
  const fcb: Partial<CallbackSpec> = {};
  const fcbHeaders: Record<string, string> = {};
  let httpMethod = 'POST';
  let delayMs: number | undefined;
  let notBeforeS: number | undefined;
  let dedupId: string | undefined;
  let contentDedup = false;
  let maxRetries = DEFAULT_RETRIES;
  let timeoutMs: number | undefined;
  let retryDelay: string | undefined;
  let labels: string[] | undefined;
  let flowControlKey: string | undefined;

  for (const [name, value] of input.headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-type') forwarded['Content-Type'] = value;
    else if (lower.startsWith('upstash-forward-')) forwarded[name.slice('upstash-forward-'.length)] = value;
    else if (lower.startsWith('upstash-failure-callback')) {
      if (!callbackSetting(fcb, fcbHeaders, name.slice('upstash-failure-callback'.length), name, value))
        continue;
    } else if (lower.startsWith('upstash-callback')) {
      if (!callbackSetting(cb, cbHeaders, name.slice('upstash-callback'.length), name, value)) continue;
    } else if (lower === 'upstash-method') httpMethod = method(name, value);
    else if (lower === 'upstash-delay') delayMs = duration(name, value);
    else if (lower === 'upstash-not-before') notBeforeS = count(name, value);
    else if (lower === 'upstash-deduplication-id') dedupId = value;
    else if (lower === 'upstash-content-based-deduplication')
      contentDedup = value.trim().toLowerCase() === 'true';
    else if (lower === 'upstash-retries') maxRetries = count(name, value);
    else if (lower === 'upstash-timeout') timeoutMs = duration(name, value);
    else if (lower === 'upstash-retry-delay') retryDelay = checkedExpression(value);
    else if (lower === 'upstash-label')
      labels = value
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean);
    else if (lower === 'upstash-flow-control-key') flowControlKey = value;
  }

  // Upstash-Not-Before wins over Upstash-Delay, as QStash documents.
  const dueAt = notBeforeS !== undefined ? notBeforeS * 1000 : input.now + (delayMs ?? 0);
  const body = input.body.toString('base64');
  const spec: MessageSpec = {
    kind: 'message',
    url,
    method: httpMethod,
    headers: forwarded,
    body,
    maxRetries,
    notBefore: dueAt,
    createdAt: input.now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retryDelay === undefined ? {} : { retryDelay }),
    ...(input.callerIp === undefined ? {} : { callerIp: input.callerIp }),
    ...(input.queueName === undefined ? {} : { queueName: input.queueName }),
    ...(labels === undefined ? {} : { labels }),
    ...(flowControlKey === undefined ? {} : { flowControlKey }),
    ...(dedupId === undefined ? {} : { deduplicationId: dedupId }),
  };
  const callback = finishCallback(cb, cbHeaders);
  if (callback) spec.callback = callback;
  const failureCallback = finishCallback(fcb, fcbHeaders);
  if (failureCallback) spec.failureCallback = failureCallback;

  let dedupKey: string | undefined;
  if (dedupId !== undefined) dedupKey = `id:${dedupId}`;
  else if (contentDedup) {
    // QStash hashes the destination, the body, Content-Type and the forwarded headers.
    const headerList = Object.entries(forwarded)
      .map(([k, v]) => [k.toLowerCase(), v])
      .sort();
    const digest = createHash('sha256')
      .update(JSON.stringify([url, headerList, body]))
      .digest('hex');
    dedupKey = `content:${digest}`;
  }
  return dedupKey === undefined ? { spec, dueAt } : { spec, dueAt, dedupKey };
}

// What the broker stores per message and DLQ entry, and how QStash's API shows them.
import { randomBytes } from 'node:crypto';

/** How a callback (success or failure) message is sent; from `Upstash-[Failure-]Callback-*` headers. */
export interface CallbackSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  retries?: number;
  timeoutMs?: number;
  delayMs?: number;
  retryDelay?: string;
}

/** Everything needed to deliver a message; stored as JSON, immutable after publish. */
export interface MessageSpec {
  kind: 'message' | 'callback' | 'failureCallback';
  url: string;
  method: string;
  /** Headers delivered to the destination (forwarded ones without prefix, and Content-Type). */
  headers: Record<string, string>;
  /** Raw body, base64. */
  body: string;
  maxRetries: number;
  timeoutMs?: number;
  retryDelay?: string;
  /** Unix ms. */
  notBefore: number;
  /** Unix ms. */
  createdAt: number;
  callerIp?: string;
  callback?: CallbackSpec;
  failureCallback?: CallbackSpec;
  queueName?: string;
  labels?: string[];
  flowControlKey?: string;
  deduplicationId?: string;
}

/** Last failed response of a message, as QStash reports it in the DLQ and callbacks. */
export interface AttemptResponse {
  /** 0 when no HTTP response came back (timeout, connection error). */
  status: number;
  header: Record<string, string[]>;
  /** base64 */
  body: string;
}

export interface DlqEntry {
  dlqId: string;
  messageId: string;
  spec: MessageSpec;
  retried: number;
  response: AttemptResponse;
  /** Unix ms when it entered the DLQ. */
  deadAt: number;
}

const ID_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A QStash-looking message id: `msg_` + 26 base58 characters. */
export function newMessageId(): string {
  const bytes = randomBytes(26);
  let s = 'msg_';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

/** DLQ ids look like QStash's (`<unix ms>-<n>`) and sort by time as plain strings until year 2286. */
export function newDlqId(now: number): string {
  return `${now}-${randomBytes(4).readUInt32BE(0)}`;
}

function headerLists(headers: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = [v];
  return out;
}

function bodyFields(body64: string): { body?: string; bodyBase64?: string } {
  const raw = Buffer.from(body64, 'base64');
  const text = raw.toString('utf8');
  // QStash answers `body` when the bytes are valid UTF-8, `bodyBase64` otherwise.
  return Buffer.from(text, 'utf8').equals(raw) ? { body: text } : { bodyBase64: body64 };
}

/** The `GET /v2/messages/<id>` answer. */
export function toMessageInfo(messageId: string, spec: MessageSpec): Record<string, unknown> {
  return {
    messageId,
    url: spec.url,
    method: spec.method,
    header: headerLists(spec.headers),
    ...bodyFields(spec.body),
    maxRetries: spec.maxRetries,
    ...(spec.retryDelay === undefined ? {} : { retryDelayExpression: spec.retryDelay }),
    notBefore: spec.notBefore,
    createdAt: spec.createdAt,
    ...(spec.callback ? { callback: spec.callback.url } : {}),
    ...(spec.failureCallback ? { failureCallback: spec.failureCallback.url } : {}),
    ...(spec.queueName === undefined ? {} : { queueName: spec.queueName }),
    ...(spec.callerIp === undefined ? {} : { callerIP: spec.callerIp }),
    ...(spec.labels ? { label: spec.labels[0], labels: spec.labels } : {}),
    ...(spec.flowControlKey === undefined ? {} : { flowControlKey: spec.flowControlKey }),
  };
}

/** A `GET /v2/dlq` item. */
export function toDlqMessage(entry: DlqEntry): Record<string, unknown> {
  const response = bodyFields(entry.response.body);
  return {
    ...toMessageInfo(entry.messageId, entry.spec),
    dlqId: entry.dlqId,
    ...(entry.response.status > 0 ? { responseStatus: entry.response.status } : {}),
    responseHeader: entry.response.header,
    ...(response.body === undefined ? {} : { responseBody: response.body }),
    ...(response.bodyBase64 === undefined ? {} : { responseBodyBase64: response.bodyBase64 }),
  };
}

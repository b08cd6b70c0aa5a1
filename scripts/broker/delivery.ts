// One delivery attempt of a claimed message: the signed HTTP call, then the settle (done, retry, or DLQ + callbacks).
import type { AttemptResponse, CallbackSpec, DlqEntry, MessageSpec } from './message.js';
import { newDlqId, newMessageId } from './message.js';
import { headerValue, sendHttp, type OutboundAgents } from './outbound.js';
import { nextRetryDelayMs } from './retry-policy.js';
import { signDelivery } from './signing.js';
import type { BrokerStore, ClaimedMessage, NewMessage } from './store.js';

export interface DeliveryConfig {
  currentSigningKey: string;
  /** Upper bound per attempt; `Upstash-Timeout` can only shorten it. */
  deliveryTimeoutMs: number;
  retryBaseMs?: number;
  agents: OutboundAgents;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'claim-lost';

export interface DeliveryReport {
  messageId: string;
  kind: MessageSpec['kind'];
  /** Destination without query string (queries can carry secrets). */
  target: string;
  method: string;
  retried: number;
  status: number;
  outcome: DeliveryOutcome;
  durationMs: number;
  nextRetryInMs?: number;
  dlqId?: string;
  error?: string;
}

interface AttemptResult {
  ok: boolean;
  nonRetryable: boolean;
  response: AttemptResponse;
  error?: string;
}

function headerLists(h: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) out[k] = [v];
  return out;
}

function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

async function sendAttempt(c: ClaimedMessage, cfg: DeliveryConfig, now: number): Promise<AttemptResult> {
  const { spec } = c;
  const body =
    spec.method === 'GET' || spec.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(spec.body, 'base64');
  const headers: Record<string, string> = {
    ...spec.headers,
    'User-Agent': 'Upstash-QStash',
    'Upstash-Message-Id': c.messageId,
    'Upstash-Retried': String(c.retried),
    'Upstash-Signature': signDelivery(cfg.currentSigningKey, { url: spec.url, body, now }),
  };
  if (spec.callerIp) headers['Upstash-Caller-Ip'] = spec.callerIp;
  const timeoutMs = Math.min(cfg.deliveryTimeoutMs, spec.timeoutMs ?? Number.POSITIVE_INFINITY);
  try {
    const res = await sendHttp({ url: spec.url, method: spec.method, headers, body, timeoutMs }, cfg.agents);
    return {
      ok: res.status >= 200 && res.status < 300,
      // QStash's opt-out of retries: 489 with `Upstash-NonRetryable-Error: true`.
      nonRetryable: res.status === 489 && headerValue(res.header, 'upstash-nonretryable-error') === 'true',
      response: { status: res.status, header: res.header, body: res.body.toString('base64') },
    };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      nonRetryable: false,
      response: { status: 0, header: {}, body: Buffer.from(error).toString('base64') },
      error,
    };
  }
}

/** QStash's callback body: the attempt's response plus the source message. */
function callbackPayload(c: ClaimedMessage, r: AttemptResponse, dlqId?: string): Record<string, unknown> {
  const { spec } = c;
  return {
    status: r.status,
    header: r.header,
    body: r.body,
    retried: c.retried,
    maxRetries: spec.maxRetries,
    ...(dlqId === undefined ? {} : { dlqId }),
    sourceMessageId: c.messageId,
    topicName: '',
    endpointName: '',
    url: spec.url,
    method: spec.method,
    sourceHeader: headerLists(spec.headers),
    sourceBody: spec.body,
    notBefore: spec.notBefore,
    createdAt: spec.createdAt,
    scheduleId: '',
    callerIP: spec.callerIp ?? '',
  };
}

/** Callbacks are messages of their own: signed for their URL, retried with the source's settings. */
function callbackMessage(
  kind: 'callback' | 'failureCallback',
  cb: CallbackSpec,
  source: MessageSpec,
  payload: object,
  now: number,
): NewMessage {
  const dueAt = now + (cb.delayMs ?? 0);
  const timeoutMs = cb.timeoutMs ?? source.timeoutMs;
  const retryDelay = cb.retryDelay ?? source.retryDelay;
  const spec: MessageSpec = {
    kind,
    url: cb.url,
    method: cb.method,
    headers: { 'Content-Type': 'application/json', ...cb.headers },
    body: Buffer.from(JSON.stringify(payload)).toString('base64'),
    maxRetries: cb.retries ?? source.maxRetries,
    notBefore: dueAt,
    createdAt: now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retryDelay === undefined ? {} : { retryDelay }),
    ...(source.callerIp === undefined ? {} : { callerIp: source.callerIp }),
  };
  return { messageId: newMessageId(), spec, dueAt };
}

/** Sends one attempt and records its outcome atomically; never throws for a failed target. */
export async function deliver(
  store: BrokerStore,
  c: ClaimedMessage,
  cfg: DeliveryConfig,
  clock: () => number = Date.now,
): Promise<DeliveryReport> {
  const started = clock();
  const result = await sendAttempt(c, cfg, started);
  const now = clock();
  const { spec } = c;
  const report: DeliveryReport = {
    messageId: c.messageId,
    kind: spec.kind,
    target: safeTarget(spec.url),
    method: spec.method,
    retried: c.retried,
    status: result.response.status,
    outcome: 'delivered',
    durationMs: now - started,
    ...(result.error === undefined ? {} : { error: result.error }),
  };
  // QStash calls the callback after every attempt, successful or not.
  const callbackFor = () =>
    spec.callback
      ? callbackMessage('callback', spec.callback, spec, callbackPayload(c, result.response), now)
      : undefined;

  if (result.ok) {
    report.outcome = (await store.ack(c, callbackFor())) ? 'delivered' : 'claim-lost';
    return report;
  }
  if (!result.nonRetryable && c.retried < spec.maxRetries) {
    const delay = nextRetryDelayMs({
      retried: c.retried,
      ...(spec.retryDelay === undefined ? {} : { expression: spec.retryDelay }),
      responseHeader: (name) => headerValue(result.response.header, name),
      now,
      ...(cfg.retryBaseMs === undefined ? {} : { retryBaseMs: cfg.retryBaseMs }),
    });
    const ok = await store.retry(c, now + delay, callbackFor());
    report.outcome = ok ? 'retry' : 'claim-lost';
    if (ok) report.nextRetryInMs = delay;
    return report;
  }
  const dlqId = newDlqId(now);
  const entry: DlqEntry = {
    dlqId,
    messageId: c.messageId,
    spec,
    retried: c.retried,
    response: result.response,
    deadAt: now,
  };
  const failure = spec.failureCallback
    ? callbackMessage(
        'failureCallback',
        spec.failureCallback,
        spec,
        callbackPayload(c, result.response, dlqId),
        now,
      )
    : undefined;
  const ok = await store.deadLetter(c, entry, now, callbackFor(), failure);
  report.outcome = ok ? 'dead' : 'claim-lost';
  if (ok) report.dlqId = dlqId;
  return report;
}

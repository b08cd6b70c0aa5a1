// QStash REST operations over the store: publish, batch, messages, DLQ. Transport-free; answers are data.
import { HttpError } from './errors.js';
import { newMessageId, toDlqMessage, toMessageInfo } from './message.js';
import { parsePublish } from './publish.js';
import type { BrokerStore } from './store.js';

export interface ApiReply {
  status: number;
  body?: unknown;
}

export interface PublishRequest {
  destination: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  callerIp?: string;
  queueName?: string;
}

export interface BrokerApiOptions {
  dedupWindowMs: number;
  /** Told about each stored message so an already-due one goes out without waiting for a poll. */
  onStored: (dueAt: number) => void;
  clock?: () => number;
}

/** A multi-value query parameter: repeated (`a=1&a=2`) or comma-separated (`a=1,2`). */
export function multi(q: URLSearchParams, name: string): string[] {
  return q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

const MAX_PAGE = 100;

function pageSize(q: URLSearchParams): number {
  const raw = q.get('count');
  if (raw === null) return MAX_PAGE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `invalid count: ${raw}`);
  return Math.min(n, MAX_PAGE);
}

export class BrokerApi {
  private readonly clock: () => number;

  constructor(
    private readonly store: BrokerStore,
    private readonly opts: BrokerApiOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  /** `{ messageId, url }`, or the standing message's id with `deduplicated: true` (HTTP 202, as QStash). */
  async publish(req: PublishRequest): Promise<ApiReply> {
    const now = this.clock();
    const parsed = parsePublish({ ...req, now });
    const messageId = newMessageId();
    const r = await this.store.add(
      { messageId, spec: parsed.spec, dueAt: parsed.dueAt },
      parsed.dedupKey,
      this.opts.dedupWindowMs,
    );
    if (r.deduplicated)
      return { status: 202, body: { messageId: r.messageId, url: parsed.spec.url, deduplicated: true } };
    this.opts.onStored(parsed.dueAt);
    return { status: 200, body: { messageId, url: parsed.spec.url } };
  }

  /** `[{destination, headers, body, queue}]` -> one answer per item; a bad item answers `{ error }` alone. */
  async batch(body: Buffer, callerIp?: string): Promise<ApiReply> {
    let items: unknown;
    try {
      items = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'batch body must be a JSON array');
    }
    if (!Array.isArray(items)) throw new HttpError(400, 'batch body must be a JSON array');
    const answers: unknown[] = [];
    for (const item of items) {
      try {
        answers.push((await this.publish(batchItem(item, callerIp))).body);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        answers.push({ error: err.message });
      }
    }
    return { status: 200, body: answers };
  }

  async getMessage(id: string): Promise<ApiReply> {
    const spec = await this.store.getMessage(id);
    if (!spec) throw new HttpError(404, `message ${id} not found`);
    return { status: 200, body: toMessageInfo(id, spec) };
  }

  async cancelMessage(id: string): Promise<ApiReply> {
    if (!(await this.store.cancel(id))) throw new HttpError(404, `message ${id} not found`);
    return { status: 200, body: { cancelled: 1 } };
  }

  /** `DELETE /v2/messages?messageIds=...`; without ids, every pending message. */
  async cancelMessages(q: URLSearchParams): Promise<ApiReply> {
    const ids = multi(q, 'messageIds');
    const targets = ids.length > 0 ? ids : await this.store.allMessageIds();
    let cancelled = 0;
    for (const id of targets) if (await this.store.cancel(id)) cancelled++;
    return { status: 200, body: { cancelled } };
  }

  /** DLQ entries selected by `dlqIds`, or one page (cursor, count) filtered by messageId/url/responseStatus. */
  private async selectDeadLetters(q: URLSearchParams) {
    const dlqIds = multi(q, 'dlqIds');
    if (dlqIds.length > 0) {
      const entries = await Promise.all(dlqIds.map((id) => this.store.getDeadLetter(id)));
      return { entries: entries.filter((e) => e !== undefined), cursor: undefined };
    }
    const page = await this.store.listDeadLetterIds(q.get('cursor') || undefined, pageSize(q));
    const entries = (await Promise.all(page.ids.map((id) => this.store.getDeadLetter(id)))).filter(
      (e) => e !== undefined,
    );
    const messageId = q.get('messageId');
    const urls = multi(q, 'url');
    const statuses = multi(q, 'responseStatus').map(Number);
    const kept = entries.filter(
      (e) =>
        (messageId === null || e.messageId === messageId) &&
        (urls.length === 0 || urls.includes(e.spec.url)) &&
        (statuses.length === 0 || statuses.includes(e.response.status)),
    );
    return { entries: kept, cursor: page.next };
  }

  async listDeadLetters(q: URLSearchParams): Promise<ApiReply> {
    const { entries, cursor } = await this.selectDeadLetters(q);
    return { status: 200, body: { messages: entries.map(toDlqMessage), ...(cursor ? { cursor } : {}) } };
  }

  async getDeadLetter(dlqId: string): Promise<ApiReply> {
    const entry = await this.store.getDeadLetter(dlqId);
    if (!entry) throw new HttpError(404, `dlq message ${dlqId} not found`);
    return { status: 200, body: toDlqMessage(entry) };
  }

  async deleteDeadLetter(dlqId: string): Promise<ApiReply> {
    if (!(await this.store.deleteDeadLetter(dlqId)))
      throw new HttpError(404, `dlq message ${dlqId} not found`);
    return { status: 200, body: { deleted: 1 } };
  }

  async deleteDeadLetters(q: URLSearchParams): Promise<ApiReply> {
    const { entries, cursor } = await this.selectDeadLetters(q);
    let deleted = 0;
    for (const e of entries) if (await this.store.deleteDeadLetter(e.dlqId)) deleted++;
    return { status: 200, body: { deleted, ...(cursor ? { cursor } : {}) } };
  }

  /** Republishes as a new message due now (same destination, headers, body, settings). */
  private async republish(dlqId: string): Promise<string | undefined> {
    const entry = await this.store.getDeadLetter(dlqId);
    if (!entry) return undefined;
    const now = this.clock();
    const messageId = newMessageId();
    const spec = { ...entry.spec, createdAt: now, notBefore: now };
    if (!(await this.store.retryDeadLetter(dlqId, { messageId, spec, dueAt: now }))) return undefined;
    this.opts.onStored(now);
    return messageId;
  }

  async retryDeadLetter(dlqId: string): Promise<ApiReply> {
    const messageId = await this.republish(dlqId);
    if (!messageId) throw new HttpError(404, `dlq message ${dlqId} not found`);
    return { status: 201, body: { messageId } };
  }

  async retryDeadLetters(q: URLSearchParams): Promise<ApiReply> {
    const { entries, cursor } = await this.selectDeadLetters(q);
    const responses: Array<{ messageId: string }> = [];
    for (const e of entries) {
      const messageId = await this.republish(e.dlqId);
      if (messageId) responses.push({ messageId });
    }
    return { status: 201, body: { responses, ...(cursor ? { cursor } : {}) } };
  }
}

function batchItem(item: unknown, callerIp?: string): PublishRequest {
  if (typeof item !== 'object' || item === null) throw new HttpError(400, 'batch item must be an object');
  const { destination, headers, body, queue } = item as Record<string, unknown>;
  if (typeof destination !== 'string') throw new HttpError(400, 'batch item needs a string destination');
  if (body !== undefined && body !== null && typeof body !== 'string')
    throw new HttpError(400, 'batch item body must be a string');
  const pairs: Array<[string, string]> = [];
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers))
      throw new HttpError(400, 'batch item headers must be an object');
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') pairs.push([k, v]);
  }
  return {
    destination,
    headers: pairs,
    body: Buffer.from(typeof body === 'string' ? body : '', 'utf8'),
    ...(callerIp === undefined ? {} : { callerIp }),
    ...(typeof queue === 'string' ? { queueName: queue } : {}),
  };
}

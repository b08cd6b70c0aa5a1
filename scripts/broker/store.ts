// Durable broker state in Redis: messages, due and in-flight sets, dedup keys, DLQ; every change is one Lua script.
import type { Redis } from 'ioredis';
import { runScript, type ScriptRedis } from '../../lib/store/lua/script.js';
import * as SCRIPTS from './lua/scripts.generated.js';
import type { DlqEntry, MessageSpec } from './message.js';

/** The Redis commands the store uses; narrow so a fake is easy. */
export type StoreRedis = Pick<Redis, 'evalsha' | 'eval' | 'hget' | 'zrange' | 'zcard' | 'zrangebylex'>;

/** ioredis spells EVAL with the key count first; the runner speaks @upstash/redis's (keys, args). */
const scriptsVia = (redis: StoreRedis): ScriptRedis => ({
  evalsha: (sha1, keys, args) => redis.evalsha(sha1, keys.length, ...keys, ...args),
  eval: (text, keys, args) => redis.eval(text, keys.length, ...keys, ...args),
});

export interface ClaimedMessage {
  messageId: string;
  claim: string;
  retried: number;
  spec: MessageSpec;
}

/** A message to enqueue together with a settle (callback or failure callback). */
export interface NewMessage {
  messageId: string;
  spec: MessageSpec;
  dueAt: number;
}

export class BrokerStore {
  private readonly scripts: ScriptRedis;

  constructor(
    private readonly redis: StoreRedis,
    private readonly prefix: string,
  ) {
    this.scripts = scriptsVia(redis);
  }

  private msgKey = (id: string) => `${this.prefix}m:${id}`;
  private dlqKey = (id: string) => `${this.prefix}dlq:${id}`;
  private get due() {
    return `${this.prefix}due`;
  }
  private get inflight() {
    return `${this.prefix}inflight`;
  }
  private get dlq() {
    return `${this.prefix}dlq`;
  }

  /** Stores a message unless deduplicated; answers the id that stands and whether it was a duplicate. */
  async add(
    msg: NewMessage,
    dedupKey: string | undefined,
    dedupWindowMs: number,
  ): Promise<{ messageId: string; deduplicated: boolean }> {
    const window = dedupKey === undefined ? 0 : dedupWindowMs;
    const r = (await runScript(
      this.scripts,
      SCRIPTS.addMessage,
      [`${this.prefix}dedup:${dedupKey ?? ''}`, this.msgKey(msg.messageId), this.due],
      [msg.messageId, JSON.stringify(msg.spec), msg.dueAt, window],
    )) as [string, number];
    return { messageId: r[0], deduplicated: r[1] === 1 };
  }

  /** Atomically claims up to `limit` due messages under a lease (expired leases are due again). */
  async claimDue(now: number, limit: number, leaseMs: number, owner: string): Promise<ClaimedMessage[]> {
    const flat = (await runScript(
      this.scripts,
      SCRIPTS.claimDue,
      [this.due, this.inflight],
      [now, limit, leaseMs, owner, this.msgKey('')],
    )) as string[];
    const out: ClaimedMessage[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      out.push({
        messageId: flat[i]!,
        claim: flat[i + 1]!,
        retried: Number(flat[i + 2]),
        spec: JSON.parse(flat[i + 3]!) as MessageSpec,
      });
    }
    return out;
  }

  private extra(m: NewMessage | undefined): [string, string, number] {
    return m ? [m.messageId, JSON.stringify(m.spec), m.dueAt] : ['', '', 0];
  }

  /** Delivered: drop the message, enqueue its callback. False when the claim was lost. */
  async ack(c: ClaimedMessage, callback?: NewMessage): Promise<boolean> {
    const keys = [this.msgKey(c.messageId), this.inflight, this.due, this.msgKey(callback?.messageId ?? '')];
    return (
      (await runScript(this.scripts, SCRIPTS.ackMessage, keys, [
        c.messageId,
        c.claim,
        ...this.extra(callback),
      ])) === 1
    );
  }

  /** Failed with retries left: due again at `nextDueAt` with retried + 1. */
  async retry(c: ClaimedMessage, nextDueAt: number, callback?: NewMessage): Promise<boolean> {
    const keys = [this.msgKey(c.messageId), this.inflight, this.due, this.msgKey(callback?.messageId ?? '')];
    const args = [c.messageId, c.claim, nextDueAt, c.retried + 1, ...this.extra(callback)];
    return (await runScript(this.scripts, SCRIPTS.retryMessage, keys, args)) === 1;
  }

  /** Retries exhausted: into the DLQ, with callback and failure-callback messages due now. */
  async deadLetter(
    c: ClaimedMessage,
    entry: DlqEntry,
    now: number,
    callback?: NewMessage,
    failureCallback?: NewMessage,
  ): Promise<boolean> {
    const keys = [
      this.msgKey(c.messageId),
      this.inflight,
      this.due,
      this.dlq,
      this.dlqKey(entry.dlqId),
      this.msgKey(callback?.messageId ?? ''),
      this.msgKey(failureCallback?.messageId ?? ''),
    ];
    const [cbId, cbSpec] = this.extra(callback);
    const [fcbId, fcbSpec] = this.extra(failureCallback);
    const args = [
      c.messageId,
      c.claim,
      entry.dlqId,
      JSON.stringify(entry),
      cbId,
      cbSpec,
      fcbId,
      fcbSpec,
      now,
    ];
    return (await runScript(this.scripts, SCRIPTS.deadLetterMessage, keys, args)) === 1;
  }

  async cancel(messageId: string): Promise<boolean> {
    return (
      (await runScript(
        this.scripts,
        SCRIPTS.cancelMessage,
        [this.msgKey(messageId), this.due, this.inflight],
        [messageId],
      )) === 1
    );
  }

  async getMessage(messageId: string): Promise<MessageSpec | undefined> {
    const spec = await this.redis.hget(this.msgKey(messageId), 'spec');
    return spec === null ? undefined : (JSON.parse(spec) as MessageSpec);
  }

  /** Ids of every message waiting or in flight. */
  async allMessageIds(): Promise<string[]> {
    const [due, inflight] = await Promise.all([
      this.redis.zrange(this.due, '0', '-1'),
      this.redis.zrange(this.inflight, '0', '-1'),
    ]);
    return [...new Set([...due, ...inflight])];
  }

  /** Messages waiting plus in flight. */
  async pendingCount(): Promise<number> {
    const [due, inflight] = await Promise.all([this.redis.zcard(this.due), this.redis.zcard(this.inflight)]);
    return due + inflight;
  }

  async getDeadLetter(dlqId: string): Promise<DlqEntry | undefined> {
    const entry = await this.redis.hget(this.dlqKey(dlqId), 'entry');
    return entry === null ? undefined : (JSON.parse(entry) as DlqEntry);
  }

  /** A page of DLQ ids in id (time) order after `cursor`; `next` is set when more remain. */
  async listDeadLetterIds(
    cursor: string | undefined,
    count: number,
  ): Promise<{ ids: string[]; next?: string }> {
    const min = cursor ? `(${cursor}` : '-';
    const ids = await this.redis.zrangebylex(this.dlq, min, '+', 'LIMIT', 0, count + 1);
    if (ids.length <= count) return { ids };
    const page = ids.slice(0, count);
    return { ids: page, next: page[page.length - 1]! };
  }

  async deleteDeadLetter(dlqId: string): Promise<boolean> {
    return (
      (await runScript(this.scripts, SCRIPTS.deleteDeadLetter, [this.dlq, this.dlqKey(dlqId)], [dlqId])) === 1
    );
  }

  /** Republishes a DLQ entry as `msg`; false when the entry is gone (deleted or retried meanwhile). */
  async retryDeadLetter(dlqId: string, msg: NewMessage): Promise<boolean> {
    const keys = [this.dlq, this.dlqKey(dlqId), this.msgKey(msg.messageId), this.due];
    return (
      (await runScript(this.scripts, SCRIPTS.retryDeadLetter, keys, [
        dlqId,
        msg.messageId,
        JSON.stringify(msg.spec),
        msg.dueAt,
      ])) === 1
    );
  }
}

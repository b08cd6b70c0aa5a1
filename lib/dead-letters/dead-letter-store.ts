// Dead letters: jobs that kept failing, stored from QStash failure callbacks (or by the worker), listed, replayed, deleted.
import type { Redis } from '@upstash/redis';
import { z } from 'zod';
import { BatchMessage, jobOfBatch } from '../domain/batch.js';
import { JobMessage } from '../domain/job.js';
import { parseJobId } from '../domain/ids.js';
import { DependencyUnavailableError, NotFoundError } from '../errors.js';
import { metricField } from '../metrics/fields.js';
import type { Keys } from '../store/keys.js';
import { jsonReply, runScript } from '../store/lua/script.js';
import { sortableId } from '../util/sortable-id.js';
import type { JobPublisher } from '../publishing/qstash-publisher.js';
import { JOB_POLICY, truncateError } from '../worker/job-store.js';
import {
  deadLetterBatch,
  deadLetterJob,
  deleteDeadLetter,
  replayDeadLetter,
  restoreDeadLetter,
} from '../worker/lua/scripts.generated.js';
import type { DeadLetterPage as DeadLetterPageSchema, DeadLetterView } from './schemas.js';

/** How long a replayed dead letter's record is kept for inspection. */
const REPLAYED_RETENTION_MS = 7 * 86_400_000;
/** Clock difference tolerated between QStash's createdAt and our replay time. */
const REPLAY_TOLERANCE_MS = 5_000;

/** The part of QStash's failure-callback body we use (QStash sends more). */
export const FailureCallback = z.object({
  status: z.number().int(),
  /** base64 of the last response body. */
  body: z.string().optional(),
  retried: z.number().int().optional(),
  sourceMessageId: z.string().min(1),
  /** base64 of the original message body. */
  sourceBody: z.string(),
  createdAt: z.number().optional(),
  dlqId: z.string().optional(),
});
export type FailureCallback = z.output<typeof FailureCallback>;

export type FailureOutcome = 'stored' | 'updated' | 'ignored' | 'stale' | 'not_a_job';

const JobOutcome = z.enum(['stored', 'updated', 'ignored', 'stale']);
type JobOutcome = z.output<typeof JobOutcome>;

/** What a failure callback did: for a job message, its job; for a batch message, its jobs counted by outcome. */
export interface FailureRecord {
  /** A batch's: `stored` when any job was newly stored, else `updated`, `stale`, `ignored` in that order. */
  outcome: FailureOutcome;
  /** The job of a single-job message. */
  jobId?: string;
  /** A batch message's task, period and jobs by outcome; `count` = jobs dead-lettered (stored or updated). */
  batch?: {
    taskId: string;
    periodKey: string;
    jobs: number;
    count: number;
    outcomes: Partial<Record<JobOutcome, number>>;
  };
}

export type DeadLetter = z.output<typeof DeadLetterView>;
export type DeadLetterPage = z.output<typeof DeadLetterPageSchema>;

const text = z.preprocess(
  (v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)),
  z.string(),
);
const StoredDeadLetter = z.object({
  jobId: z.coerce.string(),
  message: z.preprocess((v) => (typeof v === 'string' ? JSON.parse(v) : v), JobMessage),
  lastStatus: z.coerce.number().catch(0),
  lastError: text,
  attempts: z.coerce.number().catch(0),
  deadAt: z.coerce.number(),
  reason: text,
  qstashMessageId: z.coerce.string().optional(),
  qstashDlqId: z.coerce.string().optional(),
});

/**
 * `<deadAt ms>.<dead-letter id in base64url>`: the position after which the next page starts. Every string of
 * that shape (DEAD_LETTER_CURSOR) is a position, so the OpenAPI pattern says exactly what is accepted.
 */
export const DEAD_LETTER_CURSOR = /^\d{1,16}\.[A-Za-z0-9_-]{0,420}$/;

function encodeCursor(score: number, id: string): string {
  return `${score}.${Buffer.from(id).toString('base64url')}`;
}

/** Undefined when the cursor does not have the shape of DEAD_LETTER_CURSOR (the caller answers 400). */
export function decodeCursor(cursor: string): { s: number; id: string } | undefined {
  if (!DEAD_LETTER_CURSOR.test(cursor)) return undefined;
  const dot = cursor.indexOf('.');
  return {
    s: Number(cursor.slice(0, dot)),
    id: Buffer.from(cursor.slice(dot + 1), 'base64url').toString('utf8'),
  };
}

function base64Text(b64: string | undefined, max: number): string {
  if (!b64) return '';
  return Buffer.from(b64, 'base64').toString('utf8').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** The error a dead letter keeps when the worker recorded none: what QStash saw last. */
function fallbackErrorOf(cb: FailureCallback): string {
  const snippet = base64Text(cb.body, 200);
  return truncateError(
    `QStash gave up after ${cb.retried ?? 0} retries; last answer ${cb.status}${snippet ? `: ${snippet}` : ''}`,
  );
}

export type DeadLetterRedis = Pick<
  Redis,
  'evalsha' | 'eval' | 'zrange' | 'zcount' | 'hgetall' | 'hset' | 'pexpire' | 'hincrby'
>;

/** What the dead-letter scripts take of a failure callback, in their order (after the job or the batch's origin). */
function callbackArgs(cb: FailureCallback): (string | number)[] {
  return [
    cb.createdAt ?? 0,
    cb.status,
    fallbackErrorOf(cb),
    cb.sourceMessageId,
    cb.dlqId ?? '',
    JOB_POLICY.retentionMs,
    REPLAY_TOLERANCE_MS,
  ];
}

export class DeadLetterStore {
  constructor(
    private readonly redis: DeadLetterRedis,
    private readonly keys: Keys,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Stores the job of a failure callback as a dead letter; of a batch message, each of its jobs not settled,
   * each with its own single-job message. `not_a_job`: the source body is neither.
   */
  async recordFailure(cb: FailureCallback): Promise<FailureRecord> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(cb.sourceBody, 'base64').toString('utf8'));
    } catch {
      return { outcome: 'not_a_job' };
    }
    const single = JobMessage.safeParse(body);
    if (single.success) return this.recordJobFailure(cb, single.data);
    const batch = BatchMessage.safeParse(body);
    if (batch.success) return this.recordBatchFailure(cb, batch.data);
    return { outcome: 'not_a_job' };
  }

  private async recordJobFailure(cb: FailureCallback, message: JobMessage): Promise<FailureRecord> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      deadLetterJob,
      [
        k.job(message.jobId),
        k.deadLetters,
        k.deadLetter(message.jobId),
        k.metrics,
        k.periodStats(message.taskId, message.periodKey),
      ],
      [
        this.clock(),
        message.jobId,
        JSON.stringify(message),
        message.origin,
        ...callbackArgs(cb),
        message.taskId,
      ],
    );
    return { outcome: JobOutcome.parse(reply), jobId: message.jobId };
  }

  /** One script call for the whole batch: each job decided as recordJobFailure decides, a dead job settled. */
  private async recordBatchFailure(cb: FailureCallback, batch: BatchMessage): Promise<FailureRecord> {
    const k = this.keys;
    const messages = batch.jobs.map((j) => jobOfBatch(batch, j));
    const reply = await runScript(
      this.redis,
      deadLetterBatch,
      [
        k.deadLetters,
        k.metrics,
        k.periodStats(batch.taskId, batch.periodKey),
        ...messages.flatMap((m) => [k.job(m.jobId), k.deadLetter(m.jobId)]),
      ],
      [
        this.clock(),
        batch.origin,
        ...callbackArgs(cb),
        batch.taskId,
        ...messages.flatMap((m) => [m.jobId, JSON.stringify(m)]),
      ],
    );
    const results = z.array(JobOutcome).length(messages.length).parse(reply);
    const outcomes: Partial<Record<JobOutcome, number>> = {};
    for (const r of results) outcomes[r] = (outcomes[r] ?? 0) + 1;
    const outcome = (['stored', 'updated', 'stale'] as const).find((o) => outcomes[o]) ?? 'ignored';
    const count = (outcomes.stored ?? 0) + (outcomes.updated ?? 0);
    return {
      outcome,
      batch: { taskId: batch.taskId, periodKey: batch.periodKey, jobs: messages.length, count, outcomes },
    };
  }

  /** Newest first. `cursor` is the `nextCursor` of the previous page. */
  async list(cursor: { s: number; id: string } | undefined, limit: number): Promise<DeadLetterPage> {
    const key = this.keys.deadLetters;
    // Equal scores come back in reverse member order: skip those at or after the cursor's member.
    const ties = cursor ? await this.redis.zcount(key, cursor.s, cursor.s) : 0;
    const raw = await this.redis.zrange<(string | number)[]>(key, cursor ? cursor.s : '+inf', '-inf', {
      byScore: true,
      rev: true,
      offset: 0,
      count: limit + 1 + ties,
      withScores: true,
    });
    const entries: { id: string; score: number }[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const id = String(raw[i]);
      const score = Number(raw[i + 1]);
      if (cursor && score === cursor.s && id >= cursor.id) continue;
      entries.push({ id, score });
    }
    const page = entries.slice(0, limit);
    const records = await Promise.all(
      page.map((e) => this.redis.hgetall<Record<string, unknown>>(this.keys.deadLetter(e.id))),
    );
    const items: DeadLetter[] = [];
    page.forEach((e, i) => {
      const r = records[i];
      if (r && Object.keys(r).length > 0) items.push(view(e.id, r));
    });
    const last = page.at(-1);
    return { items, nextCursor: entries.length > limit && last ? encodeCursor(last.score, last.id) : null };
  }

  /**
   * Re-publishes the job with a fresh deduplication id and origin `replay`, after resetting it so
   * it can run. A failed publish puts the dead letter back.
   */
  async replay(
    id: string,
    publisher: JobPublisher,
    retries: number,
  ): Promise<{ jobId: string; messageId: string }> {
    const k = this.keys;
    const now = this.clock();
    const reply = await runScript(
      this.redis,
      replayDeadLetter,
      [k.deadLetters, k.deadLetter(id), k.job(id)],
      [now, id, JOB_POLICY.retentionMs],
    );
    if (reply === null || reply === undefined) throw new NotFoundError(`dead letter ${id} not found`);
    const stored = JobMessage.parse(jsonReply(reply));
    const message: JobMessage = { ...stored, origin: 'replay', deferrals: 0 };
    let messageId: string;
    try {
      messageId = await publisher.publish(message, {
        deduplicationId: `${id}:replay-${sortableId(now)}`,
        retries,
      });
    } catch (err) {
      await runScript(
        this.redis,
        restoreDeadLetter,
        [k.deadLetters, k.deadLetter(id), k.job(id)],
        [this.clock(), id],
      );
      throw new DependencyUnavailableError('could not publish the replay; the dead letter is kept', {
        cause: err,
      });
    }
    // Issued together: one pipelined round trip.
    await Promise.all([
      this.redis.hset(k.deadLetter(id), { status: 'replayed', replayMessageId: messageId }),
      this.redis.pexpire(k.deadLetter(id), REPLAYED_RETENTION_MS),
      this.redis.hincrby(k.metrics, metricField.task(message.taskId, 'replayed'), 1),
    ]);
    return { jobId: message.jobId, messageId };
  }

  async delete(id: string): Promise<void> {
    const reply = await runScript(
      this.redis,
      deleteDeadLetter,
      [this.keys.deadLetters, this.keys.deadLetter(id)],
      [id],
    );
    if (Number(reply) !== 1) throw new NotFoundError(`dead letter ${id} not found`);
  }
}

function view(id: string, raw: Record<string, unknown>): DeadLetter {
  const r = StoredDeadLetter.parse(raw);
  const ids = parseJobId(r.jobId);
  return {
    id,
    jobId: r.jobId,
    taskId: ids?.taskId ?? r.message.taskId,
    userId: ids?.userId ?? r.message.userId,
    periodKey: ids?.periodKey ?? r.message.periodKey,
    message: r.message,
    lastStatus: r.lastStatus,
    lastError: r.lastError,
    attempts: r.attempts,
    deadAt: new Date(r.deadAt).toISOString(),
    reason: r.reason,
    ...(r.qstashMessageId ? { qstashMessageId: r.qstashMessageId } : {}),
    ...(r.qstashDlqId ? { qstashDlqId: r.qstashDlqId } : {}),
  };
}

// Publishing to QStash: the internal paths it calls, the narrow interfaces callers use, and their one QStash adapter.
import type { Client as QStashClient } from '@upstash/qstash';
import { batchNotBefore, type BatchMessage } from '../domain/batch.js';
import { batchIdOf } from './batch-id.js';
import { isBatch, type DeliveredMessage } from '../domain/delivery.js';
import type { JobMessage } from '../domain/job.js';
import { CONTINUE_PATH, type ContinuationMessage } from '../scheduler/continuation.js';

export const JOBS_PATH = '/internal/jobs';
export const FAILURES_PATH = '/internal/failures';

/** The URL QStash calls for `path`; signatures are checked against exactly this. */
export function internalUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}

export interface PublishOptions {
  deduplicationId: string;
  /**
   * Epoch ms. QStash takes whole seconds: this is rounded down and the message may arrive up to a
   * second early; the worker waits out the rest against the message's own notBefore (ms).
   */
  notBeforeMs?: number;
  /** QStash retries of this message. */
  retries: number;
}

/** One job at a time: deferrals, early arrivals, run-now and replays. */
export interface JobPublisher {
  /** Returns the QStash message id. */
  publish(message: JobMessage, opts: PublishOptions): Promise<string>;
}

/** A batch again (one that arrived too early). */
export interface BatchPublisher {
  /** Returns the QStash message id. */
  publishBatch(batch: BatchMessage, opts: PublishOptions): Promise<string>;
}

/** What the fan-out publishes: one job, or a batch of one slot's jobs planned close together. */
export type FanOutMessage = DeliveredMessage;

/** Jobs a message carries. */
export function jobsIn(message: FanOutMessage): number {
  return isBatch(message) ? message.jobs.length : 1;
}

/** What a publish learnt: how many jobs QStash dropped as duplicates of standing ones (a batch counts its jobs). */
export interface PublishReport {
  deduplicated: number;
}

/** A fan-out's pages of jobs and its continuations. */
export interface FanOutPublisher {
  /**
   * Publishes every message (single jobs and batches) or throws; a retry of the same messages is harmless (the
   * deduplication id is the job id, or the batch id derived from its jobs).
   */
  publishJobs(messages: readonly FanOutMessage[], retries: number): Promise<PublishReport | void>;
  publishContinuations(messages: readonly ContinuationMessage[]): Promise<void>;
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    readonly failed: number,
  ) {
    super(message);
  }
}

/** Messages per `POST /v2/batch` request. */
export const QSTASH_BATCH_SIZE = 100;

export class QStashPublisher implements JobPublisher, BatchPublisher, FanOutPublisher {
  constructor(
    private readonly client: Pick<QStashClient, 'batchJSON' | 'publishJSON'>,
    private readonly publicUrl: string,
    private readonly batchSize = QSTASH_BATCH_SIZE,
  ) {}

  /** A job message to the worker, with the failure callback that turns its last failure into a dead letter. */
  private jobRequest(message: JobMessage | BatchMessage, opts: PublishOptions) {
    return {
      url: internalUrl(this.publicUrl, JOBS_PATH),
      body: message,
      deduplicationId: opts.deduplicationId,
      retries: Math.max(0, opts.retries),
      failureCallback: internalUrl(this.publicUrl, FAILURES_PATH),
      ...(opts.notBeforeMs === undefined ? {} : { notBefore: Math.floor(opts.notBeforeMs / 1000) }),
    };
  }

  async publish(message: JobMessage, opts: PublishOptions): Promise<string> {
    return (await this.client.publishJSON(this.jobRequest(message, opts))).messageId;
  }

  async publishBatch(batch: BatchMessage, opts: PublishOptions): Promise<string> {
    return (await this.client.publishJSON(this.jobRequest(batch, opts))).messageId;
  }

  async publishJobs(messages: readonly FanOutMessage[], retries: number): Promise<PublishReport> {
    // QStash counts whole seconds. Rounding down delivers up to a second early and the worker waits out
    // the rest against the body's notBefore (ms): starts follow the stratified plan instead of bunching
    // on second boundaries, where a ~1 s rate limit would defer most of them (each deferral is another
    // publish and invocation; the wait costs ~0.5 s of worker time on average). A batch is due with its first job.
    const requests = messages.map((m) =>
      isBatch(m)
        ? this.jobRequest(m, { deduplicationId: batchIdOf(m), notBeforeMs: batchNotBefore(m), retries })
        : this.jobRequest(m, { deduplicationId: m.jobId, notBeforeMs: m.notBefore, retries }),
    );
    return this.send(requests, messages.map(jobsIn));
  }

  async publishContinuations(messages: readonly ContinuationMessage[]): Promise<void> {
    const requests = messages.map((m) => ({
      url: internalUrl(this.publicUrl, CONTINUE_PATH),
      body: m,
      // One hand-over per (slot, owner): a retried publish of the same hand-over is dropped.
      deduplicationId: `continue:${m.taskId}:${m.group.replace(/\//g, '.')}:${m.periodKey}:${m.fence}`,
      retries: 3,
    }));
    await this.send(requests);
  }

  /** `weights[i]`: what a duplicate of request i counts in the report (the jobs it carries); 1 each by default. */
  private async send(
    requests: Parameters<QStashClient['batchJSON']>[0],
    weights?: readonly number[],
  ): Promise<PublishReport> {
    const batches: (typeof requests)[] = [];
    for (let i = 0; i < requests.length; i += this.batchSize)
      batches.push(requests.slice(i, i + this.batchSize));
    const replies = await Promise.all(batches.map((batch) => this.client.batchJSON(batch)));
    const failed = replies.flat().filter((r) => typeof r === 'object' && r !== null && 'error' in r);
    if (failed.length > 0) {
      const first = (failed[0] as { error?: unknown }).error;
      throw new PublishError(
        `${failed.length} of ${requests.length} messages refused: ${String(first)}`,
        failed.length,
      );
    }
    // One reply per request, in order.
    let deduplicated = 0;
    replies.flat().forEach((r, i) => {
      if (typeof r === 'object' && r !== null && 'deduplicated' in r && r.deduplicated === true)
        deduplicated += weights?.[i] ?? 1;
    });
    return { deduplicated };
  }
}

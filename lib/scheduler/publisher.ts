// Publishing a fan-out's jobs and continuations: the narrow interface the fan-out uses, and its QStash adapter.
import type { Client as QStashClient } from '@upstash/qstash';
import type { JobMessage } from '../domain/job.js';
import { CONTINUE_PATH, type ContinuationMessage } from './continuation.js';

export const JOBS_PATH = '/internal/jobs';
export const FAILURES_PATH = '/internal/failures';

/** What a publish learnt: how many messages QStash dropped as duplicates of standing ones. */
export interface PublishReport {
  deduplicated: number;
}

export interface FanOutPublisher {
  /** Publishes every job or throws; a retry of the same jobs is harmless (job id = deduplication id). */
  publishJobs(jobs: readonly JobMessage[], retries: number): Promise<PublishReport | void>;
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

export class QStashPublisher implements FanOutPublisher {
  private readonly base: string;

  constructor(
    private readonly client: Pick<QStashClient, 'batchJSON'>,
    publicUrl: string,
    private readonly batchSize = QSTASH_BATCH_SIZE,
  ) {
    this.base = publicUrl.replace(/\/+$/, '');
  }

  async publishJobs(jobs: readonly JobMessage[], retries: number): Promise<PublishReport> {
    const requests = jobs.map((job) => ({
      url: `${this.base}${JOBS_PATH}`,
      body: job,
      deduplicationId: job.jobId,
      // QStash counts whole seconds. Rounding down delivers up to a second early and the worker waits out
      // the rest against the body's notBefore (ms): starts follow the stratified plan instead of bunching
      // on second boundaries, where a ~1 s rate limit would defer most of them (each deferral is another
      // publish and invocation; the wait costs ~0.5 s of worker time on average).
      notBefore: Math.floor(job.notBefore / 1000),
      retries,
      failureCallback: `${this.base}${FAILURES_PATH}`,
    }));
    return this.send(requests);
  }

  async publishContinuations(messages: readonly ContinuationMessage[]): Promise<void> {
    const requests = messages.map((m) => ({
      url: `${this.base}${CONTINUE_PATH}`,
      body: m,
      // One hand-over per (slot, owner): a retried publish of the same hand-over is dropped.
      deduplicationId: `continue:${m.taskId}:${m.group.replace(/\//g, '.')}:${m.periodKey}:${m.fence}`,
      retries: 3,
    }));
    await this.send(requests);
  }

  private async send(requests: Parameters<QStashClient['batchJSON']>[0]): Promise<PublishReport> {
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
    const deduplicated = replies
      .flat()
      .filter((r) => typeof r === 'object' && r !== null && 'deduplicated' in r && r.deduplicated === true);
    return { deduplicated: deduplicated.length };
  }
}

// Publishes job messages to the worker through QStash: deferrals, early arrivals, run-now and replays.
import type { Client as QStashClient } from '@upstash/qstash';
import type { JobMessage } from '../domain/job.js';

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

export interface JobPublisher {
  /** Returns the QStash message id. */
  publish(message: JobMessage, opts: PublishOptions): Promise<string>;
}

export function qstashJobPublisher(
  qstash: Pick<QStashClient, 'publishJSON'>,
  publicUrl: string,
): JobPublisher {
  return {
    async publish(message, opts) {
      const res = await qstash.publishJSON({
        url: internalUrl(publicUrl, JOBS_PATH),
        body: message,
        deduplicationId: opts.deduplicationId,
        retries: Math.max(0, opts.retries),
        failureCallback: internalUrl(publicUrl, FAILURES_PATH),
        ...(opts.notBeforeMs === undefined ? {} : { notBefore: Math.floor(opts.notBeforeMs / 1000) }),
      });
      return res.messageId;
    },
  };
}

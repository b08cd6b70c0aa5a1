// What QStash delivers to the worker: one job, or a batch of one slot's jobs planned close together.
import { z } from 'zod';
import { BatchMessage } from './batch.js';
import { JobMessage } from './job.js';

export const DeliveredMessage = z.discriminatedUnion('kind', [BatchMessage, JobMessage]);
export type DeliveredMessage = z.output<typeof DeliveredMessage>;

export function isBatch(m: DeliveredMessage): m is BatchMessage {
  return m.kind === 'batch';
}

// Child process entry of the fan-out scenario: runs one side's enqueueing alone, so its peak RSS is its own.
import { childMain } from '../lib/child.js';
import { bullmqFanout, type BullmqFanoutInput, type FanoutSideResult } from './fanout-bullmq.js';
import { brokerIngest, staggerFanout, type StaggerFanoutInput } from './fanout-stagger.js';

export type FanoutChildInput =
  ({ side: 'bullmq' } & BullmqFanoutInput) | ({ side: 'stagger' | 'ingest' } & StaggerFanoutInput);

childMain<FanoutChildInput, FanoutSideResult>((input) =>
  input.side === 'bullmq'
    ? bullmqFanout(input)
    : input.side === 'ingest'
      ? brokerIngest(input)
      : staggerFanout(input),
);

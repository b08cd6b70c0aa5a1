// BullMQ side of the fan-out: Queue.addBulk of the plan's N jobs with their delays, in batches of 1,000.
import { Queue } from 'bullmq';
import { jobIdOf } from '../../lib/domain/ids.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { userId, type FanoutPlan } from './fanout-plan.js';

export const BULLMQ_BATCH = 1000;

export interface BullmqFanoutInput {
  redisPort: number;
  queueName: string;
  plan: FanoutPlan;
}

export interface FanoutSideResult {
  jobs: number;
  /** Messages the jobs travelled in, where that differs from one a job (stagger's batches). */
  messages?: number;
  elapsedMs: number;
}

interface BulkJob {
  name: string;
  data: JobMessage;
  opts: { jobId: string; delay: number };
}

/** The same jobs stagger publishes, built lazily batch by batch (holding all N would inflate memory). */
function* bulkJobs(plan: FanoutPlan): Generator<BulkJob> {
  for (const slot of plan.slots) {
    for (let i = 0; i < slot.users; i++) {
      const user = userId(i);
      const jobId = jobIdOf(slot.taskId, user, slot.periodKey);
      // The stratified offset stagger uses, so both sides store the same schedule.
      const delay = Math.floor((slot.spreadMs * (i + Math.random())) / slot.users);
      yield {
        name: slot.taskId,
        data: {
          v: 1,
          jobId,
          taskId: slot.taskId,
          userId: user,
          periodKey: slot.periodKey,
          notBefore: slot.dueAtMs + delay,
          origin: 'scheduled',
          backfilled: false,
          deferrals: 0,
        },
        // BullMQ refuses ":" in custom ids; the id still deduplicates like stagger's.
        opts: { jobId: jobId.replaceAll(':', '|'), delay },
      };
    }
  }
}

export async function bullmqFanout(input: BullmqFanoutInput): Promise<FanoutSideResult> {
  const queue = new Queue(input.queueName, { connection: { host: '127.0.0.1', port: input.redisPort } });
  await queue.waitUntilReady();
  const started = performance.now();
  let jobs = 0;
  let batch: BulkJob[] = [];
  for (const job of bulkJobs(input.plan)) {
    batch.push(job);
    if (batch.length === BULLMQ_BATCH) {
      jobs += (await queue.addBulk(batch)).length;
      batch = [];
    }
  }
  if (batch.length > 0) jobs += (await queue.addBulk(batch)).length;
  const elapsedMs = performance.now() - started;
  await queue.close();
  return { jobs, elapsedMs };
}

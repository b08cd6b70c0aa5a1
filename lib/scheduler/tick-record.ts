// The end of a tick in one pipelined round trip: the status hash and the scheduler's counters (planned jobs are counted by claimSlot).
import { bucketLabel, TICK_BOUNDS_MS } from '../metrics/buckets.js';
import { metricField } from '../metrics/fields.js';
import type { Keys } from '../store/keys.js';
import type { SchedulerRedis } from './deps.js';

export interface TickOutcome {
  now: number;
  fence: number;
  durationMs: number;
  claimed: number;
  resumed: number;
  failed: number;
  /** The summary kept in the status hash. */
  summary: unknown;
}

export interface TickWrites {
  /** Metrics hash field -> increment. */
  metrics: Record<string, number>;
}

/** What a tick adds to the metrics: counters and its duration bucket. */
export function tickWrites(t: TickOutcome): TickWrites {
  const duration = Math.max(0, Math.round(t.durationMs));
  const metrics: Record<string, number> = {
    [metricField.tickBucket(bucketLabel(TICK_BOUNDS_MS, duration))]: 1,
    [metricField.tickBucket('sum')]: duration,
  };
  const add = (field: string, n: number) => {
    if (n > 0) metrics[field] = (metrics[field] ?? 0) + n;
  };
  add(metricField.scheduler('claimed'), t.claimed);
  add(metricField.scheduler('resumed'), t.resumed);
  add(metricField.scheduler('failed'), t.failed);
  return { metrics };
}

export async function recordTick(
  redis: Pick<SchedulerRedis, 'pipeline'>,
  keys: Keys,
  t: TickOutcome,
): Promise<void> {
  const writes = tickWrites(t);
  const p = redis.pipeline();
  p.hset(keys.schedulerStatus, {
    lastTickAt: t.now,
    lastTickFence: t.fence,
    lastTick: JSON.stringify(t.summary),
  });
  for (const [field, n] of Object.entries(writes.metrics)) p.hincrby(keys.metrics, field, n);
  await p.exec();
}

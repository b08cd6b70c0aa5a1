// The end of a tick in one pipelined round trip: the status hash, the scheduler's counters and each claimed slot's planned jobs.
import { bucketLabel, periodStatsTtlMs, TICK_BOUNDS_MS } from '../metrics/buckets.js';
import { metricField } from '../metrics/fields.js';
import type { Keys } from '../store/keys.js';
import type { SchedulerRedis } from './deps.js';
import type { OwnedSlot } from './fanout.js';
import type { SchedulableTask } from './plan.js';

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
  /** Period stats key -> planned jobs and the key's retention. */
  planned: { key: string; planned: number; ttlMs: number }[];
}

/** What a tick adds to the metrics: counters, its duration bucket, and planned jobs per task and per (task, period). */
export function tickWrites(
  keys: Keys,
  tasks: ReadonlyMap<string, SchedulableTask>,
  owned: readonly OwnedSlot[],
  t: TickOutcome,
): TickWrites {
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
  const planned = new Map<string, { key: string; planned: number; ttlMs: number }>();
  for (const { slot, how } of owned) {
    if (how !== 'claimed') continue;
    add(metricField.task(slot.taskId, 'planned'), slot.total);
    const task = tasks.get(slot.taskId);
    if (!task || slot.total <= 0) continue;
    // Zone groups of one task share a period key (a local date): their plans add up.
    const key = keys.periodStats(slot.taskId, slot.periodKey);
    const entry = planned.get(key) ?? { key, planned: 0, ttlMs: periodStatsTtlMs(task.schedule) };
    entry.planned += slot.total;
    planned.set(key, entry);
  }
  return { metrics, planned: [...planned.values()] };
}

export async function recordTick(
  redis: Pick<SchedulerRedis, 'pipeline'>,
  keys: Keys,
  tasks: ReadonlyMap<string, SchedulableTask>,
  owned: readonly OwnedSlot[],
  t: TickOutcome,
): Promise<void> {
  const writes = tickWrites(keys, tasks, owned, t);
  const p = redis.pipeline();
  p.hset(keys.schedulerStatus, {
    lastTickAt: t.now,
    lastTickFence: t.fence,
    lastTick: JSON.stringify(t.summary),
  });
  for (const [field, n] of Object.entries(writes.metrics)) p.hincrby(keys.metrics, field, n);
  for (const s of writes.planned) {
    p.hincrby(s.key, 'planned', s.planned);
    p.pexpire(s.key, s.ttlMs);
  }
  await p.exec();
}

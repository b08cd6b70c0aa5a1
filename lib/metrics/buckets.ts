// Histogram buckets and per-period stats sizing: pure values shared by the Lua scripts that count and the readers that render.
import type { Schedule } from '../domain/schedule.js';
import { shortestPeriodMs } from '../domain/schedule.js';

/** Upper bounds (ms, inclusive) of the job lateness histogram: first start minus planned notBefore. */
export const LATENESS_BOUNDS_MS = [
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
] as const;
/** Upper bounds (ms) of the target call duration histogram. */
export const DURATION_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;
/** Upper bounds (ms) of the scheduler tick duration histogram. */
export const TICK_BOUNDS_MS = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000] as const;

/** The bucket label an observation falls in: its smallest bound >= value, or `inf`. Buckets are stored non-cumulative. */
export function bucketLabel(bounds: readonly number[], valueMs: number): string {
  for (const b of bounds) if (valueMs <= b) return String(b);
  return 'inf';
}

const SECOND = 1_000;
const DAY = 86_400_000;
/** Start-time buckets per nominal spread window: enough for a chart, few enough for one small hash. */
export const STARTS_BUCKETS_PER_WINDOW = 120;

/** Width of the start-time buckets of a task's period stats: whole seconds, ~120 per spread window. */
export function startsBucketMs(spreadMs: number): number {
  return Math.max(SECOND, Math.ceil(spreadMs / STARTS_BUCKETS_PER_WINDOW / SECOND) * SECOND);
}

const periodCache = new WeakMap<Schedule, number>();

/** How long a period's stats are kept: three periods, at least a day (the dashboard shows the last one). */
export function periodStatsTtlMs(schedule: Schedule): number {
  let period = periodCache.get(schedule);
  if (period === undefined) {
    period = shortestPeriodMs(schedule);
    periodCache.set(schedule, period);
  }
  return Math.max(DAY, 3 * period);
}

/** What the worker's scripts need to keep a (task, period)'s stats; absent for jobs outside any period (manual runs). */
export interface PeriodStatsPolicy {
  ttlMs: number;
  bucketMs: number;
}

export function periodStatsPolicy(task: { schedule: Schedule; spreadMs: number }): PeriodStatsPolicy {
  return { ttlMs: periodStatsTtlMs(task.schedule), bucketMs: startsBucketMs(task.spreadMs) };
}

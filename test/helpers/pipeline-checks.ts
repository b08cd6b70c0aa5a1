// Measurements for the end-to-end pipeline test: how evenly starts are spread, and the busiest sliding window.

/** The most values (ms) inside any half-open window [t, t + windowMs). */
export function maxInSlidingWindow(
  times: readonly number[],
  windowMs: number,
): { count: number; at: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, at: Number.NaN };
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    if (end - start > best.count) best = { count: end - start, at: sorted[start]! };
  }
  return best;
}

export interface SpreadReport {
  n: number;
  windowMs: number;
  /** W / N: the average distance between starts. */
  stepMs: number;
  /** First start after the window's start, and the window's end after the last start (ms). */
  headMs: number;
  tailMs: number;
  /** Largest distance between consecutive starts (ms). */
  maxGapMs: number;
}

/** How `times` cover [startAt, startAt + windowMs). */
export function spreadOf(times: readonly number[], startAt: number, windowMs: number): SpreadReport {
  const sorted = [...times].sort((a, b) => a - b);
  let maxGapMs = 0;
  for (let i = 1; i < sorted.length; i++) maxGapMs = Math.max(maxGapMs, sorted[i]! - sorted[i - 1]!);
  return {
    n: sorted.length,
    windowMs,
    stepMs: windowMs / Math.max(sorted.length, 1),
    headMs: (sorted[0] ?? Number.NaN) - startAt,
    tailMs: startAt + windowMs - (sorted.at(-1) ?? Number.NaN),
    maxGapMs,
  };
}

/** The next whole minute at or after `atOrAfter` (epoch ms). */
export function nextMinute(atOrAfter: number): number {
  return Math.ceil(atOrAfter / 60_000) * 60_000;
}

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

// Counting events in time windows: sliding-window maxima (rate limits) and peak-to-mean of binned starts (spreading).

/** Largest number of events inside any half-open window [t, t + windowMs), t sliding over the event times. */
export function maxInSlidingWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * Number of sliding windows holding more than `limit` events. A window is anchored at each event
 * ([t_i, t_i + windowMs)); any over-full window contains such an anchored one, so this is zero
 * exactly when no window of that length anywhere exceeds the limit.
 */
export function windowsOverLimit(times: readonly number[], windowMs: number, limit: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let over = 0;
  let hi = 0;
  for (let lo = 0; lo < sorted.length; lo++) {
    while (hi < sorted.length && sorted[hi]! - sorted[lo]! < windowMs) hi++;
    if (hi - lo > limit) over++;
  }
  return over;
}

/** Fixed windows aligned to multiples of windowMs that hold more than `limit` events. */
export function alignedWindowsOverLimit(times: readonly number[], windowMs: number, limit: number): number {
  const counts = new Map<number, number>();
  for (const t of times) {
    const bin = Math.floor(t / windowMs);
    counts.set(bin, (counts.get(bin) ?? 0) + 1);
  }
  let over = 0;
  for (const c of counts.values()) if (c > limit) over++;
  return over;
}

/** Achieved rate in events per second: (n - 1) intervals over the span from first to last event. */
export function achievedRate(times: readonly number[]): number {
  if (times.length < 2) return Number.NaN;
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return max === min ? Infinity : ((times.length - 1) * 1000) / (max - min);
}

/**
 * Peak-to-mean ratio of event counts in bins of `binMs` over [fromMs, toMs): the busiest bin
 * divided by the mean over all bins of the window (empty bins count, as idle capacity does).
 */
export function peakToMean(times: readonly number[], fromMs: number, toMs: number, binMs: number): number {
  const bins = Math.ceil((toMs - fromMs) / binMs);
  const counts = new Array<number>(bins).fill(0);
  let inside = 0;
  for (const t of times) {
    const i = Math.floor((t - fromMs) / binMs);
    if (i < 0 || i >= bins) continue;
    counts[i]!++;
    inside++;
  }
  const mean = inside / bins;
  return mean === 0 ? Number.NaN : Math.max(...counts) / mean;
}

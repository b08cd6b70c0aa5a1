// Bins a period's start-time buckets (period stats `s:<ms>` fields) into the bars of its spread window. Pure.

export interface StartsBins {
  barMs: number;
  counts: number[];
  /** Starts in the bucket just after the window: QStash delivers in whole seconds, so a start planned near the end may run that late. */
  after: number;
  /** Starts whose bucket lies further outside the window. */
  outside: number;
}

export const MAX_BARS = 60;

/** The start buckets of period stats: bucket start (epoch ms) -> first starts in it. */
export function startBuckets(stats: Record<string, unknown>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [field, value] of Object.entries(stats)) {
    if (!field.startsWith('s:')) continue;
    const at = Number(field.slice(2));
    const n = Number(value);
    if (Number.isSafeInteger(at) && Number.isFinite(n)) out.set(at, (out.get(at) ?? 0) + n);
  }
  return out;
}

/**
 * Bars of whole buckets (so no bucket is split between bars), at most `maxBars`, from `startAt`.
 * A bucket counts in the bar where it starts; one starting up to a bucket before the window (the
 * window rarely begins on a bucket edge) counts in the first bar. Starts of the bucket right after
 * the window are kept apart (`after`): folded into the last bar they would show as a spike.
 */
export function binStarts(
  buckets: ReadonlyMap<number, number>,
  window: { startAt: number; windowMs: number },
  bucketMs: number,
  maxBars = MAX_BARS,
): StartsBins {
  const bucketsInWindow = Math.max(1, Math.ceil(window.windowMs / bucketMs));
  const barMs = bucketMs * Math.ceil(bucketsInWindow / maxBars);
  const counts = new Array<number>(Math.max(1, Math.ceil(window.windowMs / barMs))).fill(0);
  let outside = 0;
  let after = 0;
  for (const [at, n] of buckets) {
    const offset = at - window.startAt;
    if (offset >= window.windowMs && offset < window.windowMs + bucketMs) {
      after += n;
      continue;
    }
    if (offset < -bucketMs || offset >= window.windowMs) {
      outside += n;
      continue;
    }
    const i = Math.min(counts.length - 1, Math.max(0, Math.floor(offset / barMs)));
    counts[i]! += n;
  }
  return { barMs, counts, after, outside };
}

// Pure spreading of a slot's jobs over its window: stratified positions, and windows stretched to fit rate limits.
//
// Job of rank i (scan order) out of N gets offset W*(i+u)/N with u in [0,1): exactly one job per
// stratum [W*i/N, W*(i+1)/N), so any stretch of k strata holds k-1 to k+1 jobs (plain random
// jitter clusters). planJobs uses one u per slot (a lattice with a random phase), which makes it k.
// Members enabled after the claim (rank >= N) get a plain uniform offset.
export interface RateLimitRule {
  /** Catalog key: slots naming the same limit share it (plan-capacity.ts). */
  name?: string;
  limit: number;
  windowMs: number;
}

/**
 * The window N jobs need so their even spread stays within every rate limit: W' = max(W, N / rate)
 * with rate = limit / (window + guard) of the tightest rule. The worker's limiter admits `limit`
 * per `window + guardMs` (STAGGER_LIMIT_GUARD_MS), so a stretch by the bare window would plan
 * guard/(window+guard) more jobs than it admits and defer that share of every stretched slot.
 * Stratified jitter can still put one job more than the average into a limiter window, and shared
 * limits are split between the slots of a tick afterwards (plan-capacity.ts): the worker's limiter
 * stays the guard and defers any excess.
 */
/** Stretched windows get 2% more room: arrival jitter of a few ms must not tip a lattice over the limit. */
export const STRETCH_SLACK = 1.02;

export function stretchWindow(
  windowMs: number,
  total: number,
  limits: readonly RateLimitRule[],
  guardMs = 0,
): number {
  let needed = windowMs;
  for (const rule of limits) {
    if (rule.limit <= 0 || rule.windowMs <= 0) continue;
    needed = Math.max(
      needed,
      Math.ceil((STRETCH_SLACK * total * (rule.windowMs + Math.max(0, guardMs))) / rule.limit),
    );
  }
  return needed;
}

/** Offset (ms, fractional) of rank `rank` of `total` jobs in a window, for a uniform draw `u` in [0,1). */
export function spreadOffset(rank: number, total: number, windowMs: number, u: number): number {
  // A source that strays outside [0,1) must not move a job out of its stratum.
  const draw = u >= 0 && u < 1 ? u : 0;
  if (rank < 0 || total <= 0 || rank >= total) return windowMs * draw;
  return (windowMs * (rank + draw)) / total;
}

export interface SpreadWindow {
  startAt: number;
  windowMs: number;
  total: number;
}

/** Planned start (integer epoch ms) in [startAt, startAt + windowMs), never earlier than `now`. */
export function notBeforeOf(window: SpreadWindow, rank: number, u: number, now: number): number {
  // Rounding down to whole ms, and never to the window's end (float error at the last stratum).
  const offset = Math.min(
    Math.floor(spreadOffset(rank, window.total, window.windowMs, u)),
    Math.max(window.windowMs - 1, 0),
  );
  const at = window.startAt + offset;
  return Math.max(at, Math.ceil(now));
}

// Pure joint capacity planning: widens the windows of slots claimed together so their sum fits every shared limit.
//
// Each slot's own plan (stretchWindow) fits its jobs to a limit as if it had the limit alone. Slots
// that pass the same named limit (`global` is passed by every task when defined) and run at the same
// time add up, so this pass shares each limit's capacity between them:
// - Per limit of capacity `limit` jobs per T = window + guard, slots interact when their windows,
//   each extended by T, overlap (a sliding window can straddle one slot's end and another's start).
//   Slots that interact, directly or through a chain, form a group that is treated as concurrent
//   for the whole span: a conservative bound for slots that only partly overlap.
// - A slot's demand through the limit is q = ceil(slack * N * T / W): a lattice of N jobs W/N apart
//   puts at most ceil(T * N / W) of them into any window of T. When the demands of a group add up to
//   at most `limit`, nothing changes (so a slot alone on its limits keeps its own plan exactly).
// - Otherwise the limit is shared out in whole jobs per T, each slot getting at least 1 and at most
//   its demand, so that the longest resulting window is as short as whole shares allow (shares about
//   proportional to N; a slot that needs less keeps its demand and frees the rest); the slot's window
//   becomes max(W, ceil(slack * N * T / share)). Equal starts give windows near slack * ΣN * T / limit.
// - With shares summing to `limit`, the union of the planned start times holds at most `limit` in
//   any sliding window of T (each lattice holds at most its share).
// - A slot under several shared limits takes the widest window any of them asks. Widened windows can
//   make new overlaps, so the pass repeats until nothing changes (windows only grow; bounded).
// - A window never ends after the slot's next period is due: it is capped there and reported, and
//   the worker's limiter stays the guard for the excess. So is a group with more slots than `limit`.
// Slots claimed in different ticks are not planned together.
import type { ClaimPlan } from './plan.js';
import { STRETCH_SLACK, type RateLimitRule } from './plan-spread.js';

export interface CapacitySlot {
  plan: ClaimPlan;
  /** Every limit a job of the slot passes; only named ones can be shared. */
  limits: readonly RateLimitRule[];
  /** The next period's due time: the window must end by then. */
  endBy: number;
}

export interface CappedSlot {
  taskId: string;
  group: string;
  periodKey: string;
  /** What the shared limits asked for, and what the slot got. */
  neededMs: number;
  windowMs: number;
  reason: 'next-period' | 'more-slots-than-limit';
  limit?: string;
}

export interface CapacityPlan {
  plans: ClaimPlan[];
  /** Slots whose window this pass widened. */
  widened: number;
  capped: CappedSlot[];
}

const EPSILON = 1e-9;

/** Whole jobs per `periodMs` that N jobs spread over `windowMs` can put into one sliding window. */
export function demandOf(total: number, windowMs: number, periodMs: number): number {
  if (total <= 0) return 0;
  if (windowMs <= 0) return total;
  return Math.min(total, Math.ceil((STRETCH_SLACK * total * periodMs) / windowMs - EPSILON));
}

/** The window N jobs need to put at most `share` of them into any sliding window of `periodMs`. */
export function windowForShare(total: number, share: number, periodMs: number): number {
  return Math.ceil((STRETCH_SLACK * total * periodMs) / Math.max(1, share));
}

/**
 * Splits `capacity` whole units between members, each at least 1 and at most its demand, so that
 * the largest weight per unit (a slot's window, for weights in jobs) is as small as it can be:
 * the smallest bound M with Σ max(1, ceil(weight / M)) ≤ capacity, found by bisection, then any
 * unit left over to the member with the most weight per unit. Members that need less than their
 * proportional share keep their demand (water-filling); at equal weights the shares are equal.
 */
export function shareOut(demands: readonly number[], weights: readonly number[], capacity: number): number[] {
  if (demands.reduce((a, b) => a + b, 0) <= capacity) return [...demands];
  const at = (bound: number) =>
    demands.map((d, i) => Math.min(d, Math.max(1, Math.ceil((weights[i] ?? 0) / bound - EPSILON))));
  const sum = (shares: number[]) => shares.reduce((a, b) => a + b, 0);
  let high = Math.max(1, ...weights);
  if (sum(at(high)) > capacity) return at(high);
  let low = 0;
  for (let i = 0; i < 100 && high - low > EPSILON * high; i++) {
    const mid = (low + high) / 2;
    if (sum(at(mid)) <= capacity) high = mid;
    else low = mid;
  }
  const shares = at(high);
  for (let spare = capacity - sum(shares); spare > 0; spare--) {
    let best = -1;
    shares.forEach((q, i) => {
      if (q >= (demands[i] ?? 0)) return;
      if (best < 0 || (weights[i] ?? 0) / q > (weights[best] ?? 0) / (shares[best] ?? 1)) best = i;
    });
    if (best < 0) break;
    shares[best] = (shares[best] ?? 0) + 1;
  }
  return shares;
}

/** Groups of member indexes whose intervals [start, end) overlap, directly or through a chain. */
function overlapGroups(members: readonly { i: number; start: number; end: number }[]): number[][] {
  const sorted = [...members].sort((a, b) => a.start - b.start || a.i - b.i);
  const groups: number[][] = [];
  let current: number[] = [];
  let reach = -Infinity;
  for (const m of sorted) {
    if (current.length > 0 && m.start >= reach) {
      groups.push(current);
      current = [];
      reach = -Infinity;
    }
    current.push(m.i);
    reach = Math.max(reach, m.end);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The slots' plans with windows widened so that every shared limit's planned rate fits its capacity. */
export function planCapacity(slots: readonly CapacitySlot[], guardMs = 0): CapacityPlan {
  const windows = slots.map((s) => s.plan.windowMs);
  const byLimit = new Map<string, { rule: RateLimitRule; members: number[] }>();
  slots.forEach((s, i) => {
    for (const rule of s.limits) {
      if (rule.name === undefined || rule.limit <= 0 || rule.windowMs <= 0) continue;
      const entry = byLimit.get(rule.name) ?? { rule, members: [] };
      if (!entry.members.includes(i)) entry.members.push(i);
      byLimit.set(rule.name, entry);
    }
  });
  const needed = [...windows];
  const overcommitted = new Map<number, string>();
  // Each round either leaves every window as it is or widens one; windows only grow and are capped.
  for (let round = 0; round <= slots.length + 1; round++) {
    for (const [name, { rule, members }] of byLimit) {
      if (members.length < 2) continue;
      const periodMs = rule.windowMs + Math.max(0, guardMs);
      const spans = members.map((i) => {
        const start = slots[i]?.plan.startAt ?? 0;
        return { i, start, end: start + (windows[i] ?? 0) + periodMs };
      });
      for (const group of overlapGroups(spans)) {
        if (group.length < 2) continue;
        const totals = group.map((i) => slots[i]?.plan.total ?? 0);
        const demands = group.map((i, k) => demandOf(totals[k] ?? 0, windows[i] ?? 0, periodMs));
        const shares = shareOut(demands, totals, rule.limit);
        if (group.length > rule.limit) for (const i of group) overcommitted.set(i, name);
        group.forEach((i, k) => {
          if ((shares[k] ?? 0) >= (demands[k] ?? 0)) return;
          needed[i] = Math.max(needed[i] ?? 0, windowForShare(totals[k] ?? 0, shares[k] ?? 1, periodMs));
        });
      }
    }
    let changed = false;
    slots.forEach((s, i) => {
      const allowed = Math.max(s.plan.windowMs, s.endBy - s.plan.startAt);
      const next = Math.max(windows[i] ?? 0, Math.min(needed[i] ?? 0, allowed));
      if (next !== windows[i]) {
        windows[i] = next;
        changed = true;
      }
    });
    if (!changed) break;
  }
  const capped: CappedSlot[] = [];
  const plans = slots.map((s, i) => {
    const windowMs = windows[i] ?? s.plan.windowMs;
    const id = { taskId: s.plan.taskId, group: s.plan.group, periodKey: s.plan.period.key };
    if ((needed[i] ?? 0) > windowMs)
      capped.push({ ...id, neededMs: needed[i] ?? 0, windowMs, reason: 'next-period' });
    else if (overcommitted.has(i))
      capped.push({
        ...id,
        neededMs: windowMs,
        windowMs,
        reason: 'more-slots-than-limit',
        limit: overcommitted.get(i),
      });
    return windowMs === s.plan.windowMs ? s.plan : { ...s.plan, windowMs };
  });
  return { plans, widened: plans.filter((p, i) => p !== slots[i]?.plan).length, capped };
}

// Pure due detection: which period of a (task, zone group) a tick claims, over which window, and why it skips the rest.
//
// Catch-up policy after missed ticks (scheduler down, lock held too long, EventBridge delays):
// - Only the latest due period (`latestDue` at `now`) is ever considered. Periods between the last
//   claimed one and it are skipped for good, and a period not later than the last claimed one never
//   runs again (claimSlot enforces this atomically from `lastslot:<task>:<group>`).
// - `latest` (default): the latest period runs once even when late, spread over a whole window that
//   starts at the claim (never a burst); its jobs carry `backfilled: true`.
// - `none`: a late period is skipped; the next period runs on time.
// - A period is late when it is claimed more than LATE_AFTER_MS after its due time. A (task, group)
//   never claimed before (new zone group, first deployment, flushed state) starts with its next
//   on-time period: enabling a task takes effect from its next due time, not retroactively.
import { latestDue, type Period } from '../domain/periods.js';
import { FIXED_ZONE_GROUP } from '../domain/ids.js';
import type { Schedule } from '../domain/schedule.js';
import { stretchWindow, type RateLimitRule } from './plan-spread.js';

export type CatchUpPolicy = 'latest' | 'none';

/** What the scheduler needs of a task type (see tasks.ts for the catalog adapter). */
export interface SchedulableTask {
  id: string;
  schedule: Schedule;
  zone: { policy: 'fixed'; tz: string } | { policy: 'user' };
  spreadMs: number;
  retries: number;
  /** The target call's timeout: a batch's last job must still finish inside the worker's invocation. */
  timeoutMs: number;
  catchUp: CatchUpPolicy;
  /** Every limit a job of this task passes (its own keys and the global one). */
  rateLimits: readonly RateLimitRule[];
}

/** Two ticks' worth plus EventBridge jitter: later than this after its due time, a period counts as caught up. */
export const LATE_AFTER_MS = 5 * 60_000;

export interface GroupState {
  task: SchedulableTask;
  group: string;
  /** Index members of the group now (`idxzones:<task>` count). */
  members: number;
  /** Due time of the last period claimed for (task, group), if any. */
  lastDueAt: number | undefined;
}

export interface ClaimPlan {
  kind: 'claim';
  taskId: string;
  group: string;
  tz: string;
  period: Period;
  /** Jobs are spread over [startAt, startAt + windowMs). */
  startAt: number;
  windowMs: number;
  total: number;
  backfilled: boolean;
}

export type SkipReason = 'claimed' | 'late-not-caught-up' | 'late-first-seen' | 'empty' | 'bad-zone';

export interface SkipPlan {
  kind: 'skip';
  taskId: string;
  group: string;
  reason: SkipReason;
  periodKey?: string;
}

export type SlotPlan = ClaimPlan | SkipPlan;

/**
 * The zone a group's periods are computed in: the task's own for fixed-zone tasks, else the group
 * (an IANA zone). `_` under a user-zone task (left over from a policy change) reads as UTC.
 */
export function zoneOfGroup(task: Pick<SchedulableTask, 'zone'>, group: string): string {
  if (task.zone.policy === 'fixed') return task.zone.tz;
  return group === FIXED_ZONE_GROUP ? 'UTC' : group;
}

/** `limitGuardMs`: the worker's STAGGER_LIMIT_GUARD_MS, added to every limit's window when stretching. */
export function planSlot(
  state: GroupState,
  now: number,
  lateAfterMs = LATE_AFTER_MS,
  limitGuardMs = 0,
): SlotPlan {
  const { task, group } = state;
  const skip = (reason: SkipReason, periodKey?: string): SkipPlan => ({
    kind: 'skip',
    taskId: task.id,
    group,
    reason,
    ...(periodKey === undefined ? {} : { periodKey }),
  });
  if (state.members <= 0) return skip('empty');
  const tz = zoneOfGroup(task, group);
  let period: Period;
  try {
    period = latestDue(task.schedule, now, tz);
  } catch {
    return skip('bad-zone');
  }
  if (state.lastDueAt !== undefined && period.dueAtMs <= state.lastDueAt) return skip('claimed', period.key);
  const late = now - period.dueAtMs > lateAfterMs;
  if (late && state.lastDueAt === undefined) return skip('late-first-seen', period.key);
  if (late && task.catchUp === 'none') return skip('late-not-caught-up', period.key);
  return {
    kind: 'claim',
    taskId: task.id,
    group,
    tz,
    period,
    // A claim seconds after the due time shifts the window by those seconds rather than bunching
    // the jobs of the elapsed part at "now"; a late period gets a whole window from now.
    startAt: Math.max(period.dueAtMs, now),
    windowMs: stretchWindow(task.spreadMs, state.members, task.rateLimits, limitGuardMs),
    total: state.members,
    backfilled: late,
  };
}

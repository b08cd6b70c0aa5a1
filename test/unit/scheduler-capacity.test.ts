// Joint capacity planning of slots claimed together: exact planned start times against every shared limit.
import { maxInSlidingWindow } from '../../bench/lib/windows.js';
import { describe, expect, it } from 'vitest';
import type { ClaimPlan } from '../../lib/scheduler/plan.js';
import { planCapacity, shareOut, type CapacitySlot } from '../../lib/scheduler/plan-capacity.js';
import { planJobs } from '../../lib/scheduler/plan-jobs.js';
import { stretchWindow, type RateLimitRule } from '../../lib/scheduler/plan-spread.js';

const MIN = 60_000;
const DAY = 86_400_000;
const GUARD = 250;
const T3 = Date.parse('2030-01-07T03:00:00Z');
const GLOBAL: RateLimitRule = { name: 'global', limit: 50, windowMs: 1000 };
const PARTNER: RateLimitRule = { name: 'partner_api', limit: 4, windowMs: 2000 };

interface SlotSpec {
  taskId: string;
  total: number;
  spreadMs?: number;
  startAt?: number;
  limits?: RateLimitRule[];
  /** How long until the slot's next period is due, from its start. */
  periodMs?: number;
}

/** A claim as planSlot makes it: the task's own window stretched for its own limits only. */
function slot(spec: SlotSpec): CapacitySlot {
  const startAt = spec.startAt ?? T3;
  const limits = spec.limits ?? [GLOBAL];
  const plan: ClaimPlan = {
    kind: 'claim',
    taskId: spec.taskId,
    group: '_',
    tz: 'UTC',
    period: { key: '2030-01-07', startMs: startAt, endMs: startAt + DAY, dueAtMs: startAt },
    startAt,
    windowMs: stretchWindow(spec.spreadMs ?? 10 * MIN, spec.total, limits, GUARD),
    total: spec.total,
    backfilled: false,
  };
  return { plan, limits, endBy: startAt + (spec.periodMs ?? DAY) };
}

/** Planned start times of every job of the plans, as the fan-out computes them (now = the claim). */
function startTimes(plans: readonly ClaimPlan[]): number[] {
  return plans.flatMap((p) => {
    const ids = Array.from({ length: p.total }, (_, i) => `u${i}`);
    const jobs = planJobs({ ...p, periodKey: p.period.key }, ids, 0, p.startAt, () => 0.5);
    return jobs.map((j) => j.notBefore);
  });
}

const under = (rule: RateLimitRule, slots: readonly CapacitySlot[], plans: readonly ClaimPlan[]) =>
  plans.filter((_, i) => slots[i]?.limits.some((l) => l.name === rule.name));

// Seventeen task types due at 03:00 UTC, of different sizes, behind the example catalog's global limit of 50/s.
const seventeen = Array.from({ length: 17 }, (_, i) => slot({ taskId: `daily_${i}`, total: 1500 + 970 * i }));

describe('planCapacity', () => {
  it('keeps 17 slots due at one instant under one global limit within it in every sliding window', () => {
    const period = GLOBAL.windowMs + GUARD;
    // Each planned alone fits the limit, together they do not: the case this pass exists for.
    for (const s of seventeen)
      expect(maxInSlidingWindow(startTimes([s.plan]), period)).toBeLessThanOrEqual(GLOBAL.limit);
    expect(maxInSlidingWindow(startTimes(seventeen.map((s) => s.plan)), period)).toBeGreaterThan(
      GLOBAL.limit,
    );

    const joint = planCapacity(seventeen, GUARD);
    expect(maxInSlidingWindow(startTimes(joint.plans), period)).toBeLessThanOrEqual(GLOBAL.limit);
    expect(joint.widened).toBe(17);
    expect(joint.capped).toEqual([]);
    // Shares are whole jobs per limiter window: together the slots start at the full planned rate
    // (the limit less the slack), and the longest window is within the rounding of a share of 2 to 5
    // jobs per window of the even one, slack * jobs / rate.
    const jobs = seventeen.reduce((n, s) => n + s.plan.total, 0);
    const even = (1.02 * jobs * period) / GLOBAL.limit;
    const rate = joint.plans.reduce((r, p) => r + (p.total * period) / p.windowMs, 0);
    expect(rate).toBeGreaterThan(GLOBAL.limit / 1.02 - 1);
    expect(rate).toBeLessThanOrEqual(GLOBAL.limit / 1.02);
    for (const p of joint.plans) expect(p.windowMs).toBeLessThanOrEqual(even * 1.2);
  });

  it('keeps slots with different starts and windows, some also under a named limit, within every limit', () => {
    const slots = [
      ...seventeen.slice(0, 8),
      slot({ taskId: 'late_a', total: 900, startAt: T3 + 40_000, spreadMs: 30 * MIN }),
      slot({ taskId: 'late_b', total: 300, startAt: T3 + 7 * MIN, spreadMs: 2 * MIN }),
      slot({ taskId: 'partner_a', total: 700, limits: [GLOBAL, PARTNER] }),
      slot({ taskId: 'partner_b', total: 200, startAt: T3 + 90_000, limits: [GLOBAL, PARTNER] }),
      slot({ taskId: 'partner_only', total: 500, limits: [PARTNER] }),
    ];
    const joint = planCapacity(slots, GUARD);
    for (const rule of [GLOBAL, PARTNER]) {
      const before = startTimes(
        under(
          rule,
          slots,
          slots.map((s) => s.plan),
        ),
      );
      const after = startTimes(under(rule, slots, joint.plans));
      expect(maxInSlidingWindow(before, rule.windowMs + GUARD)).toBeGreaterThan(rule.limit);
      expect(maxInSlidingWindow(after, rule.windowMs + GUARD)).toBeLessThanOrEqual(rule.limit);
    }
    expect(joint.capped).toEqual([]);
  });

  it("leaves a single slot's plan as planSlot made it", () => {
    const alone = slot({ taskId: 'alone', total: 50_000 });
    const joint = planCapacity([alone], GUARD);
    expect(joint.plans[0]).toBe(alone.plan);
    expect(joint).toMatchObject({ widened: 0, capped: [] });
  });

  it('leaves slots that already fit a shared limit together as they are', () => {
    const small = [slot({ taskId: 'a', total: 100 }), slot({ taskId: 'b', total: 120 })];
    const joint = planCapacity(small, GUARD);
    expect(joint.plans).toEqual(small.map((s) => s.plan));
    expect(joint.widened).toBe(0);
  });

  it('does not widen slots under different limits because of each other', () => {
    const a: RateLimitRule = { name: 'mail', limit: 10, windowMs: 1000 };
    const b: RateLimitRule = { name: 'sms', limit: 10, windowMs: 1000 };
    // Each fills its own limit exactly; with no global limit they share nothing.
    const slots = [
      slot({ taskId: 'mailer', total: 30_000, limits: [a] }),
      slot({ taskId: 'texter', total: 30_000, limits: [b] }),
    ];
    const joint = planCapacity(slots, GUARD);
    expect(joint.plans.map((p) => p.windowMs)).toEqual(slots.map((s) => s.plan.windowMs));
    expect(joint.widened).toBe(0);
  });

  it('does not widen slots whose windows are further apart than one limiter window', () => {
    const first = slot({ taskId: 'first', total: 30_000 });
    const end = first.plan.startAt + first.plan.windowMs;
    const second = slot({ taskId: 'second', total: 30_000, startAt: end + GLOBAL.windowMs + GUARD });
    expect(planCapacity([first, second], GUARD).widened).toBe(0);
    // One millisecond closer, a sliding window could hold the end of one and the start of the other.
    const touching = slot({ taskId: 'second', total: 30_000, startAt: end + GLOBAL.windowMs + GUARD - 1 });
    expect(planCapacity([first, touching], GUARD).widened).toBe(2);
  });

  it('caps a window that would pass its next period and reports it', () => {
    const hourly = { periodMs: 60 * MIN, spreadMs: 50 * MIN };
    const slots = [
      slot({ taskId: 'h1', total: 100_000, ...hourly }),
      slot({ taskId: 'h2', total: 100_000, ...hourly }),
    ];
    const joint = planCapacity(slots, GUARD);
    for (const p of joint.plans) expect(p.windowMs).toBe(60 * MIN);
    expect(joint.capped).toEqual([
      expect.objectContaining({ taskId: 'h1', reason: 'next-period', windowMs: 60 * MIN }),
      expect.objectContaining({ taskId: 'h2', reason: 'next-period', windowMs: 60 * MIN }),
    ]);
    expect(joint.capped[0]?.neededMs).toBeGreaterThan(60 * MIN);
  });
});

describe('shareOut', () => {
  it('gives every demand when they fit', () => {
    expect(shareOut([3, 4], [30, 40], 10)).toEqual([3, 4]);
  });

  it('shares in proportion to weight, keeps a small demand whole and hands out every unit', () => {
    expect(shareOut([10, 10, 1], [50, 50, 1], 10)).toEqual([5, 4, 1]);
    expect(shareOut([8, 8, 8], [1, 1, 1], 10).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('hands out units so that the largest weight per unit is as small as whole units allow', () => {
    // 1,500 / 1, 2,470 / 2, 3,440 / 2: the longest is 1,720 jobs per unit; any other split is longer.
    expect(shareOut([9, 9, 9], [1500, 2470, 3440], 5)).toEqual([1, 2, 2]);
    expect(shareOut([9, 9], [100, 300], 4)).toEqual([1, 3]);
  });

  it('gives at least one unit each even when the members outnumber the capacity', () => {
    expect(shareOut([5, 5, 5], [1, 1, 1], 2)).toEqual([1, 1, 1]);
  });
});

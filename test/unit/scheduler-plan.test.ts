// Due detection and catch-up decisions of the scheduler's pure core, at fixed instants.
import { describe, expect, it } from 'vitest';
import { ScheduleSchema } from '../../lib/domain/schedule.js';
import { planSlot, zoneOfGroup, type SchedulableTask } from '../../lib/scheduler/plan.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

function task(overrides: Partial<SchedulableTask> = {}): SchedulableTask {
  return {
    id: 'hourly_sync',
    schedule: ScheduleSchema.parse({ every: 'hour', at: ':00' }),
    zone: { policy: 'fixed', tz: 'UTC' },
    spreadMs: 10 * MIN,
    retries: 3,
    timeoutMs: 10_000,
    catchUp: 'latest',
    rateLimits: [],
    ...overrides,
  };
}

const group = (t: SchedulableTask, lastDueAt: number | undefined, members = 100, g = '_') => ({
  task: t,
  group: g,
  members,
  lastDueAt,
});

describe('planSlot', () => {
  it('claims the period that just came due, on time and not backfilled', () => {
    const plan = planSlot(group(task(), at('2030-01-01T09:00:00Z')), at('2030-01-01T10:00:20Z'));
    expect(plan).toMatchObject({ kind: 'claim', backfilled: false, total: 100, windowMs: 10 * MIN });
    expect(plan.kind === 'claim' && plan.period.key).toBe('2030-01-01T10');
  });

  it('does not claim a period twice when ticks repeat within it', () => {
    const plan = planSlot(group(task(), at('2030-01-01T10:00:00Z')), at('2030-01-01T10:59:59Z'));
    expect(plan).toMatchObject({ kind: 'skip', reason: 'claimed', periodKey: '2030-01-01T10' });
  });

  it('never reruns an older period when the clock goes back', () => {
    const plan = planSlot(group(task(), at('2030-01-01T10:00:00Z')), at('2030-01-01T08:30:00Z'));
    expect(plan).toMatchObject({ kind: 'skip', reason: 'claimed', periodKey: '2030-01-01T08' });
  });

  it('after five missed hours runs only the latest period, once, backfilled, over a whole window from now', () => {
    const now = at('2030-01-01T15:10:00Z');
    const plan = planSlot(group(task(), at('2030-01-01T10:00:00Z')), now);
    expect(plan).toMatchObject({ kind: 'claim', backfilled: true, startAt: now, windowMs: 10 * MIN });
    expect(plan.kind === 'claim' && plan.period.key).toBe('2030-01-01T15');
  });

  it('with catchUp none skips a late period instead of running it', () => {
    const plan = planSlot(
      group(task({ catchUp: 'none' }), at('2030-01-01T10:00:00Z')),
      at('2030-01-01T15:10:00Z'),
    );
    expect(plan).toMatchObject({ kind: 'skip', reason: 'late-not-caught-up', periodKey: '2030-01-01T15' });
  });

  it('with catchUp none still runs a period claimed within the lateness bound', () => {
    const plan = planSlot(
      group(task({ catchUp: 'none' }), at('2030-01-01T14:00:00Z')),
      at('2030-01-01T15:04:00Z'),
    );
    expect(plan).toMatchObject({ kind: 'claim', backfilled: false });
  });

  it('does not backfill a zone group it has never claimed for (enabling is not retroactive)', () => {
    const daily = task({ schedule: ScheduleSchema.parse({ every: 'day', at: '07:00' }), spreadMs: HOUR });
    expect(planSlot(group(daily, undefined), at('2030-01-01T09:00:00Z'))).toMatchObject({
      kind: 'skip',
      reason: 'late-first-seen',
    });
    expect(planSlot(group(daily, undefined), at('2030-01-01T07:00:30Z'))).toMatchObject({
      kind: 'claim',
      backfilled: false,
    });
  });

  it('starts the window at the claim when the tick comes after the due time, never before the due time', () => {
    const due = at('2030-01-01T10:00:00Z');
    const late = planSlot(group(task(), undefined), due + 20_000);
    expect(late).toMatchObject({ kind: 'claim', startAt: due + 20_000 });
    const exact = planSlot(group(task(), undefined), due);
    expect(exact).toMatchObject({ kind: 'claim', startAt: due });
  });

  it('computes user-zone periods in the group zone', () => {
    const daily = task({
      schedule: ScheduleSchema.parse({ every: 'day', at: '07:00' }),
      zone: { policy: 'user' },
    });
    // 07:00 in Tokyo is 22:00 UTC the day before.
    const plan = planSlot(group(daily, undefined, 5, 'Asia/Tokyo'), at('2029-12-31T22:01:00Z'));
    expect(plan).toMatchObject({ kind: 'claim', tz: 'Asia/Tokyo' });
    expect(plan.kind === 'claim' && plan.period.key).toBe('2030-01-01');
  });

  it('skips an empty group and a group whose zone is not a time zone', () => {
    expect(planSlot(group(task(), undefined, 0), at('2030-01-01T10:00:00Z'))).toMatchObject({
      reason: 'empty',
    });
    const userTask = task({ zone: { policy: 'user' } });
    expect(planSlot(group(userTask, undefined, 3, 'Not/AZone'), at('2030-01-01T10:00:00Z'))).toMatchObject({
      reason: 'bad-zone',
    });
  });

  it('stretches the window when its jobs would exceed the task rate limit', () => {
    const limited = task({ rateLimits: [{ limit: 10, windowMs: 1000 }] });
    const plan = planSlot(group(limited, undefined, 12_000), at('2030-01-01T10:00:00Z'));
    // 12,000 jobs at 10/s need 1,200 s, longer than the 600 s spread.
    expect(plan).toMatchObject({ kind: 'claim', windowMs: 1_224_000 });
  });

  it('stretches by window + the limiter guard, which is what the worker admits', () => {
    const limited = task({ rateLimits: [{ limit: 10, windowMs: 1000 }] });
    const plan = planSlot(group(limited, undefined, 12_000), at('2030-01-01T10:00:00Z'), undefined, 250);
    // 12,000 jobs at 10 per 1.25 s need 1,500 s.
    expect(plan).toMatchObject({ kind: 'claim', windowMs: 1_530_000 });
  });
});

describe('zoneOfGroup', () => {
  it('uses the task zone for fixed tasks, the group for user tasks, UTC for a stray "_"', () => {
    expect(zoneOfGroup({ zone: { policy: 'fixed', tz: 'Europe/Paris' } }, '_')).toBe('Europe/Paris');
    expect(zoneOfGroup({ zone: { policy: 'user' } }, 'America/New_York')).toBe('America/New_York');
    expect(zoneOfGroup({ zone: { policy: 'user' } }, '_')).toBe('UTC');
  });
});

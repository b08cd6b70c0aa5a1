// Laws of periods for random schedules, zones and instants (2000-2100), biased towards DST transitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latestDue, nextDue, periodOf } from '../../lib/domain/periods.js';
import { ScheduleSchema, WEEKDAYS, type Schedule } from '../../lib/domain/schedule.js';
import { DAY_MS, HOUR_MS, firstInstantWhere, offsetAt } from '../../lib/domain/zoned-time.js';

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe', // 30 min DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Asia/Kolkata', // +05:30, no DST
  'UTC',
  'America/Sao_Paulo', // DST began at midnight until 2019
  'America/Santiago', // DST ended at 24:00
  'America/Caracas', // moved -04:00 <-> -04:30 (2007, 2016)
  'Pacific/Apia', // skipped 2011-12-30 entirely
  'America/St_Johns', // -03:30 with DST
  'Asia/Tehran', // +03:30, DST at midnight until 2022
  'Africa/Casablanca', // DST suspended for Ramadan
];
// Not in the list: Antarctica/Troll, whose 2 h fall-back repeats two hours, so its hour keys
// stay distinct but do not sort in time order (01, 02, 01_2, 02_2).

const FROM = Date.UTC(2000, 0, 1);
const TO = Date.UTC(2100, 0, 1);

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`);

const scheduleArb: fc.Arbitrary<Schedule> = fc
  .oneof(
    fc.integer({ min: 0, max: 59 }).map((m) => ({ every: 'hour', at: `:${pad(m)}` })),
    hhmm.map((at) => ({ every: 'day', at })),
    fc.tuple(fc.constantFrom(...WEEKDAYS), hhmm).map(([d, t]) => ({ every: 'week', at: `${d} ${t}` })),
    fc
      .tuple(fc.integer({ min: 1, max: 31 }), hhmm)
      .map(([d, t]) => ({ every: 'month', at: `${pad(d)} ${t}` })),
    fc
      .constantFrom('30 2 * * *', '*/20 * * * *', '15 1 * * 0', '0 0 1 * *', '45 */3 * * 1-5')
      .map((cron) => ({ cron })),
  )
  .map((input) => ScheduleSchema.parse(input));

/** Offset changes of a zone in one year, found by weekly steps then bisection (cached). */
const transitionCache = new Map<string, number[]>();
function transitionsIn(tz: string, year: number): number[] {
  const cacheKey = `${tz} ${year}`;
  let found = transitionCache.get(cacheKey);
  if (!found) {
    found = [];
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 7 * DAY_MS) {
      const before = offsetAt(tz, t);
      if (offsetAt(tz, t + 7 * DAY_MS) !== before) {
        found.push(firstInstantWhere(tz, t, t + 7 * DAY_MS, (offset) => offset !== before));
      }
    }
    transitionCache.set(cacheKey, found);
  }
  return found;
}

const uniformInstant = fc.integer({ min: FROM, max: TO });
/** An instant within a few hours of one of the zone's transitions, where bugs live. */
const nearTransition = (tz: string) =>
  fc
    .record({
      year: fc.integer({ min: 2000, max: 2099 }),
      pick: fc.nat(),
      delta: fc.oneof(
        fc.integer({ min: -2 * HOUR_MS, max: 2 * HOUR_MS }),
        fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }),
      ),
    })
    .map(({ year, pick, delta }) => {
      const transitions = transitionsIn(tz, year);
      const base =
        transitions.length > 0 ? (transitions[pick % transitions.length] ?? 0) : Date.UTC(year, 5, 1);
      return base + delta;
    });

const caseArb = fc.constantFrom(...ZONES).chain((tz) =>
  fc.record({
    tz: fc.constant(tz),
    schedule: scheduleArb,
    t: fc.oneof(uniformInstant, nearTransition(tz)),
  }),
);

const RUNS = { numRuns: 400 };

describe('period laws', () => {
  it('puts every instant in exactly one period, with its run inside it (no job without a period)', () => {
    fc.assert(
      fc.property(caseArb, ({ tz, schedule, t }) => {
        const p = periodOf(schedule, t, tz);
        expect(p.startMs).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(p.endMs);
        expect(p.dueAtMs).toBeGreaterThanOrEqual(p.startMs);
        expect(p.dueAtMs).toBeLessThan(p.endMs);
        // The same period, seen from its first and last instants.
        expect(periodOf(schedule, p.startMs, tz)).toEqual(p);
        expect(periodOf(schedule, p.endMs - 1, tz)).toEqual(p);
      }),
      RUNS,
    );
  });

  it('tiles time: the next period starts where this one ends (no gap that loses a run, no overlap that doubles one)', () => {
    fc.assert(
      fc.property(caseArb, ({ tz, schedule, t }) => {
        const p = periodOf(schedule, t, tz);
        const next = periodOf(schedule, p.endMs, tz);
        const previous = periodOf(schedule, p.startMs - 1, tz);
        expect(next.startMs).toBe(p.endMs);
        expect(previous.endMs).toBe(p.startMs);
        expect(previous.key < p.key && p.key < next.key).toBe(true);
      }),
      RUNS,
    );
  });

  it('orders keys in time, equal only within one period (a later period never reuses a key)', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 1, max: 40 * DAY_MS }), ({ tz, schedule, t }, gap) => {
        const a = periodOf(schedule, t, tz);
        const b = periodOf(schedule, t + gap, tz);
        if (a.startMs === b.startMs) expect(b.key).toBe(a.key);
        else expect(a.key < b.key).toBe(true);
      }),
      RUNS,
    );
  });

  it('finds the next run strictly after t with no run skipped in between', () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ tz, schedule, t }, fraction) => {
        const next = nextDue(schedule, t, tz);
        expect(next.dueAtMs).toBeGreaterThan(t);
        const latest = latestDue(schedule, t, tz);
        expect(latest.dueAtMs).toBeLessThanOrEqual(t);
        // latest and next are consecutive runs: nothing due in (latest, next).
        expect(nextDue(schedule, latest.dueAtMs, tz)).toEqual(next);
        expect(latestDue(schedule, next.dueAtMs - 1, tz)).toEqual(latest);
        const between = Math.floor(t + fraction * (next.dueAtMs - t));
        const p = periodOf(schedule, between, tz);
        expect(p.dueAtMs > t && p.dueAtMs < next.dueAtMs).toBe(false);
      }),
      RUNS,
    );
  });
});

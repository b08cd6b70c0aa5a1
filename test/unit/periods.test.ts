// Period keys and run instants at fixed timestamps, across DST changes in zones with 1 h, 30 min and 45 min offsets.
import { describe, expect, it } from 'vitest';
import { latestDue, nextDue, periodOf, type Period } from '../../lib/domain/periods.js';
import { ScheduleSchema, type Schedule } from '../../lib/domain/schedule.js';

const schedule = (input: unknown): Schedule => ScheduleSchema.parse(input);
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Every run with fromMs <= dueAt < toMs, in order. */
function runsBetween(s: Schedule, tz: string, fromMs: number, toMs: number): Period[] {
  const runs: Period[] = [];
  for (let run = nextDue(s, fromMs - 1, tz); run.dueAtMs < toMs; run = nextDue(s, run.dueAtMs, tz))
    runs.push(run);
  return runs;
}

/** The period of a local calendar day, e.g. localDay('Australia/Lord_Howe', '2026-10-04'). */
function localDay(tz: string, date: string): Period {
  const day = schedule({ every: 'day' });
  const p = periodOf(day, at(`${date}T12:00:00Z`), tz);
  return p.key < date ? periodOf(day, p.endMs, tz) : p.key > date ? periodOf(day, p.startMs - 1, tz) : p;
}

/** The runs of a schedule during one local calendar day. */
function runsOnLocalDay(s: Schedule, tz: string, date: string): Period[] {
  const day = localDay(tz, date);
  expect(day.key).toBe(date);
  return runsBetween(s, tz, day.startMs, day.endMs);
}

describe('daily runs across DST', () => {
  it.each([
    // zone, local day, at, expected single run (UTC), why
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08T07:30:00.000Z', 'gap: 02:30 runs at 03:30 EDT'],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30:00.000Z', 'fold: first 01:30 (EDT) only'],
    ['America/New_York', '2026-11-01', '07:00', '2026-11-01T12:00:00.000Z', 'after fall-back: EST'],
    ['Europe/London', '2026-03-29', '01:30', '2026-03-29T01:30:00.000Z', 'gap: 01:30 runs at 02:30 BST'],
    ['Europe/London', '2026-10-25', '01:30', '2026-10-25T00:30:00.000Z', 'fold: first 01:30 (BST) only'],
    [
      'Australia/Lord_Howe',
      '2026-10-04',
      '02:15',
      '2026-10-03T15:45:00.000Z',
      '30 min gap: 02:15 runs at 02:45',
    ],
    ['Australia/Lord_Howe', '2026-10-03', '02:15', '2026-10-02T15:45:00.000Z', 'day before: +10:30'],
    ['Australia/Lord_Howe', '2026-10-05', '02:15', '2026-10-04T15:15:00.000Z', 'day after: +11'],
    ['Australia/Lord_Howe', '2026-04-05', '01:45', '2026-04-04T14:45:00.000Z', '30 min fold: first 01:45'],
    ['Australia/Lord_Howe', '2026-04-05', '02:15', '2026-04-04T15:45:00.000Z', 'after the fold: +10:30'],
    ['Pacific/Chatham', '2026-09-27', '03:00', '2026-09-26T14:15:00.000Z', '45 min zone gap: 03:00 -> 04:00'],
    ['Pacific/Chatham', '2026-04-05', '03:15', '2026-04-04T13:30:00.000Z', '45 min zone fold: first 03:15'],
    ['Asia/Kolkata', '2026-06-15', '00:00', '2026-06-14T18:30:00.000Z', 'no DST, +05:30'],
  ])('%s on %s at %s runs once at %s (%s)', (tz, date, time, expected) => {
    const runs = runsOnLocalDay(schedule({ every: 'day', at: time }), tz, date);
    expect(runs.map((run) => iso(run.dueAtMs))).toEqual([expected]);
  });

  it('gives the New York spring day 23 hours and the fall day 25, as one period each', () => {
    const spring = localDay('America/New_York', '2026-03-08');
    const fall = localDay('America/New_York', '2026-11-01');
    expect([spring.key, iso(spring.startMs), iso(spring.endMs)]).toEqual([
      '2026-03-08',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
    expect([fall.key, (fall.endMs - fall.startMs) / 3_600_000]).toEqual(['2026-11-01', 25]);
  });

  it('skips no day and repeats no day over a whole year in New York', () => {
    const s = schedule({ every: 'day', at: '02:30' });
    const runs = runsBetween(s, 'America/New_York', at('2026-01-01T05:00:00Z'), at('2027-01-01T05:00:00Z'));
    expect(runs).toHaveLength(365);
    expect(new Set(runs.map((run) => run.key)).size).toBe(365);
  });
});

describe('hourly runs across DST', () => {
  const hourly = schedule({ every: 'hour', at: ':30' });

  it.each([
    ['America/New_York', '2026-03-08', 23],
    ['America/New_York', '2026-11-01', 25],
    ['Europe/London', '2026-03-29', 23],
    ['Europe/London', '2026-10-25', 25],
    ['Pacific/Chatham', '2026-09-27', 23],
    ['Pacific/Chatham', '2026-04-05', 25],
    ['Asia/Kolkata', '2026-06-15', 24],
  ])('%s on %s has one run per real hour: %i', (tz, date, count) => {
    const runs = runsOnLocalDay(hourly, tz, date);
    expect(runs).toHaveLength(count);
    expect(new Set(runs.map((run) => run.key)).size).toBe(count);
    for (const run of runs) expect(run.endMs - run.startMs).toBe(3_600_000);
  });

  it('keys the repeated New York hour separately instead of running it once for two hours', () => {
    const keys = runsOnLocalDay(hourly, 'America/New_York', '2026-11-01').map((run) => run.key);
    expect(keys.slice(0, 4)).toEqual(['2026-11-01T00', '2026-11-01T01', '2026-11-01T01_2', '2026-11-01T02']);
  });

  it('has no period for the New York hour that spring-forward skips', () => {
    const keys = runsOnLocalDay(hourly, 'America/New_York', '2026-03-08').map((run) => run.key);
    expect(keys.slice(0, 3)).toEqual(['2026-03-08T00', '2026-03-08T01', '2026-03-08T03']);
  });

  it('shortens the Lord Howe hour cut by the 30 min spring shift and moves :15 into what remains', () => {
    const runs = runsOnLocalDay(schedule({ every: 'hour', at: ':15' }), 'Australia/Lord_Howe', '2026-10-04');
    expect(runs).toHaveLength(24);
    const cut = runs.find((run) => run.key === '2026-10-04T02');
    expect([cut && iso(cut.startMs), cut && iso(cut.endMs), cut && iso(cut.dueAtMs)]).toEqual([
      '2026-10-03T15:30:00.000Z',
      '2026-10-03T16:00:00.000Z',
      '2026-10-03T15:45:00.000Z', // 02:45 LHDT: 02:15 moved forward by the 30 min gap
    ]);
  });

  it('gives the repeated Lord Howe half hour its own period after the fall-back', () => {
    const runs = runsOnLocalDay(hourly, 'Australia/Lord_Howe', '2026-04-05');
    expect(runs).toHaveLength(25);
    const repeat = runs.find((run) => run.key === '2026-04-05T01_2');
    expect([repeat && iso(repeat.startMs), repeat && iso(repeat.endMs)]).toEqual([
      '2026-04-04T15:00:00.000Z',
      '2026-04-04T15:30:00.000Z',
    ]);
  });

  it('starts Kolkata hours at :30 UTC, where the local clock shows :00', () => {
    const p = periodOf(schedule({ every: 'hour', at: ':00' }), at('2026-06-15T08:45:00Z'), 'Asia/Kolkata');
    expect([p.key, iso(p.startMs), iso(p.dueAtMs)]).toEqual([
      '2026-06-15T14',
      '2026-06-15T08:30:00.000Z',
      '2026-06-15T08:30:00.000Z',
    ]);
  });
});

describe('week and month periods', () => {
  it.each([
    ['2027-01-01T12:00:00Z', '2026-W53'],
    ['2024-12-30T12:00:00Z', '2025-W01'],
    ['2026-11-30T12:00:00Z', '2026-W49'],
    ['2021-01-03T12:00:00Z', '2020-W53'],
  ])('keys %s by its ISO week-year: %s', (instant, key) => {
    expect(periodOf(schedule({ every: 'week' }), at(instant), 'UTC').key).toBe(key);
  });

  it('runs a weekly sun 02:30 New York task at 03:30 on the spring-forward Sunday', () => {
    const run = nextDue(
      schedule({ every: 'week', at: 'sun 02:30' }),
      at('2026-03-02T12:00:00Z'),
      'America/New_York',
    );
    expect([run.key, iso(run.dueAtMs)]).toEqual(['2026-W10', '2026-03-08T07:30:00.000Z']);
  });

  it.each([
    ['2026-02-10T00:00:00Z', '2026-02', '2026-02-28T12:00:00.000Z'],
    ['2028-02-10T00:00:00Z', '2028-02', '2028-02-29T12:00:00.000Z'],
    ['2026-04-10T00:00:00Z', '2026-04', '2026-04-30T12:00:00.000Z'],
    ['2026-05-10T00:00:00Z', '2026-05', '2026-05-31T12:00:00.000Z'],
  ])('runs a "31 12:00" monthly task on the last day of short months (%s)', (instant, key, due) => {
    const p = periodOf(schedule({ every: 'month', at: '31 12:00' }), at(instant), 'UTC');
    expect([p.key, iso(p.dueAtMs)]).toEqual([key, due]);
  });

  it('starts a Kolkata month at 18:30 UTC the evening before', () => {
    const p = periodOf(schedule({ every: 'month' }), at('2026-11-15T00:00:00Z'), 'Asia/Kolkata');
    expect([p.key, iso(p.startMs), iso(p.endMs)]).toEqual([
      '2026-11',
      '2026-10-31T18:30:00.000Z',
      '2026-11-30T18:30:00.000Z',
    ]);
  });
});

describe('cron periods', () => {
  it('keys a cron period by its UTC fire instant and moves a skipped fixed time forward by the gap', () => {
    const runs = runsBetween(
      schedule({ cron: '30 2 * * *' }),
      'America/New_York',
      at('2026-03-07T00:00:00Z'),
      at('2026-03-10T00:00:00Z'),
    );
    // 02:30 does not exist on 8 March: 03:30 EDT (croner alone would say 03:00, 07:00Z).
    expect(runs.map((run) => run.key)).toEqual([
      'c2026-03-07T0730Z',
      'c2026-03-08T0730Z',
      'c2026-03-09T0630Z',
    ]);
    // The period before the moved fire ends at it: no gap, no overlap.
    expect(runs.map((run) => [iso(run.startMs), iso(run.endMs)])).toEqual([
      ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z'],
      ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
      ['2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z'],
    ]);
  });

  it('skips an interval cron time that DST skips (real time, as croner)', () => {
    const runs = runsBetween(
      schedule({ cron: '*/30 * * * *' }),
      'America/New_York',
      at('2026-03-08T06:00:00Z'),
      at('2026-03-08T08:00:00Z'),
    );
    // 01:00, 01:30 EST, then 03:00, 03:30 EDT: 02:00 and 02:30 never happen.
    expect(runs.map((run) => iso(run.dueAtMs))).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
  });

  it('runs an interval cron on both passes of the repeated hour, since they are distinct real times', () => {
    const runs = runsBetween(
      schedule({ cron: '*/30 * * * *' }),
      'America/New_York',
      at('2026-11-01T05:00:00Z'),
      at('2026-11-01T07:00:00Z'),
    );
    expect(runs.map((run) => iso(run.dueAtMs))).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });
});

describe('one rule for a daily time DST skips or repeats: cron and `every: day at` agree', () => {
  it.each([
    // zone, local day, local time, the single run (UTC), why
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08T07:30:00.000Z', 'gap 02:00-03:00: 03:30 EDT'],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30:00.000Z', 'fold 01:00-02:00: first, EDT'],
    ['Europe/Berlin', '2026-03-29', '02:30', '2026-03-29T01:30:00.000Z', 'gap 02:00-03:00: 03:30 CEST'],
    ['Europe/Berlin', '2026-10-25', '02:30', '2026-10-25T00:30:00.000Z', 'fold 02:00-03:00: first, CEST'],
  ])('%s %s at %s runs once, at %s (%s)', (tz, date, time, expected) => {
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    const cron = schedule({ cron: `${minute} ${hour} * * *` });
    const daily = schedule({ every: 'day', at: time });
    expect(runsOnLocalDay(cron, tz, date).map((run) => iso(run.dueAtMs))).toEqual([expected]);
    expect(runsOnLocalDay(daily, tz, date).map((run) => iso(run.dueAtMs))).toEqual([expected]);
  });
});

describe('nextDue and latestDue', () => {
  const daily = schedule({ every: 'day', at: '07:00' });
  const ny = 'America/New_York';

  it('does not return the run at exactly `after` again (no double run on the boundary)', () => {
    const due = at('2026-03-10T11:00:00Z');
    expect(iso(nextDue(daily, due - 1, ny).dueAtMs)).toBe('2026-03-10T11:00:00.000Z');
    expect(iso(nextDue(daily, due, ny).dueAtMs)).toBe('2026-03-11T11:00:00.000Z');
  });

  it('catches up the latest missed run, including one at exactly now', () => {
    expect(latestDue(daily, at('2026-03-10T11:00:00Z'), ny).key).toBe('2026-03-10');
    expect(latestDue(daily, at('2026-03-10T10:59:59.999Z'), ny).key).toBe('2026-03-09');
    expect(latestDue(daily, at('2026-03-12T03:00:00Z'), ny).key).toBe('2026-03-11');
  });

  it('catches up a monthly run from the previous month before this month’s run time', () => {
    const monthly = schedule({ every: 'month', at: '01 03:00' });
    const run = latestDue(monthly, at('2026-11-01T02:00:00Z'), 'Europe/London');
    expect([run.key, iso(run.dueAtMs)]).toEqual(['2026-10', '2026-10-01T02:00:00.000Z']);
  });
});

// Periods, period keys and run instants of a schedule in a time zone: pure functions of their arguments.
//
// Periods tile time: each instant is in exactly one [startMs, endMs), the next period starts at
// endMs, keys sort in time order, and each period has one run at dueAtMs, startMs <= dueAtMs < endMs.
//
// Keys and DST rules:
// - day   "2026-11-30"   the local calendar day; one run per day even when it has 23 or 25 hours.
// - week  "2026-W49"     ISO week (Monday to Monday, ISO week-year).
// - month "2026-11"
//   A run time that does not exist (spring-forward gap) moves forward by the gap length
//   (02:30 -> 03:30 in New York); a repeated time (fall-back fold) runs at its first occurrence.
// - hour  "2026-11-30T08" the local hour, one period per real hour. Hours start where the local
//   clock shows :00 (UTC :30 in Kolkata, :15 in Chatham). The hour skipped by spring-forward has no
//   period; the repeated hour of a fall-back gets a second period keyed "2026-11-01T01_2". Where a
//   shift is not a whole hour (Lord Howe's 30 minutes), the hour next to it is a shorter period, and
//   `at` minutes falling in its missing part move forward by the missing length. `at` counts real
//   minutes from the start of the local hour.
// - cron  "c2026-11-30T0815Z" the UTC fire instant; a period runs from one fire to the next.
//   Fixed-time jobs (one minute and one hour, e.g. `30 2 * * *`) follow the rule above: a time that
//   DST skips moves forward by the gap length (02:30 -> 03:30, where croner alone fires at 03:00),
//   and a repeated time runs once, at its first occurrence. Interval jobs (*/15, lists, ranges) follow
//   real time, as croner does: a skipped time is skipped, a repeated one runs on both passes.
import { cronFor, type Schedule, type ScheduleOffset } from './schedule.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  firstInstantAtOrAfterWall,
  firstInstantWhere,
  floorTo,
  mod,
  offsetAt,
  resolveWall,
  wallAt,
} from './zoned-time.js';

export interface Period {
  key: string;
  startMs: number;
  endMs: number;
  /** The run instant of this period. */
  dueAtMs: number;
}

/** The period containing an instant, with its run instant. */
export function periodOf(schedule: Schedule, instantMs: number, tz: string): Period {
  if (schedule.kind === 'cron') return cronPeriod(schedule.cron, instantMs, tz);
  if (schedule.every === 'hour') return hourPeriod(schedule.offset.minute, instantMs, tz);
  return calendarPeriod(CALENDAR_UNITS[schedule.every], schedule.offset, instantMs, tz);
}

/** The first run strictly after `afterMs`. */
export function nextDue(schedule: Schedule, afterMs: number, tz: string): Period {
  const current = periodOf(schedule, afterMs, tz);
  return current.dueAtMs > afterMs ? current : periodOf(schedule, current.endMs, tz);
}

/** The most recent run at or before `atOrBeforeMs` (what a catch-up should run). */
export function latestDue(schedule: Schedule, atOrBeforeMs: number, tz: string): Period {
  const current = periodOf(schedule, atOrBeforeMs, tz);
  return current.dueAtMs <= atOrBeforeMs ? current : periodOf(schedule, current.startMs - 1, tz);
}

function hourPeriod(minute: number, t: number, tz: string): Period {
  // Hours are aligned where the local clock shows :00, so the grid depends on offset mod 1 h.
  const alignment = (offsetMs: number): number => mod(offsetMs, HOUR_MS);
  const align = alignment(offsetAt(tz, t));
  const gridStart = t - mod(t + align, HOUR_MS);
  const gridEnd = gridStart + HOUR_MS;
  // A shift that is not a whole hour moves the grid: the hour it cuts ends or starts at the shift.
  const startMs =
    alignment(offsetAt(tz, gridStart)) === align
      ? gridStart
      : firstInstantWhere(tz, gridStart, t, (offset) => alignment(offset) === align);
  const endMs =
    alignment(offsetAt(tz, gridEnd - 1)) === align
      ? gridEnd
      : firstInstantWhere(tz, t, gridEnd - 1, (offset) => alignment(offset) !== align);

  const startWall = wallAt(tz, startMs);
  const hourWall = floorTo(startWall, HOUR_MS);
  // The local hour already began earlier: this is its second pass after a fall-back.
  const repeated = resolveWall(tz, hourWall) < startMs;
  const hourStartMs = startMs - (startWall - hourWall);
  let dueAtMs = hourStartMs + minute * MINUTE_MS;
  if (dueAtMs < startMs) dueAtMs += startMs - hourStartMs;
  return {
    key: `${isoDate(hourWall)}T${pad(new Date(hourWall).getUTCHours())}${repeated ? '_2' : ''}`,
    startMs,
    endMs,
    dueAtMs: Math.min(dueAtMs, endMs - 1),
  };
}

/** A calendar unit over wall values (local clock readings encoded as UTC). */
interface CalendarUnit {
  floor(wall: number): number;
  next(unitStart: number): number;
  previous(unitStart: number): number;
  key(unitStart: number): string;
  runWall(unitStart: number, offset: ScheduleOffset): number;
}

const timeOfDay = (offset: ScheduleOffset): number => offset.hour * HOUR_MS + offset.minute * MINUTE_MS;

const CALENDAR_UNITS: Record<'day' | 'week' | 'month', CalendarUnit> = {
  day: {
    floor: (wall) => floorTo(wall, DAY_MS),
    next: (start) => start + DAY_MS,
    previous: (start) => start - DAY_MS,
    key: isoDate,
    runWall: (start, offset) => start + timeOfDay(offset),
  },
  week: {
    floor: (wall) => floorTo(wall, DAY_MS) - (isoWeekday(wall) - 1) * DAY_MS,
    next: (start) => start + 7 * DAY_MS,
    previous: (start) => start - 7 * DAY_MS,
    key: isoWeekKey,
    runWall: (start, offset) => start + (offset.day - 1) * DAY_MS + timeOfDay(offset),
  },
  month: {
    floor: (wall) => addMonths(wall, 0),
    next: (start) => addMonths(start, 1),
    previous: (start) => addMonths(start, -1),
    key: (start) => isoDate(start).slice(0, 7),
    runWall: (start, offset) => {
      const lastDay = new Date(addMonths(start, 1) - DAY_MS).getUTCDate();
      return start + (Math.min(offset.day, lastDay) - 1) * DAY_MS + timeOfDay(offset);
    },
  },
};

function calendarPeriod(unit: CalendarUnit, offset: ScheduleOffset, t: number, tz: string): Period {
  let unitStart = unit.floor(wallAt(tz, t));
  let startMs = firstInstantAtOrAfterWall(tz, unitStart);
  // A fold across a unit boundary can show t an earlier unit's wall time; periods follow real time.
  while (t < startMs) {
    unitStart = unit.previous(unitStart);
    startMs = firstInstantAtOrAfterWall(tz, unitStart);
  }
  let endMs = firstInstantAtOrAfterWall(tz, unit.next(unitStart));
  while (t >= endMs) {
    unitStart = unit.next(unitStart);
    startMs = endMs;
    endMs = firstInstantAtOrAfterWall(tz, unit.next(unitStart));
  }
  const dueAtMs = resolveWall(tz, unit.runWall(unitStart, offset));
  return {
    key: unit.key(unitStart),
    startMs,
    endMs,
    // Only exotic shifts at a period's edge could push the run outside it.
    dueAtMs: Math.min(Math.max(dueAtMs, startMs), endMs - 1),
  };
}

function cronPeriod(expr: string, t: number, tz: string): Period {
  const cron = cronFor(expr, tz);
  // previousRuns excludes a run at exactly its reference, so look from just after t.
  const [previous, beforeIt] = cron.previousRuns(2, new Date(t + 1));
  const next = cron.nextRun(new Date(t));
  if (!previous || !next)
    throw new RangeError(`Cron "${expr}" has no run around ${new Date(t).toISOString()}`);
  // A moved fire is later than croner's but before the next one: it may move past t, never past next.
  let startMs = fireInstant(expr, tz, previous);
  let endMs = fireInstant(expr, tz, next);
  if (startMs > t) {
    if (!beforeIt) throw new RangeError(`Cron "${expr}" has no run before ${new Date(t).toISOString()}`);
    endMs = startMs;
    startMs = fireInstant(expr, tz, beforeIt);
  }
  const compact = new Date(startMs).toISOString().slice(0, 16).replace(':', '');
  return { key: `c${compact}Z`, startMs, endMs, dueAtMs: startMs };
}

/**
 * The instant a croner fire stands for. Croner fires a fixed-time job whose time DST skips at the
 * gap's end, a time the pattern does not match: the job's own wall time is the pattern's last match
 * before that reading of the clock, resolved like every other skipped time (forward by the gap).
 */
function fireInstant(expr: string, tz: string, fire: Date): number {
  if (cronFor(expr, tz).match(fire)) return fire.getTime();
  const clock = wallAt(tz, fire.getTime());
  const intended = cronFor(expr, 'UTC').previousRuns(1, new Date(clock))[0];
  return intended ? resolveWall(tz, intended.getTime()) : fire.getTime();
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function isoDate(wall: number): string {
  const date = new Date(wall);
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** 1 = Monday ... 7 = Sunday. */
function isoWeekday(wall: number): number {
  return ((new Date(wall).getUTCDay() + 6) % 7) + 1;
}

function isoWeekKey(monday: number): string {
  // The ISO week-year is the year of the week's Thursday.
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const jan1 = new Date(0).setUTCFullYear(year, 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / DAY_MS / 7) + 1;
  return `${pad(year, 4)}-W${pad(week)}`;
}

/** The first day of the month `months` after the month of `wall`, at 00:00. */
function addMonths(wall: number, months: number): number {
  const date = new Date(wall);
  return new Date(0).setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth() + months, 1);
}

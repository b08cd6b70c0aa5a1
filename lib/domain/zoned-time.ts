// Time-zone maths on plain millisecond values, using only Intl (no clock reads, no tz library).
//
// A "wall" value is a local clock reading encoded as if it were UTC: the wall time
// 2026-11-30 08:15 in any zone is Date.UTC(2026, 10, 30, 8, 15). Converting between
// instants and wall values is where DST gaps and folds are resolved.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let fmt = formatters.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, fmt);
  }
  return fmt;
}

/** True for an IANA zone name (or UTC) that Intl can use; offsets like "+05:30" are refused. */
export function isValidTimeZone(tz: string): boolean {
  if (!/^[A-Za-z]/.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

export function floorTo(value: number, unit: number): number {
  return value - mod(value, unit);
}

export function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** UTC offset of `tz` at an instant, in ms (local minus UTC). */
export function offsetAt(tz: string, instantMs: number): number {
  const wholeSecond = floorTo(instantMs, 1000);
  const fields: Record<string, number> = {};
  for (const part of formatterFor(tz).formatToParts(wholeSecond)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 19xx.
  const wall = new Date(0);
  wall.setUTCFullYear(fields.year ?? 1970, (fields.month ?? 1) - 1, fields.day ?? 1);
  wall.setUTCHours(fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0, 0);
  return wall.getTime() - wholeSecond;
}

/** The local wall clock at an instant. */
export function wallAt(tz: string, instantMs: number): number {
  return instantMs + offsetAt(tz, instantMs);
}

/** Instants whose local wall clock reads exactly `wallMs`: none (gap), one, or two (fold), earliest first. */
function instantsOf(tz: string, wallMs: number): { instants: number[]; before: number; after: number } {
  // Offsets a day either side bracket any single transition near this wall time.
  const before = offsetAt(tz, wallMs - DAY_MS);
  const after = offsetAt(tz, wallMs + DAY_MS);
  const candidates = new Set([wallMs - before, wallMs - after]);
  const instants = [...candidates].filter((t) => wallAt(tz, t) === wallMs).sort((a, b) => a - b);
  return { instants, before, after };
}

/**
 * The instant a wall time means, resolved like Temporal's `disambiguation: 'compatible'`:
 * a repeated time (fold) takes its first occurrence; a skipped time (gap) moves forward by the
 * length of the gap (02:30 in a one-hour spring-forward gap becomes 03:30).
 */
export function resolveWall(tz: string, wallMs: number): number {
  const { instants, before } = instantsOf(tz, wallMs);
  // Read with the offset in force before the gap, which lands the gap length later.
  return instants[0] ?? wallMs - before;
}

/**
 * The first instant whose wall clock reads `wallMs` or later: the start of a period that
 * begins at that wall time. In a gap this is the transition itself (midnight skipped to 01:00
 * starts the day at 01:00), not the gap-shifted time.
 */
export function firstInstantAtOrAfterWall(tz: string, wallMs: number): number {
  const { instants, before, after } = instantsOf(tz, wallMs);
  const first = instants[0];
  if (first !== undefined) return first;
  // Gap: wall - after is still in the old offset, wall - before already in the new one.
  return firstInstantWhere(tz, wallMs - after, wallMs - before, (offset) => offset === after);
}

/**
 * Smallest instant in (lo, hi] whose offset satisfies `test`, given that lo fails and hi passes.
 * Assumes one transition in between, which holds for any window shorter than a few weeks.
 */
export function firstInstantWhere(
  tz: string,
  lo: number,
  hi: number,
  test: (offsetMs: number) => boolean,
): number {
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (test(offsetAt(tz, mid))) hi = mid;
    else lo = mid;
  }
  return hi;
}

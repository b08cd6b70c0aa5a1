// Task schedules: calendar periods with an offset ("every day at 07:30") or a cron expression.
//
// Offset (`at`) formats, all local to the task's zone:
//   every: hour   at: ":MM"          minutes past the hour            (default ":00")
//   every: day    at: "HH:MM"                                          (default "00:00")
//   every: week   at: "ddd HH:MM"    ddd = mon|tue|wed|thu|fri|sat|sun  (default "mon 00:00")
//   every: month  at: "DD HH:MM"     DD = 1..31; beyond a month's last day means its last day
//                                                                      (default "01 00:00")
// Cron: standard 5 fields (minute precision), read by croner in the task's zone.
import { Cron } from 'croner';
import { z } from 'zod';
import { DAY_MS, HOUR_MS } from './zoned-time.js';

export const PERIOD_UNITS = ['hour', 'day', 'week', 'month'] as const;
export type PeriodUnit = (typeof PERIOD_UNITS)[number];

/** Where in its period a run falls. `day` is the ISO weekday (1 = Monday) for weeks, the day of month for months, else 0. */
export interface ScheduleOffset {
  day: number;
  hour: number;
  minute: number;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const AT_FORMATS: Record<PeriodUnit, { pattern: RegExp; example: string }> = {
  hour: { pattern: /^:(?<minute>[0-5]\d)$/, example: '":15"' },
  day: { pattern: /^(?<hour>[01]\d|2[0-3]):(?<minute>[0-5]\d)$/, example: '"07:30"' },
  week: {
    pattern: /^(?<weekday>mon|tue|wed|thu|fri|sat|sun) (?<hour>[01]\d|2[0-3]):(?<minute>[0-5]\d)$/,
    example: '"mon 03:15"',
  },
  month: {
    pattern: /^(?<monthDay>0?[1-9]|[12]\d|3[01]) (?<hour>[01]\d|2[0-3]):(?<minute>[0-5]\d)$/,
    example: '"01 02:00"',
  },
};

const DEFAULT_AT: Record<PeriodUnit, string> = {
  hour: ':00',
  day: '00:00',
  week: 'mon 00:00',
  month: '01 00:00',
};

/** Parses an `at` string for a period unit; undefined when it does not match that unit's format. */
export function parseOffset(every: PeriodUnit, at: string): ScheduleOffset | undefined {
  const groups = AT_FORMATS[every].pattern.exec(at)?.groups;
  if (!groups) return undefined;
  const weekday = groups.weekday ? WEEKDAYS.indexOf(groups.weekday as (typeof WEEKDAYS)[number]) + 1 : 0;
  return {
    day: every === 'week' ? weekday : every === 'month' ? Number(groups.monthDay) : 0,
    hour: Number(groups.hour ?? 0),
    minute: Number(groups.minute),
  };
}

const EveryScheduleSchema = z
  .strictObject({
    kind: z.literal('every'),
    every: z.enum(PERIOD_UNITS),
    at: z.string().optional(),
  })
  .transform((input, ctx) => {
    const at = input.at ?? DEFAULT_AT[input.every];
    const offset = parseOffset(input.every, at);
    if (!offset) {
      ctx.addIssue({
        code: 'custom',
        path: ['at'],
        message: `Invalid offset "${at}" for every: ${input.every}: expected e.g. ${AT_FORMATS[input.every].example}`,
      });
      return z.NEVER;
    }
    return { kind: 'every' as const, every: input.every, at, offset };
  });

const CronScheduleSchema = z.strictObject({
  kind: z.literal('cron'),
  cron: z.string().superRefine((expr, ctx) => {
    const problem = cronProblem(expr);
    // Fatal, so checks that run the expression (spread vs period) are skipped.
    if (problem) ctx.addIssue({ code: 'custom', message: problem, continue: false });
  }),
});

/** `{ every, at? }` or `{ cron }`; the output carries `kind` so code can switch on it. */
export const ScheduleSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { ...value, kind: 'cron' in value ? 'cron' : 'every' }
      : value,
  z.discriminatedUnion('kind', [EveryScheduleSchema, CronScheduleSchema]),
);

export type Schedule = z.output<typeof ScheduleSchema>;
export type EverySchedule = Extract<Schedule, { kind: 'every' }>;
export type CronSchedule = Extract<Schedule, { kind: 'cron' }>;

const crons = new Map<string, Cron>();

/** A croner instance (never started: no timers) for an expression in a zone. */
export function cronFor(expr: string, tz: string): Cron {
  const cacheKey = `${tz} ${expr}`;
  let cron = crons.get(cacheKey);
  if (!cron) {
    cron = new Cron(expr, { timezone: tz, mode: '5-part' });
    crons.set(cacheKey, cron);
  }
  return cron;
}

// A fixed reference keeps validation free of clock reads.
const REFERENCE = new Date(Date.UTC(2026, 0, 1));

function cronProblem(expr: string): string | undefined {
  try {
    if (!cronFor(expr, 'UTC').nextRun(REFERENCE)) return `Cron "${expr}" never fires`;
    return undefined;
  } catch (error) {
    return `Invalid cron "${expr}": ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

const NOMINAL_PERIOD_MS: Record<PeriodUnit, number> = {
  hour: HOUR_MS,
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 28 * DAY_MS,
};

/**
 * The shortest period a schedule can have, ignoring DST (a spread window must fit in it).
 * For cron: the smallest gap between its next 32 runs, sampled in UTC.
 */
export function shortestPeriodMs(schedule: Schedule): number {
  if (schedule.kind === 'every') return NOMINAL_PERIOD_MS[schedule.every];
  const runs = cronFor(schedule.cron, 'UTC').nextRuns(32, REFERENCE);
  let shortest = Infinity;
  for (let i = 1; i < runs.length; i++) {
    shortest = Math.min(shortest, (runs[i]?.getTime() ?? 0) - (runs[i - 1]?.getTime() ?? 0));
  }
  return Number.isFinite(shortest) ? shortest : 366 * DAY_MS;
}

// zod schemas of the admin API's inputs and outputs: parsing at the edge and the OpenAPI document both come from here.
import { z } from 'zod';
import { TaskId, UserId } from '../domain/ids.js';
import { isValidTimeZone } from '../domain/zoned-time.js';

export const MAX_PARAMS_BYTES = 4096;
export const MAX_LABELS = 32;
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** Each `/`-separated part starts upper-case, so `europe/london` cannot become a second index group of London. */
const ZONE_SHAPE = /^(?:UTC|[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*){0,2})$/;

/**
 * The zones this runtime's time-zone data names (canonical IANA names, plus UTC): the document lists them, so a
 * caller (or a fuzzer) knows which strings are zones. Aliases such as Asia/Kolkata are accepted as well.
 */
export const KNOWN_ZONES: readonly string[] = [
  ...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]),
].sort();

export const TimeZone = z
  .string()
  .max(64)
  .regex(ZONE_SHAPE, 'expected an IANA time zone name such as "Europe/London"')
  .refine(isValidTimeZone, 'unknown IANA time zone')
  .meta({
    description: 'IANA time zone name (one of the listed canonical names, or an alias of one)',
    examples: ['Europe/London'],
    enum: [...KNOWN_ZONES],
  });

// A lone UTF-16 surrogate has no UTF-8 form: stored, it would come back altered or break a call.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const wellFormed = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !LONE_SURROGATE.test(s), 'not well-formed Unicode (a lone surrogate)');

/**
 * zod's records skip an own `__proto__` key without an issue (assigning it would set a prototype):
 * refuse it before the record, naming it, instead of dropping it silently.
 */
const noProtoKey = <S extends z.ZodType>(schema: S) =>
  z.preprocess((value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({
        code: 'custom',
        path: ['__proto__'],
        message: '"__proto__" is not allowed as a name',
        input: value,
      });
    }
    return value;
  }, schema);

const LabelKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", 1 to 64 characters');
export const Labels = noProtoKey(
  z
    .record(LabelKey, wellFormed(256))
    .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`),
).meta({ description: 'Free-form string labels' });

const ParamName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    'a template name: letters, digits and "_", not starting with a digit',
  );
/** Task params fill `{{name}}` placeholders of the task's target, so values are flat strings, numbers or booleans. */
export const TaskParams = noProtoKey(
  z
    .record(ParamName, z.union([wellFormed(1024), z.number().refine(Number.isFinite), z.boolean()]))
    .refine(
      (p) => Buffer.byteLength(JSON.stringify(p), 'utf8') <= MAX_PARAMS_BYTES,
      `at most ${MAX_PARAMS_BYTES} bytes as JSON`,
    ),
).meta({ description: `Values for the task's {{placeholders}}; at most ${MAX_PARAMS_BYTES} bytes as JSON` });

// ---- inputs

export const UserPath = z.strictObject({ userId: UserId });
export const UserTaskPath = z.strictObject({ userId: UserId, taskId: TaskId });
export const TaskPath = z.strictObject({ taskId: TaskId });

export const PutUserBody = z.strictObject({
  zone: TimeZone,
  enabled: z.boolean().default(true).meta({ description: 'A disabled user is kept but never scheduled' }),
  labels: Labels.default({}),
});

export const PutUserTaskBody = z
  .strictObject({ params: TaskParams.optional() })
  .optional()
  .meta({ description: 'Optional; an empty body enables the task without params' });

const Limit = z
  .string()
  .regex(/^\d{1,4}$/, `an integer from 1 to ${MAX_PAGE}`)
  .transform(Number)
  .pipe(
    z
      .number()
      .int()
      .min(1, `an integer from 1 to ${MAX_PAGE}`)
      .max(MAX_PAGE, `an integer from 1 to ${MAX_PAGE}`),
  );

export const ListUsersQuery = z.strictObject({
  cursor: UserId.optional().meta({ description: 'nextCursor of the previous page' }),
  limit: Limit.optional().meta({ description: `Page size, 1 to ${MAX_PAGE}, default ${DEFAULT_PAGE}` }),
});

// ---- outputs

const Instant = z.iso.datetime().meta({ description: 'ISO 8601 instant (UTC)' });

export const UserView = z.object({
  id: UserId,
  zone: z.string(),
  enabled: z.boolean(),
  labels: z.record(z.string(), z.string()),
  createdAt: Instant,
  updatedAt: Instant,
});

export const UserDetail = UserView.extend({
  tasks: z.array(TaskId).meta({ description: 'Enabled task types' }),
});
export const UserPage = z.object({
  users: z.array(UserView.extend({ taskCount: z.number().int() })),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null on the last' }),
});

export const ScheduleView = z.union([
  z.object({ every: z.enum(['hour', 'day', 'week', 'month']), at: z.string() }),
  z.object({ cron: z.string() }),
]);
export const ZoneView = z.union([
  z.object({ policy: z.literal('fixed'), tz: z.string() }),
  z.object({ policy: z.literal('user') }),
]);

export const NextRun = z.object({
  periodKey: z.string(),
  zone: z.string().meta({ description: 'The zone the period is computed in' }),
  dueAt: Instant,
  windowEnd: Instant.meta({ description: 'The job runs at a spread point in [dueAt, windowEnd)' }),
});

export const UserTaskView = z.object({
  taskId: TaskId,
  params: z.record(z.string(), z.unknown()),
  description: z.string().nullable(),
  schedule: ScheduleView.nullable(),
  zone: ZoneView.nullable(),
  status: z
    .enum(['active', 'user_disabled', 'task_disabled', 'task_paused', 'task_unknown'])
    .meta({ description: 'active: it will run; otherwise why it will not' }),
  nextRun: NextRun.nullable(),
});
export const UserTaskList = z.object({ userId: UserId, tasks: z.array(UserTaskView) });
export const UserTaskResult = z.object({
  userId: UserId,
  taskId: TaskId,
  params: z.record(z.string(), z.unknown()),
  outcome: z.enum(['enabled', 'updated', 'unchanged']),
});

export const TaskTypeView = z.object({
  id: TaskId,
  description: z.string(),
  schedule: ScheduleView,
  zone: ZoneView,
  spreadMs: z.number().int(),
  timeoutMs: z.number().int(),
  retries: z.number().int(),
  rateLimits: z.array(z.string()),
  enabled: z.boolean().meta({ description: 'false when disabled in the catalog' }),
  paused: z.boolean(),
  users: z.number().int().meta({ description: 'Enabled users that have this task type enabled' }),
});
export const TaskTypeDetail = TaskTypeView.extend({
  zoneGroups: z
    .record(z.string(), z.number().int())
    .meta({ description: 'Users per index zone group ("_" = fixed zone)' }),
});
export const TaskTypeList = z.object({ taskTypes: z.array(TaskTypeView) });
export const PauseResult = z.object({ id: TaskId, paused: z.boolean(), changed: z.boolean() });

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

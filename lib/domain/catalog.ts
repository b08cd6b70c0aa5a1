// The task catalog (config/tasks.yaml): its schema, parsing with environment overrides, and domain types.
import YAML from 'yaml';
import { z } from 'zod';
import { ENV_DISABLED_TASKS, applyOverrides, readEnvOverrides } from './catalog-env.js';
import { DurationSchema, formatDuration } from './duration.js';
import { ScheduleSchema, shortestPeriodMs } from './schedule.js';
import { TargetSchema, placeholdersIn, staticHostOf } from './target.js';
import { isValidTimeZone } from './zoned-time.js';

export const TASK_ID = /^[a-z][a-z0-9_]{0,63}$/;
export const RATE_LIMIT_KEY = /^[a-z][a-z0-9_]{0,63}$/;
/** The limiter every job passes, whether or not its task lists it. */
export const GLOBAL_RATE_LIMIT = 'global';
export const MAX_TIMEOUT_MS = 900_000;
/** QStash retries of a task's jobs when the catalog names none (also a replay's when its task is gone). */
export const DEFAULT_RETRIES = 3;
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/i;
const BASE_URL_PLACEHOLDER = /\{\{\s*baseUrl\s*\}\}/g;

export interface CatalogIssue {
  /** Where in the catalog, e.g. `tasks[12].schedule.every`, or `env.STAGGER_...` for an override. */
  path: string;
  message: string;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  constructor(
    readonly issues: CatalogIssue[],
    readonly source = 'task catalog',
  ) {
    super(`Invalid ${source}:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`);
  }
}

const HostSchema = z
  .string()
  .regex(HOST, 'Expected a host name such as "api.example.com" or "127.0.0.1"')
  .transform((host) => host.toLowerCase());

const BaseUrlSchema = z
  .string()
  .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), 'Expected an http(s) URL')
  .refine((url) => !/[?#]/.test(url), 'A base URL cannot have a query or fragment')
  .transform((url) => url.replace(/\/+$/, ''));

const TimeZoneSchema = z.string().superRefine((tz, ctx) => {
  if (!isValidTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `Unknown IANA time zone "${tz}"` });
});

const RateLimitSchema = z
  .strictObject({
    limit: z.number().int().min(1),
    window: DurationSchema.refine((ms) => ms > 0, 'A window must be longer than 0'),
  })
  .transform(({ limit, window }) => ({ limit, windowMs: window }));

const ZoneSchema = z.discriminatedUnion('policy', [
  z.strictObject({ policy: z.literal('fixed'), tz: TimeZoneSchema }),
  z.strictObject({ policy: z.literal('user') }),
]);

/** What task validation needs from the top level; undefined parts skip their checks. */
interface CatalogContext {
  /** undefined: no baseUrl; null: an invalid one, reported on its own. */
  baseUrl?: string | null;
  allowedHosts?: ReadonlySet<string>;
  rateLimitKeys?: ReadonlySet<string>;
}

function taskTargetSchema(ctx: CatalogContext) {
  return TargetSchema.transform((target, zctx) => {
    const fail = (message: string) => {
      zctx.addIssue({ code: 'custom', path: ['url'], message });
      return z.NEVER;
    };
    if (placeholdersIn(target.url).includes('baseUrl')) {
      if (ctx.baseUrl === null) return target;
      if (ctx.baseUrl === undefined)
        return fail('{{baseUrl}} needs a top-level baseUrl or STAGGER_TARGET_BASE_URL');
    }
    const url = target.url.replace(BASE_URL_PLACEHOLDER, ctx.baseUrl ?? '');
    const host = staticHostOf(url);
    if ('problem' in host) return fail(host.problem);
    if (ctx.allowedHosts && !ctx.allowedHosts.has(host.hostname)) {
      return fail(`Host "${host.hostname}" is not in allowedHosts`);
    }
    return { ...target, url };
  });
}

function taskSchema(ctx: CatalogContext) {
  return z
    .strictObject({
      id: z
        .string()
        .regex(TASK_ID, 'Expected lower-case letters, digits and _, starting with a letter (max 64)'),
      description: z.string().min(1),
      schedule: ScheduleSchema,
      zone: ZoneSchema,
      spread: DurationSchema,
      target: taskTargetSchema(ctx),
      timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(10_000),
      retries: z.number().int().min(0).max(10).default(DEFAULT_RETRIES),
      rateLimits: z
        .array(
          z.string().superRefine((key, zctx) => {
            if (ctx.rateLimitKeys && !ctx.rateLimitKeys.has(key)) {
              zctx.addIssue({ code: 'custom', message: `Unknown rate limit key "${key}"` });
            }
          }),
        )
        .default([]),
      enabled: z.boolean().default(true),
      /** After missed ticks: run the latest missed period once, late (`latest`), or skip it (`none`). */
      catchUp: z.enum(['latest', 'none']).default('latest'),
    })
    .superRefine((task, zctx) => {
      const periodMs = shortestPeriodMs(task.schedule);
      if (task.spread > periodMs) {
        zctx.addIssue({
          code: 'custom',
          path: ['spread'],
          message: `Spread ${formatDuration(task.spread)} is longer than the period (${formatDuration(periodMs)})`,
        });
      }
    })
    .transform(({ spread, ...task }) => ({ ...task, spreadMs: spread }));
}

function catalogSchema(ctx: CatalogContext) {
  return z.strictObject({
    version: z.literal(1),
    /** Substituted for {{baseUrl}} in target URLs. */
    baseUrl: BaseUrlSchema.optional(),
    allowedHosts: z.array(HostSchema).min(1),
    rateLimits: z
      .record(z.string().regex(RATE_LIMIT_KEY, 'Invalid rate limit key'), RateLimitSchema)
      .default({}),
    tasks: z.array(taskSchema(ctx)),
  });
}

/** The fields a catalog may hold, at the top level and per task type (config/tasks.yaml's header documents each). */
export function catalogFieldNames(): { top: string[]; task: string[] } {
  return { top: Object.keys(catalogSchema({}).shape), task: Object.keys(taskSchema({}).in.shape) };
}

export type Catalog = z.output<ReturnType<typeof catalogSchema>>;
export type Task = Catalog['tasks'][number];
export type TaskZone = Task['zone'];
export type RateLimit = Catalog['rateLimits'][string];

/** The zone a task's periods are computed in, for a user whose zone is `userTz`. */
export function zoneOf(task: Pick<Task, 'zone'>, userTz: string): string {
  return task.zone.policy === 'fixed' ? task.zone.tz : userTz;
}

/**
 * Parses and validates a catalog. Throws CatalogError listing every problem by path; nothing
 * half-valid is returned. `env` supplies the STAGGER_* overrides (see catalog-env.ts).
 */
export function parseCatalog(text: string, env: Readonly<Record<string, string | undefined>> = {}): Catalog {
  const yaml = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (yaml.errors.length > 0) {
    throw new CatalogError(yaml.errors.map((error) => ({ path: '(yaml)', message: error.message })));
  }
  const overrides = readEnvOverrides(env);
  const doc = applyOverrides(yaml.toJS({ maxAliasCount: 1000 }), overrides);
  const issues: CatalogIssue[] = [...overrides.issues];

  const result = catalogSchema(contextOf(doc)).safeParse(doc);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      const source = Object.entries(overrides.sources).find(([prefix]) => isUnder(path, prefix));
      issues.push({ path: source ? `env.${source[1]}` : path || '(root)', message: messageOf(issue) });
    }
  }
  const ids = rawTaskIds(doc);
  issues.push(...duplicateIds(ids));
  for (const id of overrides.disabledTasks) {
    if (!ids.includes(id))
      issues.push({ path: `env.${ENV_DISABLED_TASKS}`, message: `Unknown task id "${id}"` });
  }
  if (!result.success || issues.length > 0) throw new CatalogError(sortIssues(issues));

  const disabled = new Set(overrides.disabledTasks);
  return {
    ...result.data,
    tasks: result.data.tasks.map((task) => (disabled.has(task.id) ? { ...task, enabled: false } : task)),
  };
}

function contextOf(doc: unknown): CatalogContext {
  const top = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const baseUrl = BaseUrlSchema.safeParse(top.baseUrl);
  const hosts = z.array(HostSchema).safeParse(top.allowedHosts);
  const limits = z.record(z.string(), z.unknown()).safeParse(top.rateLimits ?? {});
  return {
    baseUrl: top.baseUrl === undefined ? undefined : baseUrl.success ? baseUrl.data : null,
    allowedHosts: hosts.success ? new Set(hosts.data) : undefined,
    rateLimitKeys: limits.success ? new Set([...Object.keys(limits.data), GLOBAL_RATE_LIMIT]) : undefined,
  };
}

/** Task ids as written (undefined where missing), read before validation so every task counts. */
function rawTaskIds(doc: unknown): (string | undefined)[] {
  const tasks = (doc as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) return [];
  return tasks.map((task: unknown) => {
    const id = (task as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  });
}

function duplicateIds(ids: (string | undefined)[]): CatalogIssue[] {
  const firstIndex = new Map<string, number>();
  const issues: CatalogIssue[] = [];
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, index);
    else
      issues.push({ path: `tasks[${index}].id`, message: `Duplicate id "${id}" (first at tasks[${first}])` });
  });
  return issues;
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `Invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  return issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    const name = String(segment);
    if (/^[A-Za-z_$][\w$]*$/.test(name)) return out ? `${out}.${name}` : name;
    return `${out}[${JSON.stringify(name)}]`;
  }, '');
}

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** Env problems first, then by task index; otherwise in the order found (schema order). */
function sortIssues(issues: CatalogIssue[]): CatalogIssue[] {
  const rank = (path: string): number => {
    if (path.startsWith('env.')) return -2;
    const task = /^tasks\[(\d+)\]/.exec(path);
    return task ? Number(task[1]) : -1;
  };
  return [...issues].sort((a, b) => rank(a.path) - rank(b.path));
}

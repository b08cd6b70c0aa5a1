// Deployment configuration read once from the environment and validated; errors name variables, never values.
import { z } from 'zod';
import { stageProblems, VARIABLES } from '../config/environment.cjs';
import { DEFAULT_CATALOG_PATH } from './catalog-file.js';
import { ConfigError } from './errors.js';

const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(
    z.array(z.string().min(16, 'each key needs at least 16 characters')).min(1, 'needs at least one key'),
  );

/** Defaults of settings that code also needs where no environment is read (scheduler settings, the job store). */
export const CONFIG_DEFAULTS = {
  limitGuardMs: 50,
  maxWaitMs: 3_000,
  fanoutPageSize: 500,
  fanoutBudgetMs: 40_000,
  batchSpanMs: 15_000,
} as const;

const EnvSchema = z.object({
  STAGE: z.enum(['local', 'localstack', 'prod']).default('local'),
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  QSTASH_URL: z.url(),
  QSTASH_TOKEN: z.string().min(1),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1),
  STAGGER_ADMIN_API_KEYS: list,
  /** Read-only tokens for GET /metrics (Prometheus scrapers), besides the admin keys; empty or unset = none. */
  STAGGER_METRICS_TOKENS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(z.string().min(16, 'each token needs at least 16 characters'))),
  /** Base URL at which QStash reaches this deployment's functions (worker, failure callback). */
  STAGGER_PUBLIC_URL: z.url(),
  STAGGER_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-", at most 64')
    .default('stagger:'),
  STAGGER_CATALOG_PATH: z.string().min(1).default(DEFAULT_CATALOG_PATH),
  /**
   * Added to every rate-limit window (ms): covers the spread between a reserved send instant and the call's
   * arrival at the target. Half is for the wake-up, which the worker measures (timer lateness, how well it knows
   * the script's clock) and enforces: it gives a reservation back when it wakes later than that. The other half is
   * for the way to the target (connection setup, network), which it cannot measure: raise it for far targets.
   * (Not under STAGGER_RATE_LIMIT_*: that prefix sets catalog limits.)
   */
  STAGGER_LIMIT_GUARD_MS: z.coerce.number().int().min(0).max(60_000).default(CONFIG_DEFAULTS.limitGuardMs),
  /**
   * Longest a worker waits in process for its rate-limit reservation (ms); a later one is deferred (re-published).
   * One QStash message and invocation cost about what 3 s of a 256 MB arm64 Lambda waiting does.
   */
  STAGGER_MAX_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(CONFIG_DEFAULTS.maxWaitMs),
  /**
   * Worker: delay before the next attempt of a job that failed inside a batch (ms), sent on as a message of its own;
   * unset: QStash's own backoff before a first retry (about 12 s). Later retries follow QStash's backoff.
   */
  STAGGER_BATCH_RETRY_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  /** Scheduler: user ids per fan-out page (one Redis round trip, ⌈n/100⌉ QStash batch requests). */
  STAGGER_FANOUT_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(CONFIG_DEFAULTS.fanoutPageSize),
  /** Scheduler: longest one invocation fans out before handing over to a continuation message. */
  STAGGER_FANOUT_BUDGET_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(900_000)
    .default(CONFIG_DEFAULTS.fanoutBudgetMs),
  /**
   * Scheduler: longest span (first planned start to last) of one batch message of a slot's jobs; 0 = one message
   * a job. Also bounded per task by the worker's budget less the task's timeout (lib/scheduler/plan-batches.ts).
   */
  STAGGER_BATCH_SPAN_MS: z.coerce.number().int().min(0).max(60_000).default(CONFIG_DEFAULTS.batchSpanMs),
  /** Scheduler: how often a tick reconciles QStash's DLQ into stagger's dead letters (0 = never). */
  STAGGER_DLQ_SWEEP_MS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  ),
});

export type Config = z.output<typeof EnvSchema>;

/** The variables the functions' configuration reads (checked against config/environment.cjs by a test). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

const SECRETS = new Set(VARIABLES.filter((v) => v.kind === 'secret').map((v) => v.name));

/**
 * Reads and checks the configuration; empty values count as unset. Refuses to start (ConfigError naming each
 * variable, never a value) on bad values, and on a deployed stage on a missing or loopback target (see
 * config/environment.cjs, which applies the same checks at deploy).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(set);
  if (!result.success) {
    const stage = set['STAGE'] ?? 'local';
    const names = result.error.issues.map((i) => {
      const name = String(i.path[0]);
      const where = stage !== 'local' && SECRETS.has(name) ? ` (a key of the stagger/${stage} secret)` : '';
      return `${name}${where}: ${set[name] === undefined ? 'unset' : i.message}`;
    });
    throw new ConfigError(`configuration invalid: ${names.join('; ')}`);
  }
  const problems = stageProblems(result.data.STAGE, set);
  if (problems.length > 0) throw new ConfigError(`configuration invalid: ${problems.join('; ')}`);
  return result.data;
}

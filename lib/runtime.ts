// The composition root: one validated config, and every adapter and service built from it once per Lambda instance.
import { Client as QStashClient, Receiver } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import type { AdminDeps } from './admin/users-service.js';
import { loadCatalogFileSync } from './catalog-file.js';
import { loadConfig, type Config } from './config.js';
import type { OverviewDeps } from './dashboard/overview.js';
import { DeadLetterStore } from './dead-letters/dead-letter-store.js';
import type { Catalog } from './domain/catalog.js';
import { qstashProbe, redisProbe, type Probe } from './health.js';
import { AdminLimiter, adminLimitSettings } from './http/admin-limits.js';
import { JobReads } from './jobs/job-reads.js';
import { runNow } from './jobs/run-now.js';
import { jobLogger, logger } from './log.js';
import { FAILURES_PATH, internalUrl, JOBS_PATH, QStashPublisher } from './publishing/qstash-publisher.js';
import { DEFAULT_SETTINGS, type SchedulerDeps } from './scheduler/deps.js';
import { sweepQStashDlq } from './scheduler/dlq-reconcile.js';
import type { SchedulableTask } from './scheduler/plan.js';
import { schedulableTasks } from './scheduler/tasks.js';
import { keysFor, type Keys } from './store/keys.js';
import { PreferencesStore } from './store/preferences.js';
import { JobStore } from './worker/job-store.js';
import { batchIdOf } from './publishing/batch-id.js';
import type { BatchWorkerDeps } from './worker/run-batch.js';

type Env = Record<string, string | undefined>;

export interface Runtime {
  readonly config: Config;
  readonly redis: Redis;
  readonly qstash: QStashClient;
  readonly keys: Keys;
  /** QStash signature checks: needs nothing but the config, so it runs before any other work. */
  readonly receiver: Receiver;
  /** The task catalog from STAGGER_CATALOG_PATH with the STAGGER_* env overrides, parsed on first use. */
  readonly catalog: Catalog;
  /** Every publish to QStash: fan-out pages, continuations, deferrals, run-now, replays. */
  readonly publisher: QStashPublisher;
  /** Users, their tasks, task types (lib/admin). */
  readonly admin: AdminDeps;
  /** One per instance, so its cache of blocked callers outlives a request; built on first use, so bad
   * STAGGER_ADMIN_LIMIT* settings fail only the admin routes. */
  readonly adminLimiter: AdminLimiter;
  /** The scheduler's tick, status and continuations (lib/scheduler). */
  readonly scheduler: SchedulerDeps;
  /** One delivery of a job (lib/worker). */
  readonly delivery: BatchWorkerDeps;
  readonly jobReads: JobReads;
  runNow(userId: string, taskId: string): Promise<{ jobId: string; messageId: string }>;
  readonly deadLetters: DeadLetterStore;
  /** What the dashboard's overview and /metrics read. */
  readonly monitoring: Omit<OverviewDeps, 'now'>;
  /** GET /health: Redis and QStash, by name. */
  readonly healthProbes: Readonly<Record<string, Probe>>;
}

/** `make()` once it first succeeds: a failure (a broken catalog) fails the call that needed it and is tried again. */
function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
}

export function createRuntime(config: Config, env: Env = process.env): Runtime {
  const catalog = once(() => loadCatalogFileSync(config.STAGGER_CATALOG_PATH, env));
  const tasks = once(() => schedulableTasks(catalog()));
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    // Lambda bills waiting: fail within ~1.5 s instead of the client's default ~4 s of retries.
    retry: { retries: 2, backoff: (n) => 250 * 2 ** n },
  });
  const qstash = new QStashClient({ baseUrl: config.QSTASH_URL, token: config.QSTASH_TOKEN });
  const keys = keysFor(config.STAGGER_KEY_PREFIX);
  const publisher = new QStashPublisher(qstash, config.STAGGER_PUBLIC_URL);
  const deadLetters = new DeadLetterStore(redis, keys);
  const jobs = new JobStore(redis, keys, config.STAGGER_LIMIT_GUARD_MS);
  const adminLimiter = once(
    () => new AdminLimiter(redis, adminLimitSettings(env), { prefix: keys.adminRateLimit }),
  );
  const schedulerLog = logger.child({ component: 'scheduler' });
  const everyMs = config.STAGGER_DLQ_SWEEP_MS;
  return {
    config,
    redis,
    qstash,
    keys,
    // devMode off: QSTASH_DEV in the environment must never swap in the public dev keys.
    receiver: new Receiver({
      currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
      devMode: false,
    }),
    get catalog() {
      return catalog();
    },
    publisher,
    admin: {
      store: new PreferencesStore(redis, keys),
      get catalog() {
        return catalog();
      },
      now: Date.now,
    },
    get adminLimiter() {
      return adminLimiter();
    },
    scheduler: {
      redis,
      keys,
      publisher,
      get tasks(): ReadonlyMap<string, SchedulableTask> {
        return tasks();
      },
      clock: Date.now,
      random: Math.random,
      settings: {
        ...DEFAULT_SETTINGS,
        pageSize: config.STAGGER_FANOUT_PAGE_SIZE,
        budgetMs: config.STAGGER_FANOUT_BUDGET_MS,
        limitGuardMs: config.STAGGER_LIMIT_GUARD_MS,
        batchSpanMs: config.STAGGER_BATCH_SPAN_MS,
      },
      log: schedulerLog,
      ...(everyMs > 0 && {
        sweepDlq: () =>
          sweepQStashDlq({
            dlq: qstash.dlq,
            deadLetters,
            jobsUrl: internalUrl(config.STAGGER_PUBLIC_URL, JOBS_PATH),
            failuresUrl: internalUrl(config.STAGGER_PUBLIC_URL, FAILURES_PATH),
            acquireGuard: async (ms) =>
              (await redis.set(keys.dlqSweep, Date.now(), { nx: true, px: ms })) === 'OK',
            everyMs,
            maxPages: 5,
            log: schedulerLog,
          }),
      }),
    },
    delivery: {
      store: jobs,
      publisher,
      maxWaitMs: config.STAGGER_MAX_WAIT_MS,
      ...(config.STAGGER_BATCH_RETRY_DELAY_MS === undefined
        ? {}
        : { retryDelayMs: () => config.STAGGER_BATCH_RETRY_DELAY_MS ?? 0 }),
      get catalog() {
        return catalog();
      },
      log: (m, requestId) =>
        jobLogger({ jobId: m.jobId, task: m.taskId, user: m.userId, period: m.periodKey }, requestId),
      batchLog: (b, requestId) =>
        logger.child({
          batch: batchIdOf(b),
          task: b.taskId,
          period: b.periodKey,
          ...(requestId ? { requestId } : {}),
        }),
    },
    jobReads: new JobReads(redis, keys),
    runNow: (userId, taskId) => runNow({ redis, keys, catalog: catalog(), publisher }, userId, taskId),
    deadLetters,
    monitoring: {
      redis,
      keys,
      get catalog() {
        return catalog();
      },
      guardMs: config.STAGGER_LIMIT_GUARD_MS,
      deadLetters,
    },
    healthProbes: { redis: redisProbe(redis), qstash: qstashProbe(config.QSTASH_URL, config.QSTASH_TOKEN) },
  };
}

let current: Runtime | undefined;

/** The root of this Lambda instance, built on first use from the environment. */
export function runtime(): Runtime {
  current ??= createRuntime(loadConfig());
  return current;
}

/** Forget the cached runtime so the next call reads the environment again (tests). */
export function resetRuntime(): void {
  current = undefined;
}

// The scheduler's dependencies wired from the runtime (Redis, QStash, catalog, config) once per Lambda instance.
import type { Catalog } from '../domain/catalog.js';
import { logger } from '../log.js';
import { runtime } from '../runtime.js';
import { keysFor } from '../store/keys.js';
import { DEFAULT_SETTINGS, type SchedulerDeps } from './deps.js';
import type { SchedulableTask } from './plan.js';
import { DeadLetterStore } from '../worker/dead-letters.js';
import { FAILURES_PATH, internalUrl, JOBS_PATH } from '../worker/publish-job.js';
import { sweepQStashDlq } from './dlq-reconcile.js';
import { QStashPublisher } from './publisher.js';
import { schedulableTasks } from './tasks.js';

let cached: { deps: SchedulerDeps; for: object } | undefined;
const taskMaps = new WeakMap<Catalog, Map<string, SchedulableTask>>();

function tasksOf(catalog: Catalog): Map<string, SchedulableTask> {
  let tasks = taskMaps.get(catalog);
  if (!tasks) {
    tasks = schedulableTasks(catalog);
    taskMaps.set(catalog, tasks);
  }
  return tasks;
}

export function schedulerDeps(): SchedulerDeps {
  const rt = runtime();
  // A reset runtime (tests) gets fresh deps.
  if (cached?.for !== rt) {
    const { config } = rt;
    cached = {
      for: rt,
      deps: {
        redis: rt.redis,
        keys: keysFor(config.STAGGER_KEY_PREFIX),
        publisher: new QStashPublisher(rt.qstash, config.STAGGER_PUBLIC_URL),
        // Read lazily: a broken catalog fails the call that needs it, not the module load.
        get tasks() {
          return tasksOf(rt.catalog);
        },
        clock: Date.now,
        random: Math.random,
        settings: {
          ...DEFAULT_SETTINGS,
          pageSize: config.STAGGER_FANOUT_PAGE_SIZE,
          budgetMs: config.STAGGER_FANOUT_BUDGET_MS,
          limitGuardMs: config.STAGGER_LIMIT_GUARD_MS,
        },
        log: logger.child({ component: 'scheduler' }),
      },
    };
    const deps = cached.deps;
    const everyMs = config.STAGGER_DLQ_SWEEP_MS;
    if (everyMs > 0) {
      const deadLetters = new DeadLetterStore(rt.redis, deps.keys);
      deps.sweepDlq = () =>
        sweepQStashDlq({
          dlq: rt.qstash.dlq,
          deadLetters,
          jobsUrl: internalUrl(config.STAGGER_PUBLIC_URL, JOBS_PATH),
          failuresUrl: internalUrl(config.STAGGER_PUBLIC_URL, FAILURES_PATH),
          acquireGuard: async (ms) =>
            (await rt.redis.set(deps.keys.dlqSweep, Date.now(), { nx: true, px: ms })) === 'OK',
          everyMs,
          maxPages: 5,
          ...(deps.log ? { log: deps.log } : {}),
        });
    }
  }
  return cached.deps;
}

/** A clock that reads `startAt` now and runs on in real time (an explicit `now` of a local run). */
export function clockFrom(startAt: number, realNow: () => number = Date.now): () => number {
  const offset = startAt - realNow();
  return () => realNow() + offset;
}

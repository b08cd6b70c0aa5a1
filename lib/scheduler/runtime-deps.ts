// The scheduler's dependencies wired from the runtime (Redis, QStash, catalog, config) once per Lambda instance.
import type { Catalog } from '../domain/catalog.js';
import { logger } from '../log.js';
import { runtime } from '../runtime.js';
import { keysFor } from '../store/keys.js';
import { DEFAULT_SETTINGS, type SchedulerDeps } from './deps.js';
import type { SchedulableTask } from './plan.js';
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
  }
  return cached.deps;
}

/** A clock that reads `startAt` now and runs on in real time (an explicit `now` of a local run). */
export function clockFrom(startAt: number, realNow: () => number = Date.now): () => number {
  const offset = startAt - realNow();
  return () => realNow() + offset;
}

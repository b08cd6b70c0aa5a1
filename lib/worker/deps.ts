// Wires the worker-side services from the runtime once per Lambda instance (and again after resetRuntime in tests).
import { Receiver } from '@upstash/qstash';
import type { Config } from '../config.js';
import type { Catalog } from '../domain/catalog.js';
import { keysFor, type Keys } from '../store/keys.js';
import { jobLogger } from '../log.js';
import { runtime, type Runtime } from '../runtime.js';
import { DeadLetterStore } from './dead-letters.js';
import { JobReads } from './job-reads.js';
import { JobStore } from './job-store.js';
import { qstashJobPublisher, type JobPublisher } from './publish-job.js';
import type { WorkerDeps } from './run-delivery.js';

export interface WorkerServices {
  runtime: Runtime;
  catalog: Catalog;
  keys: Keys;
  publisher: JobPublisher;
  jobs: JobStore;
  reads: JobReads;
  deadLetters: DeadLetterStore;
  worker: WorkerDeps;
}

const byRuntime = new WeakMap<Runtime, WorkerServices>();
const receivers = new WeakMap<Config, Receiver>();

/** The signature check needs nothing but configuration: it runs before any other work. */
export function signingReceiver(config: Config): Receiver {
  let r = receivers.get(config);
  if (!r) {
    // devMode off: QSTASH_DEV in the environment must never swap in the public dev keys.
    r = new Receiver({
      currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
      devMode: false,
    });
    receivers.set(config, r);
  }
  return r;
}

export function workerServices(): WorkerServices {
  const rt = runtime();
  let s = byRuntime.get(rt);
  if (!s) {
    const { config, redis, qstash } = rt;
    const keys = keysFor(config.STAGGER_KEY_PREFIX);
    const catalog = rt.catalog;
    const publisher = qstashJobPublisher(qstash, config.STAGGER_PUBLIC_URL);
    const jobs = new JobStore(redis, keys, config.STAGGER_LIMIT_GUARD_MS);
    s = {
      runtime: rt,
      catalog,
      keys,
      publisher,
      jobs,
      reads: new JobReads(redis, keys),
      deadLetters: new DeadLetterStore(redis, keys),
      worker: {
        store: jobs,
        publisher,
        catalog,
        log: (m, requestId) =>
          jobLogger({ jobId: m.jobId, task: m.taskId, user: m.userId, period: m.periodKey }, requestId),
      },
    };
    byRuntime.set(rt, s);
  }
  return s;
}

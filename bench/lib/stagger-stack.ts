// A running stagger for scenarios 2, 4 and 5: the broker delivering to the project's functions (in this process),
// a recording target, a one-type bench catalog, and users with that type enabled.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningLambdaHttp } from '../../test/helpers/lambda-http.js';
import type { RunningTarget } from '../../scripts/target/server.js';
import { runtime } from '../../lib/runtime.js';
import { QStashPublisher, type JobPublisher } from '../../lib/publishing/qstash-publisher.js';
import type { BenchEnv, BrokerHandle } from './bench-env.js';
import type { LambdaMeter } from './lambda-meter.js';
import { seedPreferences } from './seed.js';

export const BENCH_TASK = 'bench_job';
export const benchUser = (i: number): string => `b${String(i).padStart(6, '0')}`;

/**
 * One task type that runs every minute in UTC, spread over `spread`, POSTing to the target, under a chain of two
 * limits: `global` and the task's own `bench_api` (set per scenario with STAGGER_RATE_LIMIT_GLOBAL / _BENCH_API).
 */
export function writeBenchJobCatalog(dir: string, spread = '10s'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `catalog-bench-job-${spread}.yaml`);
  writeFileSync(
    path,
    `# Written by bench/lib/stagger-stack.ts: one task type for the rate-limit, overhead and cost scenarios.
version: 1
baseUrl: http://127.0.0.1:4000
allowedHosts: [127.0.0.1, localhost]
rateLimits:
  global: { limit: 200, window: 1s }
  bench_api: { limit: 1000, window: 1s }
tasks:
  - id: ${BENCH_TASK}
    description: A bench job that POSTs to the recording target.
    schedule: { cron: '* * * * *' }
    zone: { policy: fixed, tz: UTC }
    spread: ${spread}
    target:
      method: POST
      url: '{{baseUrl}}/tasks/${BENCH_TASK}'
      body: { userId: '{{userId}}', period: '{{periodKey}}' }
    timeoutMs: 10000
    retries: 3
    rateLimits: [bench_api]
`,
  );
  return path;
}

export interface StaggerStack {
  target: RunningTarget;
  broker: BrokerHandle;
  api: RunningLambdaHttp;
  prefix: string;
  env: Record<string, string>;
  /** The worker's own publisher (deferrals, run-now) on the runtime's QStash client. */
  publisher: JobPublisher;
  stop(): Promise<void>;
}

export interface StaggerStackOptions {
  /** Deliveries in flight at once (QStash's parallelism towards the worker); 0 = store only. */
  brokerConcurrency: number;
  users: number;
  /** STAGGER_RATE_LIMIT_GLOBAL, e.g. "200/1s". */
  globalLimit: string;
  /** STAGGER_RATE_LIMIT_BENCH_API, the task's own limit (second in the chain); default as loose as the global one. */
  taskLimit?: string;
  spread?: string;
  /** Route Upstash Redis through the bridge's counting proxy (one more local HTTP hop). */
  countRedis?: boolean;
  /** Count and time every function invocation (the cost scenario). */
  meter?: LambdaMeter;
  /** Another catalog instead of the one-type bench catalog (its users are seeded by the caller when `users` is 0). */
  catalogPath?: string;
}

/** Flushes both of the bench's Redis servers, then starts everything and seeds `users` users with the bench task. */
export async function startStaggerStack(env: BenchEnv, o: StaggerStackOptions): Promise<StaggerStack> {
  await env.appAdmin.flushall();
  await env.brokerAdmin.flushall();
  const target = await env.startTarget({ maxHits: 10_000_000 });
  const broker = await env.startBroker({ concurrency: o.brokerConcurrency });
  const catalogPath = o.catalogPath ?? writeBenchJobCatalog('.local/bench', o.spread);
  const fns = await env.startFunctions(
    broker,
    target.url,
    {
      STAGGER_CATALOG_PATH: catalogPath,
      STAGGER_RATE_LIMIT_GLOBAL: o.globalLimit,
      STAGGER_RATE_LIMIT_BENCH_API: o.taskLimit ?? o.globalLimit,
    },
    o.countRedis ?? false,
    o.meter,
  );
  if (o.users > 0) {
    await seedPreferences(env.appAdmin, {
      prefix: fns.prefix,
      users: o.users,
      userId: benchUser,
      zone: 'UTC',
      enables: [{ taskId: BENCH_TASK, users: o.users, policy: 'fixed' }],
    });
  }
  const rt = runtime();
  return {
    target,
    broker,
    api: fns.api,
    prefix: fns.prefix,
    env: fns.env,
    publisher: new QStashPublisher(rt.qstash, rt.config.STAGGER_PUBLIC_URL),
    async stop() {
      await fns.api.close();
      await broker.close();
      await target.close();
    },
  };
}

/** Polls until `check` is true; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the broker has nothing due or in flight (late deferrals, retries, callbacks settled). */
export async function brokerDrained(env: BenchEnv, stack: StaggerStack): Promise<void> {
  await waitUntil(
    async () =>
      (await env.brokerAdmin.zcard(`${stack.broker.keyPrefix}due`)) +
        (await env.brokerAdmin.zcard(`${stack.broker.keyPrefix}inflight`)) ===
      0,
    60_000,
    'the broker to drain',
  );
}

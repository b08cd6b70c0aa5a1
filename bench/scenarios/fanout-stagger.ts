// stagger side of the fan-out: one real scheduler tick (lib/scheduler runTick with the runtime's deps: REST Redis,
// the real @upstash/qstash Client) at the plan's tick, fanning every due slot out into the local broker.
import { resetRuntime } from '../../lib/runtime.js';
import { clockFrom, schedulerDeps } from '../../lib/scheduler/runtime-deps.js';
import { runTick } from '../../lib/scheduler/tick.js';
import type { FanoutSideResult } from './fanout-bullmq.js';
import type { FanoutPlan } from './fanout-plan.js';

export interface StaggerFanoutInput {
  plan: FanoutPlan;
  brokerKeyPrefix: string;
  /** The functions' environment (Redis and QStash URLs, key prefix, catalog path). */
  env: Record<string, string>;
}

export async function staggerFanout(input: StaggerFanoutInput): Promise<FanoutSideResult> {
  Object.assign(process.env, input.env);
  resetRuntime();
  const deps = schedulerDeps();
  // Touch the catalog before the clock starts: parsing it is start-up work, not fan-out.
  void deps.tasks.size;
  const started = performance.now();
  const summary = await runTick(
    { ...deps, clock: clockFrom(input.plan.tickMs) },
    { holder: 'bench/fanout', timeLeft: () => 900_000 },
  );
  const elapsedMs = performance.now() - started;
  if (summary.locked) throw new Error('the scheduler lock was held');
  if (summary.published !== input.plan.total || summary.failed > 0 || summary.continued > 0) {
    throw new Error(
      `tick published ${summary.published} of ${input.plan.total} (claimed ${summary.claimed}, failed ${summary.failed}, ` +
        `continued ${summary.continued}, skipped ${JSON.stringify(summary.skipped)})`,
    );
  }
  return { jobs: summary.published, elapsedMs };
}

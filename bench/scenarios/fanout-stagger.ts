// stagger side of the fan-out: one real scheduler tick (lib/scheduler runTick with the runtime's deps: REST Redis,
// the real @upstash/qstash Client) at the plan's tick, fanning every due slot out into the local broker.
import { resetRuntime, runtime } from '../../lib/runtime.js';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import { clockFrom, DEFAULT_SETTINGS } from '../../lib/scheduler/deps.js';
import { batchPolicyOf, planPage } from '../../lib/scheduler/plan-batches.js';
import { runTick } from '../../lib/scheduler/tick.js';
import type { FanoutSideResult } from './fanout-bullmq.js';
import { userId, type FanoutPlan } from './fanout-plan.js';

export interface StaggerFanoutInput {
  plan: FanoutPlan;
  brokerKeyPrefix: string;
  /** The functions' environment (Redis and QStash URLs, key prefix, catalog path). */
  env: Record<string, string>;
}

export async function staggerFanout(input: StaggerFanoutInput): Promise<FanoutSideResult> {
  Object.assign(process.env, input.env);
  resetRuntime();
  const deps = runtime().scheduler;
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
  return { jobs: summary.published, messages: summary.messages, elapsedMs };
}

/**
 * The ceiling the local broker sets: the same jobs, pages, batch messages and QStash batches as the fan-out
 * (scheduler's planPage and QStashPublisher, its slot concurrency, page size and batch policy), with no Redis reads,
 * no lock and no checkpoints.
 */
export async function brokerIngest(input: StaggerFanoutInput): Promise<FanoutSideResult> {
  Object.assign(process.env, input.env);
  resetRuntime();
  const rt = runtime();
  const publisher = new QStashPublisher(rt.qstash, rt.config.STAGGER_PUBLIC_URL);
  const pageSize = rt.config.STAGGER_FANOUT_PAGE_SIZE;
  const slots = [...input.plan.slots];
  let jobs = 0;
  let messages = 0;
  const started = performance.now();
  const worker = async () => {
    for (let slot = slots.shift(); slot; slot = slots.shift()) {
      const window = {
        taskId: slot.taskId,
        periodKey: slot.periodKey,
        backfilled: false,
        startAt: slot.dueAtMs,
        windowMs: slot.spreadMs,
        total: slot.users,
      };
      const task = rt.scheduler.tasks.get(slot.taskId);
      const policy = task ? batchPolicyOf(task, rt.scheduler.settings.batchSpanMs) : undefined;
      for (let rank = 0; rank < slot.users; rank += pageSize) {
        const ids = Array.from({ length: Math.min(pageSize, slot.users - rank) }, (_, i) => userId(rank + i));
        const page = planPage(window, ids, rank, input.plan.tickMs, Math.random, policy);
        await publisher.publishJobs(page, 3);
        jobs += ids.length;
        messages += page.length;
      }
    }
  };
  await Promise.all(Array.from({ length: DEFAULT_SETTINGS.slotConcurrency }, worker));
  return { jobs, messages, elapsedMs: performance.now() - started };
}

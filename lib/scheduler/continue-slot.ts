// A continuation invocation: take the slot over from the owner that handed it on, fan out until out of time, hand on again.
import { stopSignal, type SchedulerDeps, type TimeLeft } from './deps.js';
import type { ContinuationMessage } from './continuation.js';
import { fanOutAll, type SlotReport } from './fanout.js';
import { SlotStore } from './slots.js';

export interface ContinueSummary {
  /** `continued`: this invocation worked on the slot; otherwise why it did nothing. */
  outcome: 'continued' | 'done' | 'superseded' | 'missing' | 'paused' | 'unknown-task';
  fence?: number;
  published: number;
  messages: number;
  done: number;
  continued: number;
  failed: number;
  slots: SlotReport[];
}

/**
 * Duplicate deliveries and continuations of an owner that was taken over meanwhile find another
 * fence on the slot and stop (answered as success, so QStash does not retry them).
 */
export async function continueSlot(
  deps: SchedulerDeps,
  message: ContinuationMessage,
  opts: { timeLeft: TimeLeft },
): Promise<ContinueSummary> {
  const summary: ContinueSummary = {
    outcome: 'continued',
    published: 0,
    messages: 0,
    done: 0,
    continued: 0,
    failed: 0,
    slots: [],
  };
  const task = deps.tasks.get(message.taskId);
  if (!task) return { ...summary, outcome: 'unknown-task' };
  // A paused task's slot waits at its checkpoint; a tick resumes it once the task is resumed.
  if ((await deps.redis.sismember(deps.keys.pausedTasks, message.taskId)) === 1)
    return { ...summary, outcome: 'paused' };
  const shouldStop = stopSignal(deps.settings, opts.timeLeft);
  const slots = new SlotStore(deps.redis, deps.keys, deps.settings);
  const taken = await slots.take(message, message.fence, deps.clock());
  if (taken.kind !== 'taken') return { ...summary, outcome: taken.kind };
  summary.fence = taken.slot.fence;
  await fanOutAll(
    deps,
    slots,
    [{ slot: taken.slot, how: 'taken', retries: task.retries }],
    shouldStop,
    summary,
  );
  return summary;
}

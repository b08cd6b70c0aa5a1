// Fans one owned slot out page by page: read after the checkpoint, publish, checkpoint; stops between pages when told.
import type { Logger } from '../log.js';
import type { SchedulerDeps } from './deps.js';
import { batchPolicyOf, planPage, type BatchPolicy } from './plan-batches.js';
import { jobsIn, type FanOutPublisher } from '../publishing/qstash-publisher.js';
import type { SlotState, SlotStore } from './slots.js';

export interface FanOutDeps {
  slots: SlotStore;
  publisher: FanOutPublisher;
  clock: () => number;
  random: () => number;
  pageSize: number;
  log?: Logger;
}

export type FanOutOutcome =
  /** Every member published; the slot is marked done. */
  | 'done'
  /** Out of time: checkpointed, a continuation must carry on. */
  | 'paused'
  /** A newer owner took the slot over (or it was finished meanwhile): this owner stops writing. */
  | 'lost';

export interface FanOutResult {
  outcome: FanOutOutcome;
  /** Jobs published by this call (a page re-published after a crash counts again). */
  published: number;
  /** Messages they travelled in (a batch is one). */
  messages: number;
  count: number;
}

/**
 * One page at a time, so memory is bounded by the page size. The checkpoint of page k is written
 * after its publish, in the same round trip that reads page k+1. At least one page is done per
 * call, so a continuation always makes progress. With a batch policy, each page's jobs planned
 * close together travel as batch messages; grouping never crosses a page.
 */
export async function fanOutSlot(
  deps: FanOutDeps,
  slot: SlotState,
  retries: number,
  shouldStop: () => boolean,
  batch?: BatchPolicy,
): Promise<FanOutResult> {
  const position = { cursor: slot.cursor, count: slot.count };
  let published = 0;
  let messages = 0;
  // QStash's duplicates in the last page, counted by the checkpoint that follows it.
  let deduplicated = 0;
  for (;;) {
    const step = await deps.slots.advance(slot, position, deps.pageSize, deps.clock(), deduplicated);
    if (step.kind === 'done') return { outcome: 'done', published, messages, count: position.count };
    if (step.kind !== 'page') {
      deps.log?.warn(
        { slot: idOf(slot), ...slotLogFields(slot), fence: slot.fence, reason: step.kind },
        'fan-out stopped: slot no longer owned',
      );
      return { outcome: 'lost', published, messages, count: position.count };
    }
    const page = planPage(slot, step.ids, position.count, deps.clock(), deps.random, batch);
    // Jobs, not messages: the checkpoint counts jobs.
    deduplicated = (await deps.publisher.publishJobs(page, retries))?.deduplicated ?? 0;
    published += page.reduce((n, m) => n + jobsIn(m), 0);
    messages += page.length;
    position.count += step.ids.length;
    position.cursor = step.ids.at(-1) ?? position.cursor;
    // A short page was the last one: finishing costs one round trip, a hand-over a whole invocation.
    if (step.ids.length >= deps.pageSize && shouldStop()) {
      const checkpoint = await deps.slots.advance(slot, position, 0, deps.clock(), deduplicated);
      const outcome = checkpoint.kind === 'page' ? 'paused' : 'lost';
      return { outcome, published, messages, count: position.count };
    }
  }
}

export interface OwnedSlot {
  slot: SlotState;
  how: SlotReport['how'];
  retries: number;
}

export interface SlotReport {
  slot: string;
  how: 'claimed' | 'resumed' | 'taken';
  outcome: FanOutOutcome | 'not-started' | 'failed';
  published: number;
  backfilled: boolean;
}

export interface FanOutTally {
  /** Jobs published. */
  published: number;
  /** QStash messages they travelled in (a batch is one). */
  messages: number;
  done: number;
  continued: number;
  failed: number;
  /** The first 100 slots worked on. */
  slots: SlotReport[];
}

const REPORTED_SLOTS = 100;

/**
 * Fans out owned slots a few at a time until told to stop; slots paused mid-way or never started
 * are handed to continuation messages, one per slot, each carrying this owner's fence. Continuations
 * of different slots run in parallel invocations.
 */
export async function fanOutAll(
  deps: SchedulerDeps,
  slots: SlotStore,
  owned: readonly OwnedSlot[],
  shouldStop: () => boolean,
  summary: FanOutTally,
): Promise<void> {
  const handOver: SlotState[] = [];
  const fanOut = {
    slots,
    publisher: deps.publisher,
    clock: deps.clock,
    random: deps.random,
    pageSize: deps.settings.pageSize,
    ...(deps.log ? { log: deps.log } : {}),
  };
  let next = 0;
  const report = (r: SlotReport) => {
    if (summary.slots.length < REPORTED_SLOTS) summary.slots.push(r);
  };
  const worker = async () => {
    for (;;) {
      const index = next++;
      const item = owned[index];
      if (!item) return;
      const base = { slot: idOf(item.slot), how: item.how, backfilled: item.slot.backfilled };
      // The first slot always gets at least a page: an invocation out of time on arrival still makes progress.
      if (index > 0 && shouldStop()) {
        handOver.push(item.slot);
        report({ ...base, outcome: 'not-started', published: 0 });
        continue;
      }
      try {
        const task = deps.tasks.get(item.slot.taskId);
        const batch = task ? batchPolicyOf(task, deps.settings.batchSpanMs) : undefined;
        const result = await fanOutSlot(fanOut, item.slot, item.retries, shouldStop, batch);
        summary.published += result.published;
        summary.messages += result.messages;
        if (result.outcome === 'done') summary.done++;
        if (result.outcome === 'paused') handOver.push(item.slot);
        report({ ...base, outcome: result.outcome, published: result.published });
      } catch (err) {
        // Left fanning at its last checkpoint: the next tick takes it over once it is stale.
        summary.failed++;
        deps.log?.error(
          { slot: base.slot, ...slotLogFields(item.slot), fence: item.slot.fence, err },
          'fan-out failed',
        );
        report({ ...base, outcome: 'failed', published: 0 });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.settings.slotConcurrency) }, worker));
  if (handOver.length === 0) return;
  try {
    await deps.publisher.publishContinuations(
      handOver.map((s) => ({
        v: 1,
        taskId: s.taskId,
        group: s.group,
        periodKey: s.periodKey,
        fence: s.fence,
      })),
    );
    summary.continued += handOver.length;
  } catch (err) {
    // Not lost: the slots stay fanning and the next tick takes them over once stale.
    summary.failed += handOver.length;
    deps.log?.error({ slots: handOver.length, err }, 'continuation publish failed');
  }
}

export function idOf(slot: { taskId: string; group: string; periodKey: string }): string {
  return `${slot.taskId}:${slot.group}:${slot.periodKey}`;
}

/** The task and period of a slot under the names job log lines use, so one query finds both. */
export function slotLogFields(slot: { taskId: string; group: string; periodKey: string }) {
  return { task: slot.taskId, period: slot.periodKey, group: slot.group };
}

// One scheduler tick: under the lock, detect due periods, claim their slots, take over abandoned ones, fan out, hand over.
//
// Round trips before any fan-out, whatever the catalog size (auto-pipelining batches concurrent
// commands): 1 lock grant; 1 script (paused set, every task's zone groups, active slots); 1 MGET
// per 1,000 (task, group) pairs for the last claimed periods; 1 pipeline of claims and take-overs.
// After the fan-out, 1 pipeline records the status and the tick's metrics (tick-record.ts).
import { nextDue } from '../domain/periods.js';
import { periodStatsTtlMs } from '../metrics/buckets.js';
import { readTickState } from './tick-state.js';
import { stopSignal, type SchedulerDeps, type TimeLeft } from './deps.js';
import type { DlqSweepResult } from './dlq-reconcile.js';
import { fanOutAll, idOf, slotLogFields, type OwnedSlot, type SlotReport } from './fanout.js';
import { SchedulerLock } from './lock.js';
import { planCapacity } from './plan-capacity.js';
import { planSlot, type ClaimPlan, type GroupState, type SkipReason, type SlotPlan } from './plan.js';
import { SlotStore } from './slots.js';
import { recordTick } from './tick-record.js';

export type { SlotReport };

export interface TickSummary {
  /** Another tick held the lock: this one did nothing. */
  locked: boolean;
  fence?: number;
  now: string;
  claimed: number;
  resumed: number;
  /** Jobs published. */
  published: number;
  /** QStash messages they travelled in (a batch is one). */
  messages: number;
  done: number;
  /** Slots handed to a continuation message. */
  continued: number;
  failed: number;
  skipped: Partial<Record<SkipReason | 'paused', number>>;
  /** The first 100 slots worked on. */
  slots: SlotReport[];
  /** What the QStash-DLQ sweep did, when this tick ran one. */
  dlq?: DlqSweepResult;
}

export async function runTick(
  deps: SchedulerDeps,
  opts: { holder: string; timeLeft: TimeLeft },
): Promise<TickSummary> {
  const { settings, keys, redis } = deps;
  const now = deps.clock();
  const started = performance.now();
  const summary: TickSummary = {
    locked: false,
    now: new Date(now).toISOString(),
    claimed: 0,
    resumed: 0,
    published: 0,
    messages: 0,
    done: 0,
    continued: 0,
    failed: 0,
    skipped: {},
    slots: [],
  };
  const lock = new SchedulerLock(redis, keys, { ttlMs: settings.lockTtlMs });
  const grant = await lock.acquire(opts.holder, now);
  if (!grant) return { ...summary, locked: true };
  summary.fence = grant.fence;
  const alive = lock.keepAlive(grant, (err) =>
    deps.log?.warn({ fence: grant.fence, err }, 'scheduler lock lost'),
  );
  const shouldStop = stopSignal(settings, opts.timeLeft);
  const slots = new SlotStore(redis, keys, settings);
  try {
    const owned = await claimDueSlots(deps, slots, grant.fence, now, summary);
    await fanOutAll(deps, slots, owned, () => shouldStop() || alive.lost(), summary);
    // After the fan-out (the tick's first duty), and never failing the tick: the next sweep retries.
    if (deps.sweepDlq && !shouldStop() && !alive.lost()) {
      const dlq = await deps.sweepDlq().catch((err: unknown) => {
        deps.log?.warn({ err }, 'QStash DLQ sweep failed');
        return undefined;
      });
      if (dlq?.swept) summary.dlq = dlq;
    }
    await recordTick(redis, keys, {
      now,
      fence: grant.fence,
      durationMs: performance.now() - started,
      claimed: summary.claimed,
      resumed: summary.resumed,
      failed: summary.failed,
      summary: { ...summary, slots: undefined },
    });
    return summary;
  } finally {
    alive.stop();
    await lock
      .release(grant)
      .catch((err: unknown) => deps.log?.warn({ err }, 'scheduler lock release failed'));
  }
}

/** Reads the indexes' zone groups, plans each (task, group), claims new slots and takes over abandoned ones. */
async function claimDueSlots(
  deps: SchedulerDeps,
  slots: SlotStore,
  fence: number,
  now: number,
  summary: TickSummary,
): Promise<OwnedSlot[]> {
  const { redis, keys, tasks, settings } = deps;
  const taskList = [...tasks.values()];
  // One command: paused set, every task's zone groups, the active slots.
  const { paused, zones, active } = await readTickState(
    redis,
    keys,
    taskList.map((t) => t.id),
    (k) => slots.slotIdOf(k),
  );

  const groups: Omit<GroupState, 'lastDueAt'>[] = [];
  taskList.forEach((task, i) => {
    if (paused.has(task.id)) {
      bump(summary.skipped, 'paused');
      return;
    }
    for (const [group, count] of Object.entries(zones[i] ?? {})) {
      // A fixed-zone task normally has only '_'; a group left over from a policy change is its own slot, in the task's zone.
      const members = Number(count);
      if (Number.isFinite(members) && members > 0) groups.push({ task, group, members });
    }
  });
  const lastDueAts = await slots.lastDueAts(groups.map((g) => ({ taskId: g.task.id, group: g.group })));
  const plans: SlotPlan[] = groups.map((g, i) =>
    planSlot({ ...g, lastDueAt: lastDueAts[i] }, now, settings.lateAfterMs, settings.limitGuardMs),
  );

  const claims = planTogether(
    deps,
    plans.filter((p): p is ClaimPlan => p.kind === 'claim'),
  );
  for (const p of plans) if (p.kind === 'skip') bump(summary.skipped, p.reason);
  const claimedKeys = new Set(
    claims.map((p) => idOf({ taskId: p.taskId, group: p.group, periodKey: p.period.key })),
  );
  const resumable = active.filter(
    (id) => !claimedKeys.has(idOf(id)) && tasks.has(id.taskId) && !paused.has(id.taskId),
  );

  const [claimOutcomes, resumeOutcomes] = await Promise.all([
    Promise.all(
      claims.map((p) => {
        const task = tasks.get(p.taskId);
        const statsTtlMs = task ? periodStatsTtlMs(task.schedule) : undefined;
        return slots.claim(p, fence, now, settings.staleAfterMs, statsTtlMs);
      }),
    ),
    Promise.all(resumable.map((id) => slots.resume(id, fence, now, settings.staleAfterMs))),
  ]);
  const owned: OwnedSlot[] = [];
  for (const outcome of [...claimOutcomes, ...resumeOutcomes]) {
    if (outcome.kind !== 'claimed' && outcome.kind !== 'resumed') continue;
    const task = tasks.get(outcome.slot.taskId);
    if (!task) continue;
    if (outcome.kind === 'claimed') summary.claimed++;
    else summary.resumed++;
    deps.log?.info(
      {
        slot: idOf(outcome.slot),
        ...slotLogFields(outcome.slot),
        fence,
        total: outcome.slot.total,
        count: outcome.slot.count,
        backfilled: outcome.slot.backfilled,
      },
      outcome.kind === 'claimed' ? 'slot claimed' : 'slot resumed',
    );
    owned.push({ slot: outcome.slot, how: outcome.kind, retries: task.retries });
  }
  return owned;
}

/** The claims' windows widened so that slots sharing a limit fit it together (plan-capacity.ts). */
function planTogether(deps: SchedulerDeps, claims: ClaimPlan[]): ClaimPlan[] {
  // A slot alone keeps its own plan: no next-period lookups for the common tick.
  if (claims.length < 2) return claims;
  const { tasks, settings } = deps;
  const slots = claims.map((plan) => {
    const task = tasks.get(plan.taskId);
    if (!task) return { plan, limits: [], endBy: plan.startAt + plan.windowMs };
    return {
      plan,
      limits: task.rateLimits,
      endBy: nextDue(task.schedule, plan.period.dueAtMs, plan.tz).dueAtMs,
    };
  });
  const joint = planCapacity(slots, settings.limitGuardMs);
  if (joint.widened > 0)
    deps.log?.info({ slots: slots.length, widened: joint.widened }, 'slots planned together');
  // One line per tick, however many slots: the first few in full, the rest counted.
  if (joint.capped.length > 0)
    deps.log?.warn(
      {
        capped: joint.capped.length,
        slots: joint.capped.slice(0, 20).map((c) => ({
          slot: idOf(c),
          neededMs: c.neededMs,
          windowMs: c.windowMs,
          reason: c.reason,
          limit: c.limit,
        })),
      },
      'slot windows capped: the worker limiter will defer the excess',
    );
  return joint.plans;
}

function bump<K extends string>(counts: Partial<Record<K, number>>, key: K): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

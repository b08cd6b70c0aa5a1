// What the scheduler is doing: last tick, lock holder, slots still fanning out with their progress.
import { z } from 'zod';
import type { SchedulerDeps } from './deps.js';
import { idOf } from './fanout.js';
import { unsettledPeriods, type UnsettledPeriod } from './settlement.js';
import { SlotStore } from './slots.js';

export interface SchedulerStatus {
  lastTick: { at: string; fence: number; summary: unknown } | null;
  lock: {
    held: boolean;
    holder: string | null;
    fence: number | null;
    since: string | null;
    ttlMs: number | null;
  };
  slots: Array<{
    slot: string;
    taskId: string;
    group: string;
    periodKey: string;
    fence: number;
    count: number;
    total: number;
    backfilled: boolean;
    claimedAt: string;
    updatedAt: string;
  }>;
  /** Recent periods whose windows ended with jobs neither run, dead-lettered nor skipped. */
  unsettled: UnsettledPeriod[];
}

const StatusHash = z.object({
  holder: z.coerce.string().optional(),
  holderFence: z.coerce.number().optional(),
  lockedAt: z.coerce.number().optional(),
  lastTickAt: z.coerce.number().optional(),
  lastTickFence: z.coerce.number().optional(),
  lastTick: z.unknown().optional(),
});

const iso = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export async function readStatus(
  deps: Pick<SchedulerDeps, 'redis' | 'keys' | 'settings'>,
  limit = 100,
  now = Date.now(),
): Promise<SchedulerStatus> {
  const { redis, keys } = deps;
  const slots = new SlotStore(redis, keys, deps.settings);
  const [rawStatus, ttl, active, recent] = await Promise.all([
    redis.hgetall<Record<string, unknown>>(keys.schedulerStatus),
    redis.pttl(keys.schedulerLock),
    slots.activeSlotIds(limit),
    slots.recentSlotIds(now - deps.settings.doneRetentionMs),
  ]);
  const status = StatusHash.parse(rawStatus ?? {});
  const [states, recentStates] = await Promise.all([slots.read(active), slots.read(recent)]);
  const unsettled = await unsettledPeriods(redis, keys, recentStates, now);
  const held = ttl > 0;
  const lastTickAt = iso(status.lastTickAt);
  return {
    lastTick:
      lastTickAt === null
        ? null
        : {
            at: lastTickAt,
            fence: status.lastTickFence ?? 0,
            summary:
              typeof status.lastTick === 'string'
                ? (JSON.parse(status.lastTick) as unknown)
                : (status.lastTick ?? null),
          },
    lock: {
      held,
      holder: held ? (status.holder ?? null) : null,
      fence: held ? (status.holderFence ?? null) : null,
      since: held ? iso(status.lockedAt) : null,
      ttlMs: held ? ttl : null,
    },
    slots: states
      .filter((s) => s !== undefined)
      .map((s) => ({
        slot: idOf(s),
        taskId: s.taskId,
        group: s.group,
        periodKey: s.periodKey,
        fence: s.fence,
        count: s.count,
        total: s.total,
        backfilled: s.backfilled,
        claimedAt: iso(s.claimedAt) ?? '',
        updatedAt: iso(s.updatedAt) ?? '',
      })),
    unsettled,
  };
}

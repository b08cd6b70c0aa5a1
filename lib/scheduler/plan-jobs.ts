// Pure construction of one page's job messages from user ids, their ranks and the slot's spread window.
import { createHash } from 'node:crypto';
import { jobIdOf } from '../domain/ids.js';
import type { JobMessage } from '../domain/job.js';
import { notBeforeOf, type SpreadWindow } from './plan-spread.js';

export interface SlotJobs extends SpreadWindow {
  taskId: string;
  periodKey: string;
  backfilled: boolean;
}

/**
 * The slot's one draw u in [0,1), the same for every rank: jobs sit exactly W/N apart (a lattice with a
 * per-slot phase), so a stretched window meets its rate limit without deferrals (independent draws can
 * put two jobs a few ms apart across a stratum boundary). Derived from the slot's identity, so a resumed
 * fan-out re-plans a page to the same times.
 */
export function slotPhase(slot: Pick<SlotJobs, 'taskId' | 'periodKey' | 'startAt'>): number {
  const h = createHash('sha256').update(`${slot.taskId}\n${slot.periodKey}\n${slot.startAt}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/** Jobs for `userIds`, the first of which has rank `firstRank`; `random` places members beyond the claimed total. */
export function planJobs(
  slot: SlotJobs,
  userIds: readonly string[],
  firstRank: number,
  now: number,
  random: () => number,
): JobMessage[] {
  const phase = slotPhase(slot);
  return userIds.map((userId, i) => ({
    v: 1,
    jobId: jobIdOf(slot.taskId, userId, slot.periodKey),
    taskId: slot.taskId,
    userId,
    periodKey: slot.periodKey,
    notBefore: notBeforeOf(slot, firstRank + i, firstRank + i < slot.total ? phase : random(), now),
    origin: 'scheduled',
    backfilled: slot.backfilled,
    deferrals: 0,
  }));
}

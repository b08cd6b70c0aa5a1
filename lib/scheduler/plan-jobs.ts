// Pure construction of one page's job messages from user ids, their ranks and the slot's spread window.
import { jobIdOf } from '../domain/ids.js';
import type { JobMessage } from '../domain/job.js';
import { notBeforeOf, type SpreadWindow } from './plan-spread.js';

export interface SlotJobs extends SpreadWindow {
  taskId: string;
  periodKey: string;
  backfilled: boolean;
}

/** Jobs for `userIds`, the first of which has rank `firstRank`; `random` draws each job's u in [0,1). */
export function planJobs(
  slot: SlotJobs,
  userIds: readonly string[],
  firstRank: number,
  now: number,
  random: () => number,
): JobMessage[] {
  return userIds.map((userId, i) => ({
    v: 1,
    jobId: jobIdOf(slot.taskId, userId, slot.periodKey),
    taskId: slot.taskId,
    userId,
    periodKey: slot.periodKey,
    notBefore: notBeforeOf(slot, firstRank + i, random(), now),
    origin: 'scheduled',
    backfilled: slot.backfilled,
    deferrals: 0,
  }));
}

// Which recent periods have jobs that never settled (succeeded, dead-lettered or skipped) after their window ended.
import type { Redis } from '@upstash/redis';
import type { Keys } from '../store/keys.js';
import type { SlotState } from './slots.js';

export interface UnsettledPeriod {
  taskId: string;
  periodKey: string;
  /** ISO 8601: the end of the period's last spread window. */
  windowEnd: string;
  planned: number;
  /** Jobs that succeeded, were dead-lettered or skipped. */
  settled: number;
  /** planned - settled: jobs neither run nor in stagger's dead letters (yet). */
  unsettled: number;
}

/**
 * Periods of the given (done) slots whose windows have all ended while fewer jobs settled than were
 * planned. Zone groups of a task share a period's stats, so they are judged together. Jobs still in
 * QStash's retries count as unsettled until they end; the DLQ sweep settles those QStash gave up on.
 */
export async function unsettledPeriods(
  redis: Pick<Redis, 'hmget'>,
  keys: Keys,
  slots: readonly (SlotState | undefined)[],
  now: number,
): Promise<UnsettledPeriod[]> {
  const periods = new Map<string, { taskId: string; periodKey: string; end: number; open: boolean }>();
  for (const s of slots) {
    if (!s) continue;
    const id = `${s.taskId} ${s.periodKey}`;
    const p = periods.get(id) ?? { taskId: s.taskId, periodKey: s.periodKey, end: 0, open: false };
    p.end = Math.max(p.end, s.startAt + s.windowMs);
    p.open ||= s.state !== 'done';
    periods.set(id, p);
  }
  const ended = [...periods.values()].filter((p) => !p.open && p.end <= now);
  const stats = await Promise.all(
    ended.map((p) =>
      redis.hmget<Record<string, unknown>>(
        keys.periodStats(p.taskId, p.periodKey),
        'planned',
        'succeeded',
        'dead',
        'skipped',
      ),
    ),
  );
  const out: UnsettledPeriod[] = [];
  ended.forEach((p, i) => {
    const s = stats[i] ?? {};
    const n = (f: string) => Number(s[f] ?? 0) || 0;
    const planned = n('planned');
    const settled = n('succeeded') + n('dead') + n('skipped');
    if (planned > settled) {
      out.push({
        taskId: p.taskId,
        periodKey: p.periodKey,
        windowEnd: new Date(p.end).toISOString(),
        planned,
        settled,
        unsettled: planned - settled,
      });
    }
  });
  return out;
}

// GET /v1/overview: the scheduler, every task type with its next and last period, a starts chart, limits and dead letters, in three round trips.
import type { Redis } from '@upstash/redis';
import { scheduleView } from '../admin/catalog-views.js';
import type { Catalog, Task } from '../domain/catalog.js';
import { nextDue } from '../domain/periods.js';
import { startsBucketMs } from '../metrics/buckets.js';
import { TASK_COUNTERS, type MetricsHash } from '../metrics/fields.js';
import { readMetrics, type MetricsRedis } from '../metrics/live.js';
import { zoneOfGroup } from '../scheduler/plan.js';
import type { Keys } from '../store/keys.js';
import type { DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import type { Overview } from './schemas.js';
import { binStarts, startBuckets } from './starts-chart.js';

export type OverviewRedis = MetricsRedis & Pick<Redis, 'smembers' | 'mget'>;

export interface OverviewDeps {
  redis: OverviewRedis;
  keys: Keys;
  catalog: Catalog;
  guardMs: number;
  deadLetters: Pick<DeadLetterStore, 'list'>;
  now: number;
}

/** Dead letters shown on the page; the list API pages through the rest. */
export const OVERVIEW_DEAD_LETTERS = 20;

interface LastSlot {
  group: string;
  dueAt: number;
  periodKey: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);

/** `lastslot` values are "<dueAt ms>:<period key>". */
function parseLastSlot(group: string, raw: unknown): LastSlot | undefined {
  if (raw === null || raw === undefined) return undefined;
  const text = String(raw);
  const colon = text.indexOf(':');
  const dueAt = Number(text.slice(0, colon));
  return colon > 0 && Number.isSafeInteger(dueAt)
    ? { group, dueAt, periodKey: text.slice(colon + 1) }
    : undefined;
}

function nextPeriodOf(task: Task, groups: readonly string[], now: number) {
  let best: { key: string; dueAt: number; zone: string } | null = null;
  for (const group of groups) {
    const zone = zoneOfGroup(task, group);
    try {
      const p = nextDue(task.schedule, now, zone);
      if (!best || p.dueAtMs < best.dueAt) best = { key: p.key, dueAt: p.dueAtMs, zone };
    } catch {
      // A zone group this runtime cannot resolve: the scheduler skips it too.
    }
  }
  return best && { key: best.key, dueAt: iso(best.dueAt), zone: best.zone };
}

function totalsOf(hash: MetricsHash): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(TASK_COUNTERS.map((c) => [c, 0]));
  for (const t of hash.tasks.values()) for (const c of TASK_COUNTERS) totals[c]! += t.counters[c] ?? 0;
  return totals;
}

export async function readOverview(deps: OverviewDeps, chartTask?: string): Promise<Overview> {
  const { redis, keys, catalog, now } = deps;
  const tasks = catalog.tasks;
  // Stage 1, one pipelined request: metrics, status, limits, counts, paused, zone groups, dead letters.
  const [reading, paused, zones, deadLetters] = await Promise.all([
    readMetrics(redis, keys, { catalog, guardMs: deps.guardMs, now }),
    redis.smembers(keys.pausedTasks).then((m) => new Set(m.map(String))),
    Promise.all(tasks.map((t) => redis.hgetall<Record<string, unknown>>(keys.taskZones(t.id)))),
    deps.deadLetters.list(undefined, OVERVIEW_DEAD_LETTERS),
  ]);
  const groupsOf = tasks.map((_, i) =>
    Object.entries(zones[i] ?? {})
      .filter(([, n]) => num(n) > 0)
      .map(([g]) => g),
  );

  // Stage 2: the last claimed period of every (task, group).
  const pairs = tasks.flatMap((t, i) => (groupsOf[i] ?? []).map((group) => ({ taskId: t.id, group })));
  const raw =
    pairs.length === 0
      ? []
      : await redis.mget<unknown[]>(...pairs.map((p) => keys.lastSlot(p.taskId, p.group)));
  const last = new Map<string, LastSlot>();
  pairs.forEach((p, i) => {
    const slot = parseLastSlot(p.group, raw[i]);
    const best = last.get(p.taskId);
    if (slot && (!best || slot.dueAt > best.dueAt)) last.set(p.taskId, slot);
  });

  // The chart shows the asked task's last window, else the most recently claimed one.
  let chartId = chartTask && last.has(chartTask) ? chartTask : undefined;
  if (!chartId) for (const [id, s] of last) if (!chartId || s.dueAt > last.get(chartId)!.dueAt) chartId = id;

  // Stage 3: period stats of each last period, and the chart slot's window.
  const withLast = tasks.filter((t) => last.has(t.id));
  const chartSlot = chartId ? last.get(chartId) : undefined;
  const [stats, slotHash] = await Promise.all([
    Promise.all(
      withLast.map((t) =>
        redis.hgetall<Record<string, unknown>>(keys.periodStats(t.id, last.get(t.id)!.periodKey)),
      ),
    ),
    chartId && chartSlot
      ? redis.hgetall<Record<string, unknown>>(keys.slot(chartId, chartSlot.group, chartSlot.periodKey))
      : null,
  ]);
  const statsOf = new Map(withLast.map((t, i) => [t.id, stats[i] ?? {}]));

  const taskTypes = tasks.map((task, i) => {
    const l = last.get(task.id);
    const s = statsOf.get(task.id) ?? {};
    return {
      id: task.id,
      description: task.description,
      schedule: scheduleView(task.schedule),
      zone: task.zone,
      enabled: task.enabled,
      paused: paused.has(task.id),
      users: reading.users[task.id] ?? 0,
      nextPeriod: nextPeriodOf(task, groupsOf[i] ?? [], now),
      lastPeriod: l
        ? {
            key: l.periodKey,
            dueAt: iso(l.dueAt),
            planned: num(s['planned']),
            started: num(s['started']),
            succeeded: num(s['succeeded']),
            failed: num(s['failed']),
            dead: num(s['dead']),
            skipped: num(s['skipped']),
            deferred: num(s['deferred']),
          }
        : null,
    };
  });

  let chart: Overview['chart'] = null;
  const chartTaskDef = tasks.find((t) => t.id === chartId);
  if (chartId && chartSlot && chartTaskDef && slotHash && slotHash['startAt'] !== undefined) {
    const window = { startAt: num(slotHash['startAt']), windowMs: num(slotHash['windowMs']) };
    const bins = binStarts(
      startBuckets(statsOf.get(chartId) ?? {}),
      window,
      startsBucketMs(chartTaskDef.spreadMs),
    );
    chart = {
      taskId: chartId,
      group: chartSlot.group,
      periodKey: chartSlot.periodKey,
      startAt: iso(window.startAt),
      windowMs: window.windowMs,
      barMs: bins.barMs,
      planned: num(slotHash['total']),
      counts: bins.counts,
      after: bins.after,
      outside: bins.outside,
    };
  }

  return {
    now: iso(now),
    scheduler: reading.status,
    totals: totalsOf(reading.hash),
    taskTypes,
    chart,
    limits: reading.limits.map((l) => ({
      ...l,
      deferredUntil: l.deferredUntil === null ? null : iso(l.deferredUntil),
    })),
    deadLetters: { total: reading.deadLetters, items: deadLetters.items },
  };
}

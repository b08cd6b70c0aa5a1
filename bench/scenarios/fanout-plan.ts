// The fan-out workload: a generated 300-type catalog, the tick at which most of its types are due for users
// in UTC, and N (task, user) pairs spread over those due types. Both sides enqueue exactly these jobs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCatalogYaml } from '../../scripts/generate-catalog.js';
import { parseCatalog, zoneOf, type Catalog, type Task } from '../../lib/domain/catalog.js';
import { nextDue, periodOf } from '../../lib/domain/periods.js';
import { MINUTE_MS } from '../../lib/domain/zoned-time.js';

export const CATALOG_TYPES = 300;
export const USER_ZONE = 'UTC';
/** Users' ids: `u000000`, `u000001`, ... (fixed width, so id order is numeric order). */
export const userId = (i: number): string => `u${String(i).padStart(6, '0')}`;

export interface FanoutSlot {
  taskId: string;
  periodKey: string;
  /** The run instant of the period (the window starts here), epoch ms. */
  dueAtMs: number;
  spreadMs: number;
  /** Users 0..users-1 have this task enabled. */
  users: number;
}

export interface FanoutPlan {
  tickMs: number;
  slots: FanoutSlot[];
  total: number;
}

/** Writes the generated catalog where the functions (STAGGER_CATALOG_PATH) and children can read it. */
export function writeBenchCatalog(dir: string): { path: string; catalog: Catalog } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `catalog-${CATALOG_TYPES}.yaml`);
  const text = generateCatalogYaml(CATALOG_TYPES, 1);
  writeFileSync(path, text);
  return { path, catalog: parseCatalog(text) };
}

const dueAt = (task: Task, tickMs: number) => periodOf(task.schedule, tickMs, zoneOf(task, USER_ZONE));

/** The minute in [fromMs, fromMs + 7 days) at which the most enabled task types are due (a busy tick). */
export function busiestTick(catalog: Catalog, fromMs: number): { tickMs: number; due: Task[] } {
  const toMs = fromMs + 7 * 24 * 60 * MINUTE_MS;
  const byMinute = new Map<number, Task[]>();
  for (const task of catalog.tasks) {
    if (!task.enabled) continue;
    const tz = zoneOf(task, USER_ZONE);
    for (
      let p = nextDue(task.schedule, fromMs - 1, tz);
      p.dueAtMs < toMs;
      p = nextDue(task.schedule, p.dueAtMs, tz)
    ) {
      const list = byMinute.get(p.dueAtMs) ?? [];
      list.push(task);
      byMinute.set(p.dueAtMs, list);
    }
  }
  let best: { tickMs: number; due: Task[] } = { tickMs: fromMs, due: [] };
  for (const [tickMs, due] of [...byMinute].sort((a, b) => a[0] - b[0])) {
    if (due.length > best.due.length) best = { tickMs, due };
  }
  return best;
}

/** N jobs over the due types of a tick: each type gets an equal share of users (the first ones get the remainder). */
export function fanoutPlan(catalog: Catalog, tickMs: number, due: Task[], n: number): FanoutPlan {
  const base = Math.floor(n / due.length);
  const extra = n % due.length;
  const slots = due.map((task, i) => {
    const period = dueAt(task, tickMs);
    return {
      taskId: task.id,
      periodKey: period.key,
      dueAtMs: period.dueAtMs,
      spreadMs: task.spreadMs,
      users: base + (i < extra ? 1 : 0),
    };
  });
  return { tickMs, slots, total: n };
}

// Scenario 6, shared limit: the 17 task types due together at the busiest tick of the fixed week (03:00 UTC, the
// 300-type catalog of scenario 1) under one global limit, driven through a real scheduler tick and real deliveries
// (broker -> worker function -> recording target). Measures the deferral re-publishes per job, the sliding windows
// over the limit and the achieved rate, and reads each slot's planned window from its state in Redis.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { stringify } from 'yaml';
import type { Catalog, Task } from '../../lib/domain/catalog.js';
import type { BenchEnv } from '../lib/bench-env.js';
import { GOAL_ROWS } from '../lib/goals.js';
import { cell, na, text, type MetricRow, type ScenarioReport } from '../lib/report.js';
import { Failures, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { seedPreferences } from '../lib/seed.js';
import { brokerDrained, startStaggerStack, waitUntil } from '../lib/stagger-stack.js';
import { fmt, summarize } from '../lib/stats.js';
import { achievedRate, maxInSlidingWindow, windowsOverLimit } from '../lib/windows.js';
import { fakeContext } from '../../test/helpers/lambda-http.js';
import { busiestTick, userId, writeBenchCatalog } from './fanout-plan.js';

type Tick = (
  event: unknown,
  context: Context,
) => Promise<{ published: number; messages: number; claimed: number; locked: boolean }>;

/** The fixed week of scenario 1 (its busiest tick is 2026-11-30T03:00Z). */
const WEEK_START = Date.UTC(2026, 10, 30);
const WINDOW_MS = 1000;
const TITLE = '6. Shared limit: the task types of one tick under one global limit';

export interface SharedSize {
  /** Users with every due type enabled: jobs per type. */
  usersPerType: number;
  /** The global limit, jobs per second. */
  limit: number;
  /** Each type's spread in the bench catalog, s. */
  spreadS: number;
}

export const sharedSize = (quick: boolean): SharedSize =>
  quick ? { usersPerType: 20, limit: 20, spreadS: 5 } : { usersPerType: 60, limit: 40, spreadS: 10 };

export interface PlannedWindow {
  taskId: string;
  startAt: number;
  windowMs: number;
  total: number;
}

export interface SharedRun {
  jobs: number;
  deferralsPerJob: number;
  overLimit: number;
  maxWindow: number;
  rateOverLimit: number;
  /** From the first to the last arrival, s. */
  busyS: number;
  slots: PlannedWindow[];
  /** From the earliest planned start to the latest planned end over all slots, s. */
  plannedSpanS: number;
}

/** The due types of the fixed week's busiest tick, re-timed: every minute in UTC, a short spread, only the global limit. */
export function sharedCatalogYaml(due: readonly Task[], size: SharedSize): string {
  const doc = {
    version: 1,
    baseUrl: 'http://127.0.0.1:4000',
    allowedHosts: ['127.0.0.1', 'localhost'],
    rateLimits: { global: { limit: size.limit, window: '1s' } },
    tasks: due.map((t) => ({
      id: t.id,
      description: t.description,
      schedule: { cron: '* * * * *' },
      zone: { policy: 'fixed', tz: 'UTC' },
      spread: `${size.spreadS}s`,
      target: {
        method: 'POST',
        url: `{{baseUrl}}/tasks/${t.id}`,
        body: { userId: '{{userId}}', period: '{{periodKey}}' },
      },
      timeoutMs: 10_000,
      retries: 3,
      rateLimits: [],
    })),
  };
  return `# Written by bench/scenarios/shared-limit.ts: the ${due.length} types due at the fixed week's busiest tick, re-timed.\n${stringify(doc)}`;
}

/**
 * The catalog runs every minute, so a slot's window is capped at the next minute: a tick late in the minute would
 * measure that cap, not the joint plan. Ticks in the first half of a minute (waiting for the next one when needed).
 */
async function startOfMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 30_000) await new Promise((r) => setTimeout(r, 60_000 - into + 500));
}

function dueTypes(): { catalog: Catalog; tickMs: number; due: Task[] } {
  const { catalog } = writeBenchCatalog('.local/bench');
  const { tickMs, due } = busiestTick(catalog, WEEK_START);
  return { catalog, tickMs, due };
}

/** Every slot hash under the stack's prefix, as planned at the claim. */
async function plannedWindows(env: BenchEnv, prefix: string): Promise<PlannedWindow[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await env.appAdmin.scan(cursor, 'MATCH', `${prefix}slot:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: PlannedWindow[] = [];
  for (const key of keys) {
    const h = await env.appAdmin.hgetall(key);
    if (h['startAt'] === undefined || h['windowMs'] === undefined) continue;
    out.push({
      taskId: h['taskId'] ?? key.slice(`${prefix}slot:`.length).split(':')[0] ?? key,
      startAt: Number(h['startAt']),
      windowMs: Number(h['windowMs']),
      total: Number(h['total'] ?? 0),
    });
  }
  return out.sort((a, b) => a.taskId.localeCompare(b.taskId));
}

async function oneRun(ctx: ScenarioContext, due: Task[], size: SharedSize): Promise<SharedRun> {
  const { env } = ctx;
  const dir = '.local/bench';
  mkdirSync(dir, { recursive: true });
  const catalogPath = join(dir, `catalog-shared-limit-${size.limit}.yaml`);
  writeFileSync(catalogPath, sharedCatalogYaml(due, size));
  const stack = await startStaggerStack(env, {
    brokerConcurrency: 32,
    users: 0,
    globalLimit: `${size.limit}/1s`,
    catalogPath,
  });
  try {
    await seedPreferences(env.appAdmin, {
      prefix: stack.prefix,
      users: size.usersPerType,
      userId,
      zone: 'UTC',
      enables: due.map((t) => ({ taskId: t.id, users: size.usersPerType, policy: 'fixed' as const })),
    });
    const jobs = due.length * size.usersPerType;
    const tick = ((await import('../../functions/scheduler.js')) as { tick: Tick }).tick;
    await stack.broker.service.reset();
    await startOfMinute();
    const summary = await tick({}, fakeContext('schedulerTick', 60));
    if (summary.published !== jobs)
      throw new Error(`the tick published ${summary.published} of ${jobs} jobs (claimed ${summary.claimed})`);
    const slots = await plannedWindows(env, stack.prefix);
    // Drained at the limit, with room for deferrals coming back late.
    await waitUntil(
      () => stack.target.hits.length >= jobs,
      60_000 + (jobs / size.limit) * 4000,
      `${jobs} arrivals at the target`,
    );
    await brokerDrained(env, stack);
    const published = (await stack.broker.service.counts()).rest.units;
    const arrivals = stack.target.hits.map((h) => h.at);
    const first = Math.min(...arrivals);
    const last = Math.max(...arrivals);
    const start = Math.min(...slots.map((s) => s.startAt));
    const end = Math.max(...slots.map((s) => s.startAt + s.windowMs));
    return {
      jobs,
      // Messages published after the tick's own (a batch is one message): deferrals, retries, jobs handed on.
      deferralsPerJob: (published - summary.messages) / jobs,
      overLimit: windowsOverLimit(arrivals, WINDOW_MS, size.limit),
      maxWindow: maxInSlidingWindow(arrivals, WINDOW_MS),
      rateOverLimit: achievedRate(arrivals) / size.limit,
      busyS: (last - first) / 1000,
      slots,
      plannedSpanS: slots.length ? (end - start) / 1000 : Number.NaN,
    };
  } finally {
    await stack.stop();
  }
}

export const sharedLimitScenario: Scenario = {
  id: 'shared-limit',
  title: TITLE,
  async run(ctx) {
    const size = sharedSize(ctx.quick);
    const { tickMs, due } = dueTypes();
    // Each repetition takes its drain time at the limit; three are plenty for counts that barely vary.
    const reps = Math.min(ctx.reps, 3);
    const runs: SharedRun[] = [];
    const failures = new Failures();
    for (let rep = 0; rep < reps; rep++) {
      try {
        const r = await oneRun(ctx, due, size);
        runs.push(r);
        ctx.progress(
          `rep ${rep + 1}/${reps}: ${r.jobs} jobs, ${fmt(r.deferralsPerJob)} deferrals/job, ${r.overLimit} sliding windows over, ` +
            `${fmt(r.rateOverLimit)} of the limit over ${fmt(r.busyS)} s; planned windows ${describeWindows(r.slots)}`,
        );
      } catch (err) {
        ctx.progress(`rep ${rep + 1}/${reps} failed: ${failures.add('stagger', err)}`);
      }
    }
    return report(reps, size, tickMs, due, runs, failures);
  },
};

/** "17 slots, 5.00–5.00 s (median 5.00 s), starts within 0.12 s" */
export function describeWindows(slots: readonly PlannedWindow[]): string {
  if (slots.length === 0) return 'none read';
  const w = summarize(slots.map((s) => s.windowMs / 1000));
  const starts = slots.map((s) => s.startAt);
  const startSpread = (Math.max(...starts) - Math.min(...starts)) / 1000;
  return `${slots.length} slots, ${fmt(w.min)}–${fmt(w.max)} s (median ${fmt(w.median)} s), starts within ${fmt(startSpread)} s`;
}

function report(
  reps: number,
  size: SharedSize,
  tickMs: number,
  due: Task[],
  runs: SharedRun[],
  failures: Failures,
): ScenarioReport {
  const col = (pick: (r: SharedRun) => number, unit?: string) =>
    runs.length ? cell(summarize(runs.map(pick)), unit) : na(failures.reason('stagger'));
  const med = (pick: (r: SharedRun) => number) =>
    runs.length ? summarize(runs.map(pick)).median : Number.NaN;
  const verdict = (ok: boolean): MetricRow['verdict'] =>
    runs.length === 0 ? 'not measured' : ok ? 'met' : 'missed';
  const deferrals = med((r) => r.deferralsPerJob);
  const maxOver = runs.length ? Math.max(...runs.map((r) => r.overLimit)) : Number.NaN;
  const jobs = due.length * size.usersPerType;
  const rows: MetricRow[] = [
    {
      metric: GOAL_ROWS.sharedDeferrals,
      cells: [col((r) => r.deferralsPerJob)],
      target: '≤ 0.05',
      verdict: verdict(deferrals <= 0.05),
      ...(deferrals > 0.05 ? { note: `(by ${fmt(deferrals - 0.05)})` } : {}),
    },
    {
      metric: GOAL_ROWS.rateWindowsOver,
      cells: [col((r) => r.overLimit)],
      target: '0 in every repetition',
      verdict: verdict(maxOver === 0),
    },
    {
      metric: 'largest count in any sliding 1 s window',
      cells: [col((r) => r.maxWindow)],
      target: `≤ ${size.limit}`,
      verdict: verdict(med((r) => r.maxWindow) <= size.limit),
    },
    {
      metric: 'achieved rate / limit over the busy stretch (first to last arrival)',
      cells: [col((r) => r.rateOverLimit)],
    },
    { metric: 'busy stretch, first to last arrival', cells: [col((r) => r.busyS, 's')] },
    {
      metric: 'planned windows per slot (slot state: windowMs, startAt)',
      cells: [text(runs.length ? describeWindows(runs[runs.length - 1]!.slots) : 'not available')],
    },
    {
      metric: 'planned span of all slots together (earliest start to latest end)',
      cells: [col((r) => r.plannedSpanS, 's')],
    },
    {
      metric: 'span the limit needs for all the jobs: jobs / limit',
      cells: [text(`${fmt(jobs / size.limit)} s`)],
    },
  ];
  return {
    id: 'shared-limit',
    title: TITLE,
    params: {
      'task types': due.length,
      'jobs per type': size.usersPerType,
      jobs,
      'global limit (jobs/s)': size.limit,
      'spread per type': `${size.spreadS} s`,
      reps,
    },
    columns: ['stagger'],
    rows,
    notes: [
      `The ${due.length} task types due at ${new Date(tickMs).toISOString()} (the busiest tick of the fixed week for users in UTC, scenario 1's 300-type catalog): ` +
        `${due.map((t) => t.id).join(', ')}. In a bench catalog they keep their ids but run every minute in UTC with a ${size.spreadS} s spread and only the global limit ` +
        `(${size.limit}/s), so a real tick can claim all ${due.length} slots now and the run takes well under a minute.`,
      `Sizes: ${size.usersPerType} users with every type enabled, so ${jobs} jobs. One type's window allows ${fmt(size.limit * size.spreadS)} jobs (${size.limit}/s × ${size.spreadS} s), ` +
        `more than its ${size.usersPerType}: no slot alone needs a longer window. All ${due.length} together are ${fmt(jobs / size.spreadS)}/s planned into ${size.spreadS} s, ` +
        `${fmt(jobs / size.spreadS / size.limit)}× the limit: only planning the slots that share the limit together keeps them from being deferred at the worker.`,
      'Driven end to end: functions/scheduler.ts tick (the EventBridge entry) claims and fans out every slot into the local broker; the broker delivers with 32 in flight to the worker function, ' +
        'which calls a recording target. Deferral re-publishes = QStash messages published after the tick (beyond its own: deferrals, retries and jobs a batch handed on) / jobs. Windows over the limit are sliding 1 s windows anchored at every arrival.',
      'Planned windows are read from each slot hash in Redis right after the tick (startAt, windowMs, total, as the claim wrote them); per-slot values are in the JSON.',
      ...failures.notes(),
    ],
    raw: runs.map((r) => ({ ...r })),
  };
}

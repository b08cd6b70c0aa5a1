// Scenario 1, fan-out: N jobs due in one tick of a 300-type catalog, enqueued by stagger's scheduler into the
// local broker vs BullMQ's Queue.addBulk; jobs/s, Redis commands per job, peak RSS of the enqueuing process.
import { randomBytes } from 'node:crypto';
import type { Catalog } from '../../lib/domain/catalog.js';
import { runInChild } from '../lib/child.js';
import { cell, na, text, type MetricRow, type ScenarioReport } from '../lib/report.js';
import {
  readCommandStats,
  resetCommandStats,
  scriptCalls,
  topCommandsPerJob,
  totalCalls,
} from '../lib/redis-stats.js';
import { Failures, sidesInOrder, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { seedPreferences } from '../lib/seed.js';
import { fmt, summarize } from '../lib/stats.js';
import type { FanoutSideResult } from './fanout-bullmq.js';
import type { FanoutChildInput } from './fanout-child.js';
import {
  USER_ZONE,
  busiestTick,
  fanoutPlan,
  userId,
  writeBenchCatalog,
  type FanoutPlan,
} from './fanout-plan.js';

/** `ingest`: the same batches straight into the local broker, no scheduler work: the ceiling the broker sets. */
type Side = 'stagger' | 'bullmq' | 'ingest';

interface SideRun {
  jobsPerS: number;
  cmdsPerJob: number;
  scriptsPerJob: number;
  brokerCmdsPerJob: number;
  peakRssMiB: number;
  baselineRssMiB: number;
  peakHeapMiB: number;
  retainedHeapMiB: number;
  top: string;
}

const CHILD = new URL('./fanout-child.ts', import.meta.url);
// A fixed week to search for the busiest tick: results do not depend on the day the bench runs.
const WEEK_START = Date.UTC(2026, 10, 30);

async function runSide(
  ctx: ScenarioContext,
  side: Side,
  plan: FanoutPlan,
  catalogPath: string,
  catalog: Catalog,
): Promise<SideRun> {
  const { env } = ctx;
  await env.appAdmin.flushall();
  await env.brokerAdmin.flushall();
  let input: FanoutChildInput;
  let broker: Awaited<ReturnType<typeof env.startBroker>> | undefined;
  if (side === 'bullmq') {
    input = {
      side,
      redisPort: env.appRedis.port,
      queueName: `fanout-${randomBytes(3).toString('hex')}`,
      plan,
    };
  } else {
    const prefix = `bench:${randomBytes(4).toString('hex')}:`;
    const maxUsers = Math.max(...plan.slots.map((s) => s.users));
    const policyOf = new Map(catalog.tasks.map((t) => [t.id, t.zone.policy] as const));
    if (side === 'stagger') {
      await seedPreferences(env.appAdmin, {
        prefix,
        users: maxUsers,
        userId,
        zone: USER_ZONE,
        enables: plan.slots.map((s) => ({
          taskId: s.taskId,
          users: s.users,
          policy: policyOf.get(s.taskId) ?? 'user',
        })),
      });
    }
    // A store only: the fan-out is measured until every message is stored, nothing is delivered.
    broker = await env.startBroker({ concurrency: 0, pollIntervalMs: 60_000 });
    input = {
      side,
      plan,
      brokerKeyPrefix: broker.keyPrefix,
      env: env.stackEnv({
        // Straight to the bridge and broker: commands are counted by Redis here, not by the counting proxies.
        redisUrl: env.bridge.url,
        qstashUrl: broker.service.url,
        publicUrl: 'http://127.0.0.1:9/unused',
        prefix,
        targetUrl: 'http://127.0.0.1:9',
        STAGGER_CATALOG_PATH: catalogPath,
        // One invocation does the whole slot set (Lambda's 15-minute ceiling), no continuation hand-over.
        STAGGER_FANOUT_BUDGET_MS: '900000',
      }),
    };
  }
  await resetCommandStats(env.appAdmin);
  await resetCommandStats(env.brokerAdmin);
  const { result, memory } = await runInChild<FanoutChildInput, FanoutSideResult>(CHILD, input);
  const app = await readCommandStats(env.appAdmin);
  const brokerStats = await readCommandStats(env.brokerAdmin);
  const stored =
    side === 'bullmq'
      ? // A job whose delay rounds to 0 waits in the list rather than the delayed set.
        (await env.appAdmin.zcard(`bull:${(input as { queueName: string }).queueName}:delayed`)) +
        (await env.appAdmin.llen(`bull:${(input as { queueName: string }).queueName}:wait`))
      : await env.brokerAdmin.zcard(`${broker!.keyPrefix}due`);
  await broker?.close();
  // The broker stores messages: a batch carries several jobs.
  const expected = result.messages ?? plan.total;
  if (stored !== expected)
    throw new Error(`${side} stored ${stored} of ${expected} messages (${plan.total} jobs)`);
  return {
    jobsPerS: (plan.total * 1000) / result.elapsedMs,
    cmdsPerJob: totalCalls(app) / plan.total,
    scriptsPerJob: scriptCalls(app) / plan.total,
    brokerCmdsPerJob: totalCalls(brokerStats) / plan.total,
    peakRssMiB: memory.maxRssMiB,
    baselineRssMiB: memory.baselineRssMiB,
    peakHeapMiB: memory.peakHeapUsedMiB,
    retainedHeapMiB: memory.retainedHeapMiB,
    top: topCommandsPerJob(app, plan.total),
  };
}

export const fanoutScenario: Scenario = {
  id: 'fanout',
  title: '1. Fan-out: N jobs due in one tick',
  async run(ctx) {
    const sizes = ctx.quick ? [1_000, 3_000] : [10_000, 100_000];
    const { path: catalogPath, catalog } = writeBenchCatalog('.local/bench');
    const { tickMs, due } = busiestTick(catalog, WEEK_START);
    ctx.progress(
      `catalog ${catalog.tasks.length} types; busiest tick ${new Date(tickMs).toISOString()} with ${due.length} types due`,
    );

    const runs: Record<Side, Record<number, SideRun[]>> = { stagger: {}, bullmq: {}, ingest: {} };
    const failures = new Failures();
    for (const n of sizes) {
      const plan = fanoutPlan(catalog, tickMs, due, n);
      for (let rep = 0; rep < ctx.reps; rep++) {
        for (const side of [...sidesInOrder<Side>(rep, 'stagger', 'bullmq'), 'ingest' as const]) {
          try {
            const r = await runSide(ctx, side, plan, catalogPath, catalog);
            (runs[side][n] ??= []).push(r);
            ctx.progress(
              `N=${fmt(n)} rep ${rep + 1}/${ctx.reps} ${side}: ${fmt(r.jobsPerS)} jobs/s, ${fmt(r.cmdsPerJob)} Redis cmds/job, ` +
                `peak RSS ${fmt(r.peakRssMiB)} MiB`,
            );
          } catch (err) {
            ctx.progress(`N=${fmt(n)} rep ${rep + 1}/${ctx.reps} ${side} failed: ${failures.add(side, err)}`);
          }
        }
      }
    }
    return report(ctx, sizes, runs, failures, due.length, tickMs);
  },
};

function report(
  ctx: ScenarioContext,
  sizes: number[],
  runs: Record<Side, Record<number, SideRun[]>>,
  failures: Failures,
  dueTypes: number,
  tickMs: number,
): ScenarioReport {
  const sides: Side[] = ['stagger', 'bullmq', 'ingest'];
  const col = (side: Side, n: number, pick: (r: SideRun) => number, unit?: string) => {
    const rs = runs[side][n];
    if (!rs || rs.length === 0) return na(failures.reason(side));
    return cell(summarize(rs.map(pick)), unit);
  };
  const med = (side: Side, n: number, pick: (r: SideRun) => number) => {
    const rs = runs[side][n];
    return rs && rs.length > 0 ? summarize(rs.map(pick)).median : Number.NaN;
  };
  const [small, big] = sizes as [number, number];
  const rows: MetricRow[] = [];
  for (const n of sizes) {
    const fast = med('stagger', n, (r) => r.jobsPerS) >= med('bullmq', n, (r) => r.jobsPerS);
    rows.push({
      metric: `jobs/s, N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.jobsPerS)),
      ...(n === big ? { target: 'stagger ≥ BullMQ at the larger N', verdict: verdictOf(runs, n, fast) } : {}),
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `Redis commands/job (commandstats, Lua-internal included), N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.cmdsPerJob)),
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `script calls/job (EVAL/EVALSHA), N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.scriptsPerJob)),
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `local broker's own Redis commands/job (QStash's side), N=${fmt(n)}`,
      cells: [
        col('stagger', n, (r) => r.brokerCmdsPerJob),
        text('—'),
        col('ingest', n, (r) => r.brokerCmdsPerJob),
      ],
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `peak RSS of the enqueuing process, MiB, N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.peakRssMiB)),
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `peak heapUsed, MiB, N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.peakHeapMiB)),
    });
  }
  for (const n of sizes) {
    rows.push({
      metric: `heap live after a full GC at the end, MiB, N=${fmt(n)}`,
      cells: sides.map((s) => col(s, n, (r) => r.retainedHeapMiB)),
    });
  }
  const growth = (side: Side): string => {
    if (!runs[side][small]?.length || !runs[side][big]?.length)
      return `not available: ${failures.reason(side)}`;
    const ratio = (pick: (r: SideRun) => number) => {
      const a = med(side, small, pick);
      return a === 0 ? '—' : `×${fmt(med(side, big, pick) / a)}`;
    };
    const rss = med(side, big, (r) => r.peakRssMiB) - med(side, small, (r) => r.peakRssMiB);
    const heap = med(side, big, (r) => r.retainedHeapMiB) - med(side, small, (r) => r.retainedHeapMiB);
    return (
      `jobs/s ${ratio((r) => r.jobsPerS)}, cmds/job ${ratio((r) => r.cmdsPerJob)}, peak RSS ${rss >= 0 ? '+' : ''}${fmt(rss)} MiB ` +
      `(${ratio((r) => r.peakRssMiB)}), live heap after GC ${heap >= 0 ? '+' : ''}${fmt(heap)} MiB`
    );
  };
  const rssGrowth = med('stagger', big, (r) => r.peakRssMiB) / med('stagger', small, (r) => r.peakRssMiB);
  rows.push({
    metric: `growth N=${fmt(small)} → ${fmt(big)} (ratio of medians)`,
    cells: sides.map((s) => text(growth(s))),
    target: 'stagger peak RSS flat (≤ ×1.10)',
    verdict: Number.isNaN(rssGrowth) ? 'not measured' : rssGrowth <= 1.1 ? 'met' : 'missed',
  });
  const ceiling = med('stagger', big, (r) => r.jobsPerS) / med('ingest', big, (r) => r.jobsPerS);
  const notes = [
    `At N=${fmt(big)} stagger's fan-out runs at ${fmt(ceiling * 100)}% of what the local broker ingests from the same batches with no scheduler work at all ` +
      '(third column). ' +
      (ceiling >= 0.85
        ? 'So the fan-out is bound by the broker stand-in (one Lua script per message, the items of a batch stored one after another), ' +
          "not by reading the indexes (one page script per 500 users) or planning; against Upstash that part is QStash's batch endpoint."
        : "The difference is the scheduler's own work (lock, slot claims, index pages, checkpoints), which weighs most when N is small."),
    "The live heap after a full collection is the same at both sizes (rows above): the fan-out holds one page per slot. Peak RSS grows with the run's length " +
      'because V8 lets garbage pile up between major collections; capping the heap (BENCH_CHILD_NODE_FLAGS="--max-old-space-size=40 --max-semi-space-size=4") ' +
      "kept both sides' peak RSS flat from 10k to 100k in a trial run (stagger 163 → 161 MiB), at some cost in throughput.",
    `The tick is the busiest minute of a fixed week for users in ${USER_ZONE} (${new Date(tickMs).toISOString()}, ${dueTypes} task types due); ` +
      'N is split evenly over those types, so both sides enqueue the same (task, user, period) jobs with the same stratified delays.',
    'stagger: the scheduler fan-out in a child process, reading its indexes from Redis through the REST bridge and publishing ' +
      'with the real @upstash/qstash Client into the local broker (deliveries off); done when the broker holds every message ' +
      '(jobs planned close together travel as one batch message, STAGGER_BATCH_SPAN_MS). ' +
      "BullMQ: `Queue.addBulk` of 1,000 jobs per call with `delay` and a custom `jobId` (BullMQ's deduplication), over TCP; " +
      "the jobs are built lazily per batch, as a real producer would stream them. Neither side's time includes process start-up.",
    'Commands per job count every command Redis executed (INFO commandstats after CONFIG RESETSTAT), including those run inside ' +
      "Lua scripts; the local broker keeps its messages on a second redis-server, reported on its own row (in the cloud that is QStash's cost, not yours).",
    '"Local broker ingest alone" publishes the same pages of jobs with the scheduler\'s own planPage and QStashPublisher (same page size, ' +
      'batch messages, batch size and slot concurrency) but reads nothing from Redis: it is the most the fan-out could reach against this broker on this machine.',
    'Peak RSS is getrusage maxrss of the child process (includes the Node/tsx runtime, ~the baseline shown in the JSON).',
    ...failures.notes(),
  ];
  return {
    id: 'fanout',
    title: '1. Fan-out: N jobs due in one tick',
    params: {
      'catalog types': 300,
      N: sizes.map((n) => fmt(n)).join(' and '),
      reps: ctx.reps,
      'BullMQ batch': 1000,
    },
    columns: ['stagger', 'BullMQ', 'local broker ingest alone'],
    rows,
    notes,
    raw: runs,
  };
}

function verdictOf(
  runs: Record<Side, Record<number, SideRun[]>>,
  n: number,
  ok: boolean,
): MetricRow['verdict'] {
  if (!runs.stagger[n]?.length || !runs.bullmq[n]?.length) return 'not measured';
  return ok ? 'met' : 'missed';
}

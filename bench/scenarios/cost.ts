// Scenario 5, cost: Upstash Redis commands and QStash messages per job end to end (scheduler tick -> broker -> worker ->
// target), counted at the REST edge as Upstash bills them, priced at Upstash's pay-as-you-go rates; BullMQ alongside.
import type { Context } from 'aws-lambda';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { jobIdOf } from '../../lib/domain/ids.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { resetRuntime } from '../../lib/runtime.js';
import { fakeContext } from '../../test/helpers/lambda-http.js';
import type { BenchEnv } from '../lib/bench-env.js';
import { PRICES, TICKS_PER_MONTH, qstashUsd, redisUsd } from '../lib/prices.js';
import { cell, na, text, type MetricRow, type ScenarioReport } from '../lib/report.js';
import { readCommandStats, resetCommandStats, totalCalls } from '../lib/redis-stats.js';
import { Failures, sidesInOrder, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { BENCH_TASK, benchUser, startStaggerStack, waitUntil } from '../lib/stagger-stack.js';
import { fmt, summarize } from '../lib/stats.js';
import { writeBenchCatalog } from './fanout-plan.js';

type Tick = (
  event: unknown,
  context: Context,
) => Promise<{ published: number; claimed: number; locked: boolean }>;

interface StaggerCost {
  redisPerJob: number;
  schedulerRedisPerJob: number;
  workerRedisPerJob: number;
  commandstatsPerJob: number;
  publishedPerJob: number;
  deliveriesPerJob: number;
  idleTickCommands: number;
  idleTickCommands300: number;
}

interface BullmqCost {
  commandsPerJob: number;
  commandstatsPerJob: number;
  idleCommandsPerMinute: number;
}

const LIMIT = '500/1s';

async function loadTick(): Promise<Tick> {
  return ((await import('../../functions/scheduler.js')) as { tick: Tick }).tick;
}

async function staggerCost(ctx: ScenarioContext, jobs: number, spreadS: number): Promise<StaggerCost> {
  const { env } = ctx;
  const stack = await startStaggerStack(env, {
    brokerConcurrency: 32,
    users: jobs,
    globalLimit: LIMIT,
    spread: `${spreadS}s`,
    countRedis: true,
  });
  try {
    const tick = await loadTick();
    await env.bridge.reset();
    await stack.broker.service.reset();
    await resetCommandStats(env.appAdmin);
    const summary = await tick({}, fakeContext('schedulerTick', 60));
    if (summary.published !== jobs)
      throw new Error(`the tick published ${summary.published} of ${jobs} jobs (claimed ${summary.claimed})`);
    const afterTick = (await env.bridge.counts()).rest.units;
    await waitUntil(() => stack.target.hits.length >= jobs, 120_000 + jobs * 20, `${jobs} target calls`);
    // Every message settled: nothing due or in flight at the broker (late deferrals, callbacks).
    await waitUntil(
      async () =>
        (await env.brokerAdmin.zcard(`${stack.broker.keyPrefix}due`)) +
          (await env.brokerAdmin.zcard(`${stack.broker.keyPrefix}inflight`)) ===
        0,
      60_000,
      'the broker to drain',
    );
    const bridge = (await env.bridge.counts()).rest;
    const broker = await stack.broker.service.counts();
    const stats = await readCommandStats(env.appAdmin);

    // The fixed cost: a tick with nothing due (an empty key prefix), with this catalog ...
    process.env['STAGGER_KEY_PREFIX'] = `${stack.prefix}idle:`;
    resetRuntime();
    await env.bridge.reset();
    await tick({}, fakeContext('schedulerTick', 60));
    const idleTickCommands = (await env.bridge.counts()).rest.units;
    // ... and with the 300-type catalog, which reads every type's zone groups each minute.
    process.env['STAGGER_CATALOG_PATH'] = writeBenchCatalog('.local/bench').path;
    resetRuntime();
    await env.bridge.reset();
    await tick({}, fakeContext('schedulerTick', 60));
    const idleTickCommands300 = (await env.bridge.counts()).rest.units;

    return {
      redisPerJob: bridge.units / jobs,
      schedulerRedisPerJob: afterTick / jobs,
      workerRedisPerJob: (bridge.units - afterTick) / jobs,
      commandstatsPerJob: totalCalls(stats) / jobs,
      publishedPerJob: broker.rest.units / jobs,
      deliveriesPerJob: broker.deliveries.attempts / jobs,
      idleTickCommands,
      idleTickCommands300,
    };
  } finally {
    await stack.stop();
  }
}

/** BullMQ end to end (addBulk with delays over 10 s, a Worker calling the target), commands counted with MONITOR. */
async function bullmqCost(env: BenchEnv, jobs: number, spreadS: number, idleS: number): Promise<BullmqCost> {
  await env.appAdmin.flushall();
  const target = await env.startTarget({ maxHits: 10_000_000 });
  const connection = { host: '127.0.0.1', port: env.appRedis.port };
  const monitorClient = new Redis(env.appRedis.url, { protocol: 2 });
  const monitor = await monitorClient.monitor();
  let topLevel = 0;
  // Lua-run commands show as source "lua"; the monitor's own connection sends nothing once in MONITOR mode.
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') topLevel++;
  });
  const queue = new Queue(`cost-${Date.now()}`, { connection });
  const url = `${target.url}/tasks/${BENCH_TASK}`;
  try {
    await resetCommandStats(env.appAdmin);
    topLevel = 0;
    const period = `c${Date.now()}`;
    for (let i = 0; i < jobs; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => {
          const userId = benchUser(i + k);
          const delay = Math.floor((spreadS * 1000 * (i + k + Math.random())) / jobs);
          const data: JobMessage = {
            v: 1,
            jobId: jobIdOf(BENCH_TASK, userId, period),
            taskId: BENCH_TASK,
            userId,
            periodKey: period,
            notBefore: Date.now() + delay,
            origin: 'scheduled',
            backfilled: false,
            deferrals: 0,
          };
          return { name: BENCH_TASK, data, opts: { jobId: data.jobId.replaceAll(':', '|'), delay } };
        }),
      );
    }
    const worker = new Worker<JobMessage>(
      queue.name,
      async (job) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: job.data.userId }),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
      { connection, concurrency: 32, limiter: { max: 500, duration: 1000 } },
    );
    try {
      await waitUntil(() => target.hits.length >= jobs, 120_000, `${jobs} target calls`);
      await waitUntil(
        async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= jobs,
        30_000,
        'BullMQ completions',
      );
      const commandsPerJob = topLevel / jobs;
      const commandstatsPerJob = totalCalls(await readCommandStats(env.appAdmin)) / jobs;
      // A worker with nothing to do still polls: count a stretch of it.
      topLevel = 0;
      await new Promise((r) => setTimeout(r, idleS * 1000));
      const idleCommandsPerMinute = (topLevel * 60) / idleS;
      return { commandsPerJob, commandstatsPerJob, idleCommandsPerMinute };
    } finally {
      await worker.close();
    }
  } finally {
    await queue.close();
    monitorClient.disconnect();
    await target.close();
  }
}

export const costScenario: Scenario = {
  id: 'cost',
  title: '5. Cost per job and per million jobs a month',
  async run(ctx) {
    const jobs = ctx.quick ? 300 : 2000;
    const spreadS = ctx.quick ? 2 : 10;
    const idleS = ctx.quick ? 3 : 20;
    const stagger: StaggerCost[] = [];
    const bullmq: BullmqCost[] = [];
    const failures = new Failures();
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const side of sidesInOrder(rep, 'stagger', 'bullmq')) {
        try {
          if (side === 'stagger') {
            const r = await staggerCost(ctx, jobs, spreadS);
            stagger.push(r);
            ctx.progress(
              `rep ${rep + 1}/${ctx.reps} stagger: ${fmt(r.redisPerJob)} Upstash commands/job (scheduler ${fmt(r.schedulerRedisPerJob)}, worker ${fmt(r.workerRedisPerJob)}), ` +
                `${fmt(r.publishedPerJob)} QStash publishes/job, ${fmt(r.deliveriesPerJob)} deliveries/job; idle tick ${r.idleTickCommands} commands (${r.idleTickCommands300} with 300 types)`,
            );
          } else {
            const r = await bullmqCost(ctx.env, jobs, spreadS, idleS);
            bullmq.push(r);
            ctx.progress(
              `rep ${rep + 1}/${ctx.reps} bullmq: ${fmt(r.commandsPerJob)} commands/job sent (${fmt(r.commandstatsPerJob)} executed incl. Lua), idle ${fmt(r.idleCommandsPerMinute)}/min`,
            );
          }
        } catch (err) {
          ctx.progress(`rep ${rep + 1}/${ctx.reps} ${side} failed: ${failures.add(side, err)}`);
        }
      }
    }
    return report(ctx, jobs, spreadS, stagger, bullmq, failures);
  },
};

function report(
  ctx: ScenarioContext,
  jobs: number,
  spreadS: number,
  s: StaggerCost[],
  b: BullmqCost[],
  failures: Failures,
): ScenarioReport {
  const sc = (pick: (r: StaggerCost) => number, unit?: string) =>
    s.length ? cell(summarize(s.map(pick)), unit) : na(failures.reason('stagger'));
  const bc = (pick: (r: BullmqCost) => number, unit?: string) =>
    b.length ? cell(summarize(b.map(pick)), unit) : na(failures.reason('bullmq'));
  const sm = (pick: (r: StaggerCost) => number) => (s.length ? summarize(s.map(pick)).median : Number.NaN);
  const bm = (pick: (r: BullmqCost) => number) => (b.length ? summarize(b.map(pick)).median : Number.NaN);
  const million = 1_000_000;
  const staggerRedis = redisUsd(sm((r) => r.redisPerJob) * million);
  // QStash bills every delivery attempt; a publish that is never delivered would still be stored: take the larger.
  const staggerMessages = Math.max(
    sm((r) => r.publishedPerJob),
    sm((r) => r.deliveriesPerJob),
  );
  const staggerQstash = qstashUsd(staggerMessages * million);
  const fixed300 = redisUsd(sm((r) => r.idleTickCommands300) * TICKS_PER_MONTH);
  const bullRedis = redisUsd(bm((r) => r.commandsPerJob) * million);
  const bullIdle = redisUsd(bm((r) => r.idleCommandsPerMinute) * TICKS_PER_MONTH);
  const usd = (v: number) => (Number.isNaN(v) ? 'not available' : `$${v.toFixed(2)}`);
  const redisPerJob = sm((r) => r.redisPerJob);
  const rows: MetricRow[] = [
    {
      metric: 'Upstash Redis commands/job end to end (as billed: each command sent, a script = 1)',
      cells: [sc((r) => r.redisPerJob), bc((r) => r.commandsPerJob)],
      target: '≤ 6 (stagger)',
      verdict: s.length === 0 ? 'not measured' : redisPerJob <= 6 ? 'met' : 'missed',
      ...(redisPerJob > 6 ? { note: `(by ${fmt(redisPerJob - 6)})` } : {}),
    },
    {
      metric:
        '… of which during the scheduler tick (fan-out; deliveries already start meanwhile, so the split is approximate)',
      cells: [sc((r) => r.schedulerRedisPerJob), text('— (addBulk included above)')],
    },
    {
      metric: '… of which the worker (start + record scripts, deferrals)',
      cells: [sc((r) => r.workerRedisPerJob), text('—')],
    },
    {
      metric: 'Redis commands executed/job (commandstats, Lua-internal included)',
      cells: [sc((r) => r.commandstatsPerJob), bc((r) => r.commandstatsPerJob)],
    },
    {
      metric: 'QStash messages published/job (jobs, deferrals, continuations)',
      cells: [sc((r) => r.publishedPerJob), text('— (no QStash)')],
    },
    { metric: 'QStash delivery attempts/job', cells: [sc((r) => r.deliveriesPerJob), text('—')] },
    {
      metric: 'a million jobs a month, pay-as-you-go',
      cells: [
        text(
          `${usd(staggerRedis + staggerQstash)} = Redis ${usd(staggerRedis)} + QStash ${usd(staggerQstash)}`,
        ),
        text(
          `${usd(bullRedis)} Redis commands if that Redis bills per command like Upstash (plus a server to run the workers)`,
        ),
      ],
    },
    {
      metric: 'fixed per month, whatever the job count (ticks / idle polling)',
      cells: [
        text(
          s.length
            ? `${usd(fixed300)}: ${fmt(sm((r) => r.idleTickCommands300))} commands per tick with the 300-type catalog (${fmt(sm((r) => r.idleTickCommands))} with 1 type) × ${fmt(TICKS_PER_MONTH)} ticks`
            : 'not available',
        ),
        text(
          b.length
            ? `${usd(bullIdle)}: ${fmt(bm((r) => r.idleCommandsPerMinute))} commands/min of one idle Worker × ${fmt(TICKS_PER_MONTH)} min`
            : 'not available',
        ),
      ],
    },
  ];
  return {
    id: 'cost',
    title: '5. Cost per job and per million jobs a month',
    params: {
      'jobs per repetition': jobs,
      'spread window': `${spreadS} s`,
      'global limit': LIMIT,
      reps: ctx.reps,
    },
    columns: ['stagger', 'BullMQ'],
    rows,
    notes: [
      `Prices (pay-as-you-go, consulted ${PRICES.consulted}): Upstash Redis $${PRICES.redis.usdPer100kCommands} per 100K commands (first ${fmt(PRICES.redis.freeCommandsPerMonth)} a month free) — ${PRICES.redis.source}; ` +
        `QStash $${PRICES.qstash.usdPer100kMessages} per 100K messages (first ${fmt(PRICES.qstash.freeMessagesPerDay)} a day free) — ${PRICES.qstash.source}. Free allowances are not subtracted above.`,
      'stagger end to end: the scheduler tick function (functions/scheduler.ts) claims the slot of a one-type catalog and fans it out; the broker delivers with 32 in flight to the worker function, ' +
        'which calls the local target. Upstash commands are counted by a proxy in front of the REST bridge, one per command sent (a pipeline of k counts k, a script 1); ' +
        'the sources found do not say whether Upstash bills commands run inside a script: the commandstats row is that upper bound.',
      'BullMQ: addBulk of the same jobs (delays over the same window), one Worker (concurrency 32, limiter 500/s) POSTing to the target; commands counted with MONITOR, ' +
        'top-level only (Lua-run commands excluded), the commandstats row includes them. BullMQ needs a TCP Redis and a long-running worker process, which this does not price.',
      "The scheduler's fixed cost is its minute tick: it reads every task type's zone-group counts each minute, so it grows with the catalog, not with the jobs.",
      ...failures.notes(),
    ],
    raw: { stagger: s, bullmq: b },
  };
}

// Scenario 5, cost: per job, Upstash Redis commands (at the REST edge, as billed), QStash messages, Lambda invocations
// and GB-seconds (each function's handler wall time × its memory size from serverless.yml, rounded up to 1 ms), priced
// at list prices; three traffic shapes (a dense and a sparse slot, each as a slice at the same density, and run-now);
// BullMQ's commands per job alongside.
import type { Context } from 'aws-lambda';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { jobIdOf } from '../../lib/domain/ids.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { resetRuntime } from '../../lib/runtime.js';
import { fakeContext } from '../../test/helpers/lambda-http.js';
import { BENCH_KEYS, type BenchEnv } from '../lib/bench-env.js';
import { LambdaMeter, type FunctionUsage } from '../lib/lambda-meter.js';
import {
  PRICES,
  TICKS_PER_MONTH,
  billedGbSeconds,
  lambdaDurationUsd,
  lambdaRequestsUsd,
  priceOfMillionJobs,
  redisUsd,
  type MillionJobsPrice,
  type PerJobUsage,
} from '../lib/prices.js';
import { GOAL_ROWS } from '../lib/goals.js';
import { cell, na, text, type MetricRow, type ScenarioReport } from '../lib/report.js';
import { readCommandStats, resetCommandStats, totalCalls } from '../lib/redis-stats.js';
import { Failures, sidesInOrder, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import {
  BENCH_TASK,
  benchUser,
  brokerDrained,
  startStaggerStack,
  waitUntil,
  type StaggerStack,
} from '../lib/stagger-stack.js';
import { fmt, summarize } from '../lib/stats.js';
import { writeBenchCatalog } from './fanout-plan.js';

type Tick = (
  event: unknown,
  context: Context,
) => Promise<{ published: number; claimed: number; locked: boolean }>;

export type ShapeId = 'dense' | 'sparse' | 'run-now';

interface Shape {
  id: ShapeId;
  /** What it stands for, in words. */
  label: string;
  jobs: number;
  /** The slice's spread window (scheduled shapes); jobs / spread = the real slot's density. */
  spreadS?: number;
}

/** One repetition of one shape: per-job figures and the function-by-function usage behind them. */
export interface ShapeCost extends PerJobUsage {
  shape: ShapeId;
  jobs: number;
  commandstatsPerJob: number;
  publishedPerJob: number;
  deliveriesPerJob: number;
  /** Of the Redis commands: the share sent while the tick (or the run-now calls) ran. */
  enqueueRedisPerJob: number;
  functions: Record<string, FunctionUsage>;
  price: MillionJobsPrice;
}

interface IdleTick {
  commands: number;
  commands300: number;
  durationMs300: number;
}

interface BullmqCost {
  commandsPerJob: number;
  commandstatsPerJob: number;
  idleCommandsPerMinute: number;
}

const LIMIT = '500/1s';
/** The dense slot: 100,000 jobs in an hour. */
const DENSE_PER_S = 100_000 / 3600;
/** The sparse slot: 1,200 jobs over 20 minutes. */
const SPARSE_PER_S = 1200 / 1200;

export function shapesFor(quick: boolean): Shape[] {
  const denseS = quick ? 6 : 20;
  const sparseS = quick ? 20 : 45;
  return [
    {
      id: 'dense',
      label: `dense: 100,000 jobs in an hour (${fmt(DENSE_PER_S)}/s), a ${denseS} s slice`,
      jobs: Math.round(DENSE_PER_S * denseS),
      spreadS: denseS,
    },
    {
      id: 'sparse',
      label: `sparse: 1,200 jobs over 20 minutes (${fmt(SPARSE_PER_S)}/s), a ${sparseS} s slice`,
      jobs: Math.round(SPARSE_PER_S * sparseS),
      spreadS: sparseS,
    },
    { id: 'run-now', label: 'run-now: jobs created by the admin run-now route', jobs: quick ? 50 : 300 },
  ];
}

async function loadTick(): Promise<Tick> {
  return ((await import('../../functions/scheduler.js')) as { tick: Tick }).tick;
}

/** Creates `jobs` jobs through POST /v1/users/{userId}/tasks/{taskId}/run, a few calls at a time. */
async function runNow(stack: StaggerStack, jobs: number): Promise<void> {
  let next = 0;
  const one = async () => {
    for (let i = next++; i < jobs; i = next++) {
      const res = await fetch(`${stack.api.url}/v1/users/${benchUser(i)}/tasks/${BENCH_TASK}/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BENCH_KEYS.adminKey}` },
      });
      const body = await res.text();
      if (res.status !== 202) throw new Error(`run-now answered ${res.status}: ${body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

async function shapeCost(ctx: ScenarioContext, shape: Shape): Promise<ShapeCost> {
  const { env } = ctx;
  const meter = new LambdaMeter();
  const stack = await startStaggerStack(env, {
    brokerConcurrency: 32,
    users: shape.jobs,
    globalLimit: LIMIT,
    spread: `${shape.spreadS ?? 10}s`,
    countRedis: true,
    meter,
  });
  try {
    // Run-now is an operator route with its own limiter; open it wide so the calls measure cost, not refusals.
    process.env['STAGGER_ADMIN_LIMIT_RUN_NOW'] = '1000000/1m';
    resetRuntime();
    const tick = await loadTick();
    await env.bridge.reset();
    await stack.broker.service.reset();
    await resetCommandStats(env.appAdmin);
    meter.reset();
    if (shape.id === 'run-now') {
      await runNow(stack, shape.jobs);
    } else {
      const summary = await meter.time('schedulerTick', () => tick({}, fakeContext('schedulerTick', 60)));
      if (summary.published !== shape.jobs)
        throw new Error(
          `the tick published ${summary.published} of ${shape.jobs} jobs (claimed ${summary.claimed})`,
        );
    }
    const afterEnqueue = (await env.bridge.counts()).rest.units;
    await waitUntil(
      () => stack.target.hits.length >= shape.jobs,
      120_000 + shape.jobs * 20 + (shape.spreadS ?? 0) * 1000,
      `${shape.jobs} target calls`,
    );
    await brokerDrained(env, stack);
    const bridge = (await env.bridge.counts()).rest;
    const broker = await stack.broker.service.counts();
    const stats = await readCommandStats(env.appAdmin);
    const totals = meter.totals();
    const n = shape.jobs;
    const usage: PerJobUsage = {
      redisCommands: bridge.units / n,
      // QStash bills every delivery attempt; a publish never delivered would still be a message: take the larger.
      qstashMessages: Math.max(broker.rest.units, broker.deliveries.attempts) / n,
      lambdaInvocations: totals.invocations / n,
      lambdaGbSeconds: totals.gbSeconds / n,
      httpApiRequests: totals.httpRequests / n,
    };
    return {
      shape: shape.id,
      jobs: n,
      ...usage,
      commandstatsPerJob: totalCalls(stats) / n,
      publishedPerJob: broker.rest.units / n,
      deliveriesPerJob: broker.deliveries.attempts / n,
      enqueueRedisPerJob: afterEnqueue / n,
      functions: meter.usage(),
      price: priceOfMillionJobs(usage),
    };
  } finally {
    delete process.env['STAGGER_ADMIN_LIMIT_RUN_NOW'];
    await stack.stop();
  }
}

/** The fixed cost: a tick with nothing due, with the one-type catalog and with the 300-type one. */
async function idleTick(ctx: ScenarioContext): Promise<IdleTick> {
  const { env } = ctx;
  const stack = await startStaggerStack(env, {
    brokerConcurrency: 0,
    users: 0,
    globalLimit: LIMIT,
    countRedis: true,
  });
  try {
    const tick = await loadTick();
    await env.bridge.reset();
    await tick({}, fakeContext('schedulerTick', 60));
    const commands = (await env.bridge.counts()).rest.units;
    process.env['STAGGER_CATALOG_PATH'] = writeBenchCatalog('.local/bench').path;
    resetRuntime();
    // The first tick after a catalog change parses it (a cold start's work): time a warm one.
    await tick({}, fakeContext('schedulerTick', 60));
    process.env['STAGGER_KEY_PREFIX'] = `${stack.prefix}idle:`;
    resetRuntime();
    await tick({}, fakeContext('schedulerTick', 60));
    await env.bridge.reset();
    const started = performance.now();
    await tick({}, fakeContext('schedulerTick', 60));
    const durationMs300 = performance.now() - started;
    const commands300 = (await env.bridge.counts()).rest.units;
    return { commands, commands300, durationMs300 };
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

const TITLE = '5. Cost per job and per million jobs';

export const costScenario: Scenario = {
  id: 'cost',
  title: TITLE,
  async run(ctx) {
    const shapes = shapesFor(ctx.quick);
    const dense = shapes[0]!;
    const idleS = ctx.quick ? 3 : 20;
    // Counts per job barely vary between repetitions; three are enough and keep the slices' real time in bounds.
    const reps = Math.min(ctx.reps, 3);
    const runs: ShapeCost[] = [];
    const idle: IdleTick[] = [];
    const bullmq: BullmqCost[] = [];
    const failures = new Failures();
    for (let rep = 0; rep < reps; rep++) {
      for (const side of sidesInOrder(rep, 'stagger', 'bullmq')) {
        if (side === 'bullmq') {
          try {
            const r = await bullmqCost(ctx.env, dense.jobs, dense.spreadS!, idleS);
            bullmq.push(r);
            ctx.progress(
              `rep ${rep + 1}/${reps} bullmq (dense slice): ${fmt(r.commandsPerJob)} commands/job sent (${fmt(r.commandstatsPerJob)} executed incl. Lua), idle ${fmt(r.idleCommandsPerMinute)}/min`,
            );
          } catch (err) {
            ctx.progress(`rep ${rep + 1}/${reps} bullmq failed: ${failures.add('bullmq', err)}`);
          }
          continue;
        }
        for (const shape of shapes) {
          try {
            const r = await shapeCost(ctx, shape);
            runs.push(r);
            ctx.progress(
              `rep ${rep + 1}/${reps} stagger ${shape.id} (${shape.jobs} jobs): ${fmt(r.redisCommands)} Upstash commands/job, ` +
                `${fmt(r.qstashMessages)} QStash messages/job, ${fmt(r.lambdaInvocations)} Lambda invocations/job, ` +
                `${fmt(r.lambdaGbSeconds * 1000)} GB-ms/job → $${r.price.total.toFixed(2)} per million jobs`,
            );
          } catch (err) {
            ctx.progress(`rep ${rep + 1}/${reps} stagger ${shape.id} failed: ${failures.add(shape.id, err)}`);
          }
        }
        try {
          idle.push(await idleTick(ctx));
        } catch (err) {
          ctx.progress(`rep ${rep + 1}/${reps} idle tick failed: ${failures.add('idle tick', err)}`);
        }
      }
    }
    return report(reps, shapes, runs, idle, bullmq, failures);
  },
};

const usd = (v: number) => (Number.isFinite(v) ? `$${v.toFixed(2)}` : 'not available');

/** The per-function invocations and GB-ms per job of one shape's repetitions, in words (medians). */
function functionBreakdown(runs: ShapeCost[]): string {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.functions)))].sort();
  if (names.length === 0) return 'not available';
  return names
    .map((name) => {
      const med = (pick: (u: FunctionUsage | undefined, r: ShapeCost) => number) =>
        summarize(runs.map((r) => pick(r.functions[name], r))).median;
      const inv = med((u, r) => (u?.invocations ?? 0) / r.jobs);
      const ms = med((u) => (u && u.invocations ? u.durationMs / u.invocations : 0));
      const memory = runs.find((r) => r.functions[name])?.functions[name]?.memoryMb ?? 0;
      return `${name} ${fmt(inv)}/job × ${fmt(ms)} ms at ${memory} MB`;
    })
    .join('; ');
}

function report(
  reps: number,
  shapes: Shape[],
  runs: ShapeCost[],
  idle: IdleTick[],
  b: BullmqCost[],
  failures: Failures,
): ScenarioReport {
  const of = (id: ShapeId) => runs.filter((r) => r.shape === id);
  const columns = shapes.map((s) => `stagger, ${s.id}`);
  const col = (pick: (r: ShapeCost) => number, unit?: string) =>
    shapes.map((s) => {
      const rs = of(s.id);
      return rs.length ? cell(summarize(rs.map(pick)), unit) : na(failures.reason(s.id));
    });
  const bc = (pick: (r: BullmqCost) => number) =>
    b.length ? cell(summarize(b.map(pick))) : na(failures.reason('bullmq'));
  const bm = (pick: (r: BullmqCost) => number) => (b.length ? summarize(b.map(pick)).median : Number.NaN);
  const im = (pick: (r: IdleTick) => number) => (idle.length ? summarize(idle.map(pick)).median : Number.NaN);
  const med = (id: ShapeId, pick: (r: ShapeCost) => number) =>
    of(id).length ? summarize(of(id).map(pick)).median : Number.NaN;
  const dense = med('dense', (r) => r.price.total);

  const rows: MetricRow[] = [
    {
      metric: 'Upstash Redis commands/job end to end (as billed: each command sent, a script = 1)',
      cells: [...col((r) => r.redisCommands), bc((r) => r.commandsPerJob)],
    },
    {
      metric: '… of which while the jobs were created (scheduler tick, or the run-now calls)',
      cells: [...col((r) => r.enqueueRedisPerJob), text('— (addBulk included above)')],
    },
    {
      metric: 'Redis commands executed/job (commandstats, Lua-internal included)',
      cells: [...col((r) => r.commandstatsPerJob), bc((r) => r.commandstatsPerJob)],
    },
    {
      metric: 'QStash messages published/job (jobs, deferrals, continuations)',
      cells: [...col((r) => r.publishedPerJob), text('— (no QStash)')],
    },
    { metric: 'QStash delivery attempts/job', cells: [...col((r) => r.deliveriesPerJob), text('—')] },
    {
      metric:
        'Lambda invocations/job (ticks, continuations, run-now calls, worker deliveries, failure callbacks)',
      cells: [...col((r) => r.lambdaInvocations), text('— (a long-running worker process)')],
    },
    {
      metric: 'Lambda GB-ms/job (handler wall time rounded up to 1 ms × memory size)',
      cells: [...col((r) => r.lambdaGbSeconds * 1000), text('—')],
    },
    {
      metric: 'invocations by function (per job × mean handler time at its memory size)',
      cells: [...shapes.map((s) => text(functionBreakdown(of(s.id)))), text('—')],
    },
    {
      metric: 'per million jobs: Upstash Redis',
      cells: [
        ...col((r) => r.price.redis, 'USD'),
        text(usd(redisUsd(bm((r) => r.commandsPerJob) * 1_000_000))),
      ],
    },
    { metric: 'per million jobs: QStash', cells: [...col((r) => r.price.qstash, 'USD'), text('—')] },
    {
      metric: 'per million jobs: Lambda requests',
      cells: [...col((r) => r.price.lambdaRequests, 'USD'), text('—')],
    },
    {
      metric: 'per million jobs: Lambda duration',
      cells: [...col((r) => r.price.lambdaDuration, 'USD'), text('—')],
    },
    {
      metric:
        'per million jobs: API Gateway HTTP API requests (QStash deliveries and admin calls reach the functions through it)',
      cells: [...col((r) => r.price.httpApi, 'USD'), text('—')],
    },
    {
      metric: GOAL_ROWS.costAllIn,
      target: '≤ $1.00 for the dense slot; the others stated',
      verdict: of('dense').length === 0 ? 'not measured' : dense <= 1 ? 'met' : 'missed',
      ...(dense > 1 ? { note: `(dense: by ${usd(dense - 1)}, ×${fmt(dense)})` } : {}),
      cells: [
        ...col((r) => r.price.total),
        text(
          `${usd(redisUsd(bm((r) => r.commandsPerJob) * 1_000_000))} Redis commands if billed like Upstash, plus the server it needs (not priced)`,
        ),
      ],
    },
    {
      metric: 'fixed per month, whatever the job count (minute ticks / idle polling)',
      cells: [
        text(
          idle.length
            ? `${usd(
                redisUsd(im((r) => r.commands300) * TICKS_PER_MONTH) +
                  lambdaRequestsUsd(TICKS_PER_MONTH) +
                  lambdaDurationUsd(
                    billedGbSeconds(
                      im((r) => r.durationMs300),
                      512,
                    ) * TICKS_PER_MONTH,
                  ),
              )}: ` +
                `${fmt(im((r) => r.commands300))} commands per idle tick with the 300-type catalog (${fmt(im((r) => r.commands))} with 1 type), ` +
                `${fmt(im((r) => r.durationMs300))} ms at 512 MB, × ${fmt(TICKS_PER_MONTH)} ticks`
            : 'not available',
        ),
        ...shapes.slice(1).map(() => text('')),
        text(
          b.length
            ? `${usd(redisUsd(bm((r) => r.idleCommandsPerMinute) * TICKS_PER_MONTH))}: ${fmt(bm((r) => r.idleCommandsPerMinute))} commands/min of one idle Worker × ${fmt(TICKS_PER_MONTH)} min`
            : 'not available',
        ),
      ],
    },
  ];
  const denseShape = shapes[0]!;
  return {
    id: 'cost',
    title: TITLE,
    params: {
      shapes: shapes
        .map((s) => `${s.id} ${s.jobs} jobs${s.spreadS ? ` over ${s.spreadS} s` : ''}`)
        .join(', '),
      'global limit': LIMIT,
      'concurrent deliveries': 32,
      reps,
    },
    columns: [...columns, 'BullMQ (dense slice)'],
    // The previous cost scenario had one stagger column (a 2,000-job slot over 10 s) and BullMQ beside it.
    previousColumns: { 'stagger, dense': 'stagger', 'BullMQ (dense slice)': 'BullMQ' },
    rows,
    notes: [
      `Shapes: ${shapes.map((s) => s.label).join('; ')}. A slice runs in real time at the slot's density (the tick plans the jobs over the slice's spread); ` +
        "per-job figures carry over to the whole slot because every part scales with the jobs — one batch message, delivery and worker invocation per span of a slot's jobs planned within 3.4 s of each other (STAGGER_BATCH_SPAN_MS, 15 s; one per job where they are further apart), its start script and one record script per 200 ms of finished jobs, " +
        'the tick reading a page of 500 users per script — except the tick invocation itself and its fixed commands (lock, state), one per slot: a slice spreads them over fewer jobs, ' +
        'so its per-job figures are an upper bound for the whole slot (by about one tick invocation per slice, see the function breakdown). ' +
        `The fan-out publishes ~10,000 jobs/s here (scenario 1), so a 100,000-job slot fits one tick's 60 s without continuations; any continuation would be counted (published message and invocation).`,
      'Lambda: every function invocation is counted where it happens — the tick called as EventBridge calls it, the others over HTTP as API Gateway calls them (worker deliveries, continuations, run-now calls, failure callbacks). ' +
        "Duration is the handler's wall time in this process, rounded up to 1 ms per invocation as Lambda bills, times the function's memorySize from serverless.yml (its own, else the provider's). " +
        'Locally Redis and QStash are loopback HTTP; in AWS each Upstash round trip adds ~1–2 ms (same region), and a cold start adds its init time: duration here is a lower bound.',
      `List prices, free allowances not subtracted: Upstash Redis $${PRICES.redis.usdPer100kCommands} per 100K commands — ${PRICES.redis.source}, consulted ${PRICES.consulted}; ` +
        `QStash $${PRICES.qstash.usdPer100kMessages} per 100K messages — ${PRICES.qstash.source}, consulted ${PRICES.consulted}; ` +
        `Lambda arm64 $${PRICES.lambda.usdPerMillionRequests} per million requests and $${PRICES.lambda.usdPerGbSecond} per GB-s — ${PRICES.lambda.source}, consulted ${PRICES.lambda.consulted}; ` +
        `API Gateway HTTP API $${PRICES.httpApi.usdPerMillionRequests} per million requests — ${PRICES.httpApi.source}, consulted ${PRICES.httpApi.consulted}.`,
      'Upstash commands are counted by a proxy in front of the REST bridge, one per command sent (a pipeline of k counts k, a script 1); ' +
        'the sources found do not say whether Upstash bills commands run inside a script: the commandstats row is that upper bound. QStash messages: the larger of messages published and delivery attempts ("each delivery attempt counts as one message").',
      `BullMQ (the dense slice only, ${denseShape.jobs} jobs over ${denseShape.spreadS} s): addBulk with delays over the same window, one Worker (concurrency 32, limiter 500/s) POSTing to the target; commands counted with MONITOR, ` +
        'top-level only (Lua-run commands excluded), the commandstats row includes them. Its Redis server and the long-running worker process are out of scope here (not priced); run-now and the sparse slot have no separate BullMQ counterpart (the same add + process path).',
      "A scheduled message (a batch, or a job alone) is published for the whole second at or before its first planned start (QStash delays are whole seconds) and the worker waits out each job's time in process: " +
        'that wait is billed duration (about half a second on average; compare the run-now column, whose jobs are due at once). ' +
        "A slot's jobs share one random phase within their strata, and at 1 job/s a stratum is a whole second: in the sparse slot every job waits about the same, " +
        'anywhere from 0 to 1 s depending on that phase, so its duration varies between repetitions far more than the dense one.',
      "The scheduler's fixed cost is its minute tick: it reads every task type's zone-group counts each minute, so it grows with the catalog, not with the jobs.",
      ...failures.notes(),
    ],
    raw: { stagger: runs, idle, bullmq: b },
  };
}

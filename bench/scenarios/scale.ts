// Scenario: the million-user tick. N users with one daily task all due in one tick, fanned out by the real
// scheduler path: the minute tick, then the continuations it hands over, each invocation in a process of its own
// (Lambda's timeouts as its time left), into the local broker with deliveries off.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis as IORedis } from 'ioredis';
import { runInChild } from '../lib/child.js';
import type { MemoryReport } from '../lib/memory.js';
import {
  readCommandStats,
  resetCommandStats,
  scriptCalls,
  topCommandsPerJob,
  totalCalls,
} from '../lib/redis-stats.js';
import { cell, type MetricRow, type ScenarioReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { seedBulk } from '../lib/seed-bulk.js';
import { fmt, summarize } from '../lib/stats.js';
import type { ScaleInvocation, ScaleInvocationResult } from './scale-child.js';

const CHILD = new URL('./scale-child.ts', import.meta.url);
const TASK = 'scale_daily';
/** The tick: a fixed Monday 03:00 UTC, when the daily task is due. */
const TICK_MS = Date.UTC(2026, 11, 7, 3, 0, 0);
/** serverless.yml: schedulerTick 60 s, schedulerContinue 29 s. */
const TICK_TIMEOUT_MS = 60_000;
const CONTINUE_TIMEOUT_MS = 29_000;
const scaleUser = (i: number): string => `m${String(i).padStart(7, '0')}`;

function writeScaleCatalog(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'catalog-scale.yaml');
  writeFileSync(
    path,
    `# Written by bench/scenarios/scale.ts: one daily task type in a fixed zone, so every user is in one slot.
version: 1
baseUrl: http://127.0.0.1:9
allowedHosts: [127.0.0.1]
rateLimits:
  global: { limit: 1000, window: 1s }
tasks:
  - id: ${TASK}
    description: A daily job of every user, for the million-user tick.
    schedule: { every: day, at: '03:00' }
    zone: { policy: fixed, tz: UTC }
    spread: 1h
    target: { method: POST, url: '{{baseUrl}}/t/{{userId}}' }
    retries: 3
    rateLimits: []
`,
  );
  return path;
}

async function usedMemory(redis: IORedis): Promise<number> {
  const info = String(await redis.call('INFO', 'memory'));
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

interface Invocation extends ScaleInvocationResult {
  kind: 'tick' | 'continuation';
  memory: MemoryReport;
}

interface ScaleRun {
  users: number;
  seedMs: number;
  redisBytesPerUser: number;
  invocations: Invocation[];
  /** Sum of the invocations' own time (no process start-up). */
  workMs: number;
  /** From the tick's start to the last continuation's end, process start-ups included. */
  wallMs: number;
  restCommandsPerJob: number;
  commandstatsPerJob: number;
  scriptsPerJob: number;
  qstashMessagesPerJob: number;
  top: string;
}

async function runScale(ctx: ScenarioContext, users: number): Promise<ScaleRun> {
  const { env } = ctx;
  await env.appAdmin.flushall();
  await env.brokerAdmin.flushall();
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const catalogPath = writeScaleCatalog('.local/bench');

  const before = await usedMemory(env.appAdmin);
  const seedStarted = performance.now();
  let nextLine = 0;
  await seedBulk(env.appAdmin, {
    prefix,
    users,
    userId: scaleUser,
    zone: 'UTC',
    tasks: [{ taskId: TASK, policy: 'fixed' }],
    now: TICK_MS - 3_600_000,
    progress: (done, total) => {
      if (done < nextLine && done < total) return;
      nextLine = done + Math.max(1, Math.floor(total / 10));
      ctx.progress(
        `seeded ${fmt(done)} of ${fmt(total)} users (${fmt((performance.now() - seedStarted) / 1000)} s)`,
      );
    },
  });
  const seedMs = performance.now() - seedStarted;
  const redisBytesPerUser = ((await usedMemory(env.appAdmin)) - before) / users;

  // A store only: nothing is delivered, so continuations are driven below, one invocation per process.
  const broker = await env.startBroker({ concurrency: 0, pollIntervalMs: 60_000 });
  try {
    const fnEnv = env.stackEnv({
      // Through the counting proxies: Upstash commands and QStash messages as billed.
      redisUrl: env.bridge.proxyUrl,
      qstashUrl: broker.service.proxyUrl,
      publicUrl: 'http://127.0.0.1:9/unused',
      prefix,
      targetUrl: 'http://127.0.0.1:9',
      STAGGER_CATALOG_PATH: catalogPath,
      // Quick runs hand over every second so that continuations are exercised at a small N.
      ...(ctx.quick ? { STAGGER_FANOUT_BUDGET_MS: '1000' } : {}),
    });
    await env.bridge.reset();
    await broker.service.reset();
    await resetCommandStats(env.appAdmin);

    const invocations: Invocation[] = [];
    const wallStarted = performance.now();
    const invoke = async (kind: Invocation['kind'], input: ScaleInvocation) => {
      const { result, memory } = await runInChild<ScaleInvocation, ScaleInvocationResult>(CHILD, input);
      const done = invocations.reduce((n, i) => n + i.published, 0) + result.published;
      ctx.progress(
        `${kind} ${invocations.length + 1}: ${fmt(result.published)} jobs in ${fmt(result.elapsedMs / 1000)} s ` +
          `(${fmt(done)} of ${fmt(users)}), peak RSS ${fmt(memory.maxRssMiB)} MiB, peak heap ${fmt(memory.peakHeapUsedMiB)} MiB`,
      );
      invocations.push({ kind, ...result, memory });
      return result;
    };
    const tick = await invoke('tick', { env: fnEnv, clockMs: TICK_MS, timeoutMs: TICK_TIMEOUT_MS });
    const pending = [...tick.handed];
    while (pending.length > 0) {
      const message = pending.shift()!;
      const clockMs = TICK_MS + (performance.now() - wallStarted);
      const r = await invoke('continuation', {
        env: fnEnv,
        clockMs,
        timeoutMs: CONTINUE_TIMEOUT_MS,
        message,
      });
      pending.push(...r.handed);
    }
    const wallMs = performance.now() - wallStarted;

    const published = invocations.reduce((n, i) => n + i.published, 0);
    const failed = invocations.reduce((n, i) => n + i.failed, 0);
    const handedOver = invocations.reduce((n, i) => n + i.handed.length, 0);
    const messages = invocations.reduce((n, i) => n + i.messages, 0);
    const stored = await env.brokerAdmin.zcard(`${broker.keyPrefix}due`);
    if (published !== users || failed > 0 || stored !== messages + handedOver)
      throw new Error(
        `published ${published} of ${users} (failed ${failed}) in ${messages} messages; the broker holds ` +
          `${stored} messages for them and ${handedOver} continuations`,
      );
    const rest = (await env.bridge.counts()).rest;
    const qstash = (await broker.service.counts()).rest;
    const stats = await readCommandStats(env.appAdmin);
    return {
      users,
      seedMs,
      redisBytesPerUser,
      invocations,
      workMs: invocations.reduce((n, i) => n + i.elapsedMs, 0),
      wallMs,
      restCommandsPerJob: rest.units / users,
      commandstatsPerJob: totalCalls(stats) / users,
      scriptsPerJob: scriptCalls(stats) / users,
      qstashMessagesPerJob: qstash.units / users,
      top: topCommandsPerJob(stats, users / 1000),
    };
  } finally {
    await broker.close();
  }
}

export const scaleScenario: Scenario = {
  id: 'scale',
  title: '7. The million-user tick: one daily task, every user due at once',
  async run(ctx) {
    const users = ctx.quick ? 20_000 : 1_000_000;
    const run = await runScale(ctx, users);
    return report(ctx, run);
  },
};

function report(ctx: ScenarioContext, r: ScaleRun): ScenarioReport {
  const one = (v: number, unit?: string) => cell(summarize([v]), unit);
  const peak = (pick: (m: MemoryReport) => number) => Math.max(...r.invocations.map((i) => pick(i.memory)));
  const rows: MetricRow[] = [
    { metric: 'jobs published (tick + continuations)', cells: [one(r.users)] },
    { metric: 'invocations (1 tick + continuations)', cells: [one(r.invocations.length)] },
    {
      metric: 'wall time to publish everything, s (process start-ups included)',
      cells: [one(r.wallMs / 1000, 's')],
    },
    { metric: "sum of the invocations' own time, s", cells: [one(r.workMs / 1000, 's')] },
    { metric: 'jobs/s over the invocations', cells: [one((r.users * 1000) / r.workMs)] },
    {
      metric: 'peak RSS of any invocation, MiB (getrusage maxrss)',
      cells: [
        one(
          peak((m) => m.maxRssMiB),
          'MiB',
        ),
      ],
    },
    {
      metric: 'peak heapUsed of any invocation, MiB',
      cells: [
        one(
          peak((m) => m.peakHeapUsedMiB),
          'MiB',
        ),
      ],
    },
    {
      metric: 'heap live after a full GC at the end, largest of any invocation, MiB',
      cells: [
        one(
          peak((m) => m.retainedHeapMiB),
          'MiB',
        ),
      ],
    },
    { metric: 'Upstash commands/job at the REST edge (as billed)', cells: [one(r.restCommandsPerJob)] },
    {
      metric: 'Redis commands/job (commandstats, Lua-internal included)',
      cells: [one(r.commandstatsPerJob)],
    },
    { metric: 'script calls/job (EVAL/EVALSHA)', cells: [one(r.scriptsPerJob)] },
    { metric: 'QStash messages/job (jobs and continuations)', cells: [one(r.qstashMessagesPerJob)] },
    {
      metric: 'Redis memory per user, bytes (used_memory after seeding − before, / users)',
      cells: [one(r.redisBytesPerUser, 'B')],
    },
    { metric: 'seed time, s (bulk pipelines)', cells: [one(r.seedMs / 1000, 's')] },
  ];
  const perInvocation = r.invocations
    .map(
      (i, n) =>
        `${n + 1}. ${i.kind}: ${fmt(i.published)} jobs in ${fmt(i.elapsedMs / 1000)} s, peak RSS ${fmt(i.memory.maxRssMiB)} MiB, ` +
        `peak heap ${fmt(i.memory.peakHeapUsedMiB)} MiB, live heap after GC ${fmt(i.memory.retainedHeapMiB)} MiB`,
    )
    .join('; ');
  return {
    id: 'scale',
    title: '7. The million-user tick: one daily task, every user due at once',
    params: {
      users: fmt(r.users),
      'task types': 1,
      'budget per invocation': ctx.quick
        ? '1 s (quick: to exercise continuations)'
        : 'STAGGER_FANOUT_BUDGET_MS default (40 s)',
      'Lambda timeouts': 'tick 60 s, continuation 29 s (time left = timeout − time used)',
    },
    columns: ['stagger'],
    rows,
    notes: [
      `Per invocation: ${perInvocation}.`,
      'Every user has the one daily task of a fixed zone, so the tick claims one slot of N members: one slot is fanned out ' +
        'page after page by one invocation at a time (a slot is never split), and its continuations hand it on in order. ' +
        'Each invocation runs in a process of its own (its memory is its own) with the Lambda timeout of its function as its time left; ' +
        'the broker stores the continuation messages without delivering them, and the bench invokes each one in turn.',
      'Users, preferences and the task index are written by bench/lib/seed-bulk.ts with pipelined commands: the same keys and ' +
        'values as the admin API writes (test/integration/seed-bulk.test.ts compares them).',
      'Upstash commands are counted by the proxy in front of the REST bridge (a pipeline of k commands counts k, a script 1); ' +
        'commandstats counts everything Redis ran, Lua-internal calls included. QStash messages are counted by the proxy in front of the local broker.',
      `Top Redis commands per 1,000 jobs: ${r.top}.`,
    ],
    raw: r,
  };
}

// The drills: each kills (or pauses) one part of the local stack mid-run and counts what was lost or run twice.
//
// Drill tasks are monthly: a drill claims its month's period on a drill clock that starts one second
// after the month began, so the jobs are due at once; the functions' own minute tick finds that
// period claimed already (or, before, too late to be first seen) and never adds jobs of its own.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore } from '../../lib/store/preferences.js';
import { waitUntil } from './parts.js';
import type { DrillStack } from './stack.js';

const keys = keysFor('stagger:');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DrillResult {
  drill: string;
  killed: string;
  expected: number;
  ran: number;
  deadLettered: number;
  lost: number;
  doubled: number;
  note: string;
  seconds: number;
  /** False when the fault came too late to test anything (e.g. every job had run): the suite fails then too. */
  exercised: boolean;
}

export interface DrillContext {
  stack: DrillStack;
  users: number;
  brokerRetryBaseMs: number;
}

function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** A clock that reads one second into this month now and runs on in real time. */
function drillClock(): { now: () => number; periodKey: string } {
  const base = monthStart(Date.now()) + 1000;
  const started = Date.now();
  const d = new Date(base);
  return {
    now: () => base + (Date.now() - started),
    periodKey: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`,
  };
}

async function seedUsers(stack: DrillStack, taskId: string, n: number): Promise<string[]> {
  const prefs = new PreferencesStore(stack.redis, keys);
  const ids = Array.from({ length: n }, (_, i) => `${taskId}-u${String(i).padStart(5, '0')}`);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        await prefs.upsertUser({ id, zone: 'UTC', enabled: true, labels: {} });
        await prefs.enableTask(id, taskId, {}, 'fixed');
      }),
    );
  }
  return ids;
}

async function tickOverHttp(stack: DrillStack, now: number): Promise<Response> {
  return stack.admin('/v1/scheduler/run', {
    method: 'POST',
    body: JSON.stringify({ now: new Date(now).toISOString() }),
  });
}

/** POSTs ticks until one is not refused for the lock (another tick, e.g. the functions' own, may hold it). */
async function tickUntilRun(
  stack: DrillStack,
  now: () => number,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> | undefined;
  await waitUntil(
    async () => {
      const res = await tickOverHttp(stack, now()).catch(() => undefined);
      if (res?.status === 200) body = (await res.json()) as Record<string, unknown>;
      return body !== undefined;
    },
    timeoutMs,
    'a scheduler tick to run',
    1000,
  );
  return body!;
}

async function applied(stack: DrillStack): Promise<Record<string, number>> {
  const res = await fetch(`${stack.targetUrl}/_counts`);
  return ((await res.json()) as { applied: Record<string, number> }).applied;
}

/** Calls the target has received (answered or not). */
async function callCount(stack: DrillStack): Promise<number> {
  const res = await fetch(`${stack.targetUrl}/_counts`);
  return ((await res.json()) as { calls: number }).calls;
}

async function control(stack: DrillStack, c: { delayMs?: number; failRate?: number }): Promise<void> {
  await fetch(`${stack.targetUrl}/_control`, { method: 'POST', body: JSON.stringify(c) });
}

async function appliedCount(stack: DrillStack, ids: readonly string[]): Promise<number> {
  const a = await applied(stack);
  return ids.filter((id) => (a[id] ?? 0) > 0).length;
}

async function jobStates(stack: DrillStack, jobIds: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < jobIds.length; i += 200) {
    const p = stack.redis.pipeline();
    for (const id of jobIds.slice(i, i + 200)) p.hget(keys.job(id), 'state');
    out.push(...((await p.exec()) as (string | null)[]).map((v) => (v === null ? null : String(v))));
  }
  return out;
}

async function brokerIdle(stack: DrillStack): Promise<boolean> {
  const [due, inflight] = await Promise.all([
    stack.redis.zcard('qstash:due'),
    stack.redis.zcard('qstash:inflight'),
  ]);
  return due === 0 && inflight === 0;
}

/** Waits until every job is succeeded or dead and the broker holds nothing more, or the timeout passes. */
async function settle(stack: DrillStack, jobIds: readonly string[], timeoutMs: number): Promise<boolean> {
  try {
    await waitUntil(
      async () => {
        const states = await jobStates(stack, jobIds);
        return states.every((s) => s === 'succeeded' || s === 'dead') && (await brokerIdle(stack));
      },
      timeoutMs,
      'jobs to settle',
      1000,
    );
    return true;
  } catch {
    return false;
  }
}

async function measure(
  stack: DrillStack,
  base: Omit<
    DrillResult,
    'expected' | 'ran' | 'deadLettered' | 'lost' | 'doubled' | 'seconds' | 'exercised'
  > & {
    exercised?: boolean;
  },
  jobIds: readonly string[],
  taskId: string,
  started: number,
): Promise<DrillResult> {
  const a = await applied(stack);
  const dl = await Promise.all(jobIds.map((id) => stack.redis.zscore(keys.deadLetters, id)));
  let ran = 0;
  let deadLettered = 0;
  let lost = 0;
  for (const [i, id] of jobIds.entries()) {
    const n = a[id] ?? 0;
    if (n > 0) ran++;
    else if (dl[i] !== null && dl[i] !== undefined) deadLettered++;
    else lost++;
  }
  // Doubles: any key of this task applied more than once (or applied though never expected).
  const expected = new Set(jobIds);
  const doubled = Object.entries(a).filter(
    ([id, n]) => id.startsWith(`${taskId}:`) && (n > 1 || !expected.has(id)),
  ).length;
  return {
    exercised: true,
    ...base,
    expected: jobIds.length,
    ran,
    deadLettered,
    lost,
    doubled,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

function runner(stack: DrillStack, now: number, pageSize: number, holder: string) {
  let out = '';
  const child = spawn(resolve('node_modules/.bin/tsx'), ['scripts/drills/tick-runner.ts'], {
    env: { ...stack.env, DRILL_NOW: String(now), DRILL_PAGE_SIZE: String(pageSize), DRILL_HOLDER: holder },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid!,
    signal: (sig: NodeJS.Signals) => process.kill(-child.pid!, sig),
    async summary(): Promise<{
      claimed: number;
      resumed: number;
      done: number;
      slots: { outcome: string }[];
    }> {
      await exited;
      const line = out.split('\n').find((l) => l.includes('"tick summary"'));
      if (!line) throw new Error(`tick runner ${holder} printed no summary:\n${out}`);
      if (process.env['DRILLS_DEBUG']) console.log(holder, line);
      return (JSON.parse(line) as { summary: never }).summary;
    },
  };
}

async function slotCount(stack: DrillStack, taskId: string, periodKey: string): Promise<number> {
  return Number((await stack.redis.hget(keys.slot(taskId, '_', periodKey), 'count')) ?? 0);
}

type Drill = (ctx: DrillContext) => Promise<DrillResult>;

const SETTLE_MS = 240_000;

async function prepare(ctx: DrillContext, taskId: string) {
  const users = await seedUsers(ctx.stack, taskId, ctx.users);
  const clock = drillClock();
  const jobIds = users.map((u) => `${taskId}:${u}:${clock.periodKey}`);
  return { users, clock, jobIds, started: Date.now() };
}

export const DRILLS: Record<string, { task: string; retries: number; run: Drill }> = {
  'three ticks at once': {
    task: 'drill_three',
    retries: 3,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_three');
      const runners = ['a', 'b', 'c'].map((h) => runner(ctx.stack, clock.now(), 20, `three-${h}`));
      const summaries = await Promise.all(runners.map((r) => r.summary()));
      const claimed = summaries.reduce((n, s) => n + s.claimed, 0);
      await settle(ctx.stack, jobIds, SETTLE_MS);
      return measure(
        ctx.stack,
        { drill: 'three ticks at once', killed: '-', note: `claims won: ${claimed} of 3` },
        jobIds,
        'drill_three',
        started,
      ).then((r) => (claimed === 1 ? r : { ...r, lost: r.lost + 1, note: `${r.note} (expected exactly 1)` }));
    },
  },

  'scheduler paused and overtaken': {
    task: 'drill_pause',
    retries: 3,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_pause');
      const a = runner(ctx.stack, clock.now(), 5, 'paused-a');
      await waitUntil(
        async () => (await slotCount(ctx.stack, 'drill_pause', clock.periodKey)) >= 20,
        60_000,
        'runner A to fan out a few pages',
        20,
      );
      a.signal('SIGSTOP');
      const pausedAt = await slotCount(ctx.stack, 'drill_pause', clock.periodKey);
      // Longer than the runners' lock TTL and staleness (2 s): B may take the slot over.
      await sleep(3_000);
      const b = await runner(ctx.stack, clock.now(), 50, 'overtaker-b').summary();
      a.signal('SIGCONT');
      const aSummary = await a.summary();
      const aOutcome = aSummary.slots[0]?.outcome ?? 'none';
      await settle(ctx.stack, jobIds, SETTLE_MS);
      const r = await measure(
        ctx.stack,
        {
          drill: 'scheduler paused and overtaken',
          killed: 'SIGSTOP scheduler A',
          note: `A paused at ${pausedAt}; B resumed ${b.resumed}, done ${b.done}; A on resume: ${aOutcome}, done ${aSummary.done}`,
        },
        jobIds,
        'drill_pause',
        started,
      );
      // Every write of A's old fence must be refused: its slot outcome is 'lost' and it finished nothing,
      // while the slot got done by B (or by the functions' own tick, a third scheduler, if it came first).
      const state = await ctx.stack.redis.hget(keys.slot('drill_pause', '_', clock.periodKey), 'state');
      const refused = aOutcome === 'lost' && aSummary.done === 0 && state === 'done';
      return refused ? r : { ...r, doubled: r.doubled + 1, note: `${r.note} (A was not refused)` };
    },
  },

  'broker killed with messages waiting': {
    task: 'drill_broker',
    retries: 3,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_broker');
      // Killed as soon as a tick has published (all in one page): most messages are still waiting for delivery.
      await runner(ctx.stack, clock.now(), 500, 'broker-tick').summary();
      const waiting =
        (await ctx.stack.redis.zcard('qstash:due')) + (await ctx.stack.redis.zcard('qstash:inflight'));
      await ctx.stack.parts.broker.kill9();
      await sleep(1_000);
      await ctx.stack.parts.broker.start();
      await settle(ctx.stack, jobIds, SETTLE_MS);
      return measure(
        ctx.stack,
        {
          drill: 'broker killed with messages waiting',
          killed: 'kill -9 broker',
          note: `${waiting} messages waiting at the kill`,
          exercised: waiting > 0,
        },
        jobIds,
        'drill_broker',
        started,
      );
    },
  },

  'redis-server killed mid-run': {
    task: 'drill_redis',
    retries: 3,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_redis');
      // The target holds its answers (a quarter of the task's 1 s timeout: an answer past the timeout would be retried
      // and applied twice): calls are in flight when Redis dies, so their
      // records meet a dead Redis, whether the jobs travel alone or in a batch whose jobs are all due at once.
      await control(ctx.stack, { delayMs: 250 });
      // The target counts calls over every drill of the run: this drill's are those after this point.
      const callsBefore = await callCount(ctx.stack);
      await runner(ctx.stack, clock.now(), 500, 'redis-tick').summary();
      await waitUntil(async () => (await callCount(ctx.stack)) > callsBefore, 60_000, 'the first call', 10);
      const ranBefore = await appliedCount(ctx.stack, jobIds);
      const inFlight = (await callCount(ctx.stack)) - callsBefore - ranBefore;
      await ctx.stack.parts.redis.kill9();
      await sleep(1_000);
      await ctx.stack.parts.redis.start();
      await control(ctx.stack, { delayMs: 0 });
      await settle(ctx.stack, jobIds, SETTLE_MS);
      return measure(
        ctx.stack,
        {
          drill: 'redis-server killed mid-run',
          killed: 'kill -9 redis-server',
          note: `${ranBefore} had run and ${inFlight} calls were in flight at the kill`,
          exercised: ranBefore < jobIds.length && inFlight > 0,
        },
        jobIds,
        'drill_redis',
        started,
      );
    },
  },

  'target failing 30%, half by timeout': {
    task: 'drill_flaky',
    retries: 6,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_flaky');
      await control(ctx.stack, { failRate: 0.3 });
      try {
        await tickUntilRun(ctx.stack, clock.now);
        await settle(ctx.stack, jobIds, SETTLE_MS);
      } finally {
        await control(ctx.stack, { failRate: 0 });
      }
      const failedAttempts = Number((await ctx.stack.redis.hget(keys.metrics, 'drill_flaky:failed')) ?? 0);
      return measure(
        ctx.stack,
        {
          drill: 'target failing 30%, half by timeout',
          killed: '-',
          note: `${failedAttempts} failed attempts retried`,
        },
        jobIds,
        'drill_flaky',
        started,
      );
    },
  },

  'functions killed mid fan-out': {
    task: 'drill_fanout',
    // A retry span (31 s at the drills' 1 s retry base) longer than the functions' restart: the jobs that
    // met them down are retried, not dead-lettered.
    retries: 5,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_fanout');
      void tickOverHttp(ctx.stack, clock.now()).catch(() => undefined);
      await waitUntil(
        async () => (await slotCount(ctx.stack, 'drill_fanout', clock.periodKey)) > 0,
        60_000,
        'the fan-out to start',
        10,
      );
      // The broker stops answering, so the fan-out hangs mid-page; calls already delivered finish, then the
      // functions die with the slot half published and no job call in flight.
      ctx.stack.parts.broker.signal('SIGSTOP');
      await sleep(2_000);
      await ctx.stack.parts.functions.kill9();
      const countAtKill = await slotCount(ctx.stack, 'drill_fanout', clock.periodKey);
      ctx.stack.parts.broker.signal('SIGCONT');
      await ctx.stack.parts.functions.start();
      // The killed tick's slot is taken over once stale (45 s without a checkpoint) by the next tick.
      await waitUntil(
        async () => {
          const state = await ctx.stack.redis.hget(keys.slot('drill_fanout', '_', clock.periodKey), 'state');
          if (state === 'done') return true;
          await tickOverHttp(ctx.stack, clock.now()).catch(() => undefined);
          return false;
        },
        180_000,
        'the slot to be resumed and done',
        5_000,
      );
      await settle(ctx.stack, jobIds, SETTLE_MS);
      const planned = Number((await ctx.stack.redis.hget(keys.metrics, 'drill_fanout:planned')) ?? 0);
      const r = await measure(
        ctx.stack,
        {
          drill: 'functions killed mid fan-out',
          killed: 'kill -9 functions',
          note: `killed at ${countAtKill}/${jobIds.length} published; planned counted ${planned}`,
        },
        jobIds,
        'drill_fanout',
        started,
      );
      return planned === jobIds.length
        ? r
        : { ...r, lost: r.lost + Math.abs(jobIds.length - planned), note: `${r.note} (planned wrong)` };
    },
  },

  'worker down 5x the retry span': {
    task: 'drill_outage',
    retries: 2,
    run: async (ctx) => {
      const { clock, jobIds, started } = await prepare(ctx, 'drill_outage');
      const spanMs = ctx.brokerRetryBaseMs * (2 ** 2 - 1);
      await runner(ctx.stack, clock.now(), 500, 'outage-tick').summary();
      await ctx.stack.parts.functions.kill9();
      const downAt = Date.now();
      const ranBeforeDown = await appliedCount(ctx.stack, jobIds);
      // Down until QStash has given up on every job and callback, and at least 5x the retry span.
      await waitUntil(
        async () => Date.now() - downAt >= 5 * spanMs && (await brokerIdle(ctx.stack)),
        120_000,
        'QStash to give up',
        250,
      );
      const downMs = Date.now() - downAt;
      const inQStashDlq = await ctx.stack.redis.zcard('qstash:dlq');
      await ctx.stack.parts.functions.start();
      const tick = await tickUntilRun(ctx.stack, clock.now);
      const swept = (tick['dlq'] as { deadLettered?: number } | undefined)?.deadLettered ?? 0;
      await settle(ctx.stack, jobIds, SETTLE_MS);
      return measure(
        ctx.stack,
        {
          drill: 'worker down 5x the retry span',
          killed: 'kill -9 functions',
          note: `${ranBeforeDown} ran before the worker went down for ${(downMs / 1000).toFixed(1)} s (retry span ${spanMs} ms); ${inQStashDlq} in QStash DLQ; sweep stored ${swept}`,
          exercised: inQStashDlq > 0,
        },
        jobIds,
        'drill_outage',
        started,
      );
    },
  },
};

// Continuations and the scheduler's HTTP functions over the whole local stack: a big slot completes across signed
// QStash hand-overs; signatures, stale and duplicate hand-overs, the run/status routes and their edge checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlotStore } from '../../lib/scheduler/slots.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { resetRuntime } from '../../lib/runtime.js';
import { keysFor } from '../../lib/store/keys.js';
import {
  brokerJobs,
  seedIndex,
  testDeps,
  userIds,
  writeSchedulerCatalog,
} from '../helpers/scheduler-fixtures.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';
import { deliverSigned } from '../helpers/worker-fixtures.js';

const catalog = writeSchedulerCatalog({}, [
  { id: 'big_task' },
  { id: 'small_task' },
  { id: 'run_task' },
  { id: 'held_task' },
  { id: 'status_task' },
]);
const tasks = catalog.tasks;
const CONTINUE = '/internal/scheduler/continue';
const T10 = Date.parse('2030-01-01T10:00:00Z');

let stack: TestStack;
beforeAll(async () => {
  // Every invocation of the functions gets a budget of 1 ms: one page each, then a hand-over.
  stack = await startStack({
    env: {
      STAGGER_CATALOG_PATH: catalog.path,
      STAGGER_FANOUT_BUDGET_MS: '1',
      STAGGER_FANOUT_PAGE_SIZE: '500',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const slotKey = (taskId: string, periodKey = '2030-01-01T10') =>
  keysFor(stack.prefix).slot(taskId, '_', periodKey);
const slotStore = () => new SlotStore(stack.redis, keysFor(stack.prefix), { doneRetentionMs: 3_600_000 });
const fenceOf = async (taskId: string) => Number(await stack.redis.hget(slotKey(taskId), 'fence'));

describe('continuations', () => {
  it('completes a 3,000-member slot across several continuation invocations when each has almost no time', async () => {
    const ids = userIds(3000);
    await seedIndex(stack, stack.prefix, 'big_task', ids);
    const deps = testDeps(stack, {
      prefix: stack.prefix,
      tasks,
      now: T10,
      settings: { pageSize: 500, budgetMs: 1 },
    });
    const tick = await runTick(deps, { holder: 'tick', timeLeft: () => 600_000 });
    expect(tick).toMatchObject({ claimed: 1, published: 500, continued: 1, done: 0 });
    expect(deps.recorder.continuations).toEqual([
      { v: 1, taskId: 'big_task', group: '_', periodKey: '2030-01-01T10', fence: tick.fence },
    ]);

    await waitFor(
      async () => ((await stack.redis.hget(slotKey('big_task'), 'state')) === 'done' ? true : undefined),
      20_000,
      'slot done',
    );

    const stored = await brokerJobs(stack, 'big_task');
    expect(stored).toHaveLength(3000);
    expect(new Set(stored.map((s) => s.job.userId))).toEqual(new Set(ids));
    // Each invocation took the slot under a new fence: five pages after the tick's, and the one that found it done.
    expect((await fenceOf('big_task')) - tick.fence!).toBeGreaterThanOrEqual(5);
    expect(await stack.redis.hget(slotKey('big_task'), 'count')).toBe(3000);
    expect(await stack.redis.zscore(keysFor(stack.prefix).activeSlots, slotKey('big_task'))).toBeNull();
  });

  it('continues from the fence it was handed, and drops a stale or duplicate hand-over without publishing', async () => {
    await seedIndex(stack, stack.prefix, 'small_task', userIds(20, 'small'));
    const claim = await slotStore().claim(
      {
        kind: 'claim',
        taskId: 'small_task',
        group: '_',
        tz: 'UTC',
        period: { key: '2030-01-01T10', startMs: T10, endMs: T10 + 3_600_000, dueAtMs: T10 },
        startAt: T10,
        windowMs: 600_000,
        total: 20,
        backfilled: false,
      },
      1_000,
      T10,
      45_000,
    );
    expect(claim.kind).toBe('claimed');
    const body = (fence: number) =>
      JSON.stringify({ v: 1, taskId: 'small_task', group: '_', periodKey: '2030-01-01T10', fence });

    const stale = await deliverSigned(stack, CONTINUE, body(999));
    expect(stale.status).toBe(200);
    expect(await stale.json()).toMatchObject({ outcome: 'superseded', published: 0 });
    expect(await brokerJobs(stack, 'small_task')).toHaveLength(0);

    const handed = await deliverSigned(stack, CONTINUE, body(1_000));
    expect(await handed.json()).toMatchObject({ outcome: 'continued', published: 20, done: 1 });
    const duplicate = await deliverSigned(stack, CONTINUE, body(1_000));
    expect(await duplicate.json()).toMatchObject({ outcome: 'done', published: 0 });
    expect(await brokerJobs(stack, 'small_task')).toHaveLength(20);
  });

  it('refuses an unsigned or wrongly signed continuation with 401 before touching the slot', async () => {
    const body = JSON.stringify({
      v: 1,
      taskId: 'held_task',
      group: '_',
      periodKey: '2030-01-01T10',
      fence: 1,
    });
    await seedIndex(stack, stack.prefix, 'held_task', userIds(3, 'held'));
    await slotStore().claim(
      {
        kind: 'claim',
        taskId: 'held_task',
        group: '_',
        tz: 'UTC',
        period: { key: '2030-01-01T10', startMs: T10, endMs: T10 + 3_600_000, dueAtMs: T10 },
        startAt: T10,
        windowMs: 600_000,
        total: 3,
        backfilled: false,
      },
      1,
      T10,
      45_000,
    );
    for (const opts of [
      { signature: null },
      { key: 'sig_not_the_key' },
      { signedUrl: `${stack.api.url}/internal/jobs` },
      { signedBody: '{}' },
    ]) {
      const res = await deliverSigned(stack, CONTINUE, body, opts);
      expect(res.status).toBe(401);
    }
    expect(await fenceOf('held_task')).toBe(1);
    expect(await brokerJobs(stack, 'held_task')).toHaveLength(0);
  });

  it('answers a malformed hand-over with a non-retryable 4xx naming the field', async () => {
    const res = await deliverSigned(
      stack,
      CONTINUE,
      JSON.stringify({ v: 1, taskId: 'small_task', group: '_', periodKey: 'x', fence: -3 }),
    );
    expect(res.status).toBe(489);
    expect(res.headers.get('upstash-nonretryable-error')).toBe('true');
    expect(JSON.stringify(await res.json())).toContain('body.fence');
  });
});

describe('scheduler routes', () => {
  it('refuses run and status without the admin key, before taking the lock', async () => {
    const noKey = await fetch(`${stack.api.url}/v1/scheduler/run`, { method: 'POST' });
    expect(noKey.status).toBe(401);
    expect((await fetch(`${stack.api.url}/v1/scheduler`)).status).toBe(401);
    expect(await stack.redis.exists(keysFor(stack.prefix).schedulerLock)).toBe(0);
  });

  it('runs a tick at an explicit now on the local stage and reports it in the status', async () => {
    await seedIndex(stack, stack.prefix, 'run_task', userIds(3, 'run'));
    // A slot another owner is fanning out right now: not stale at the run's now, so left alone.
    await seedIndex(stack, stack.prefix, 'status_task', userIds(4, 'status'));
    const busy = T10 + 60_000;
    await slotStore().claim(
      {
        kind: 'claim',
        taskId: 'status_task',
        group: '_',
        tz: 'UTC',
        period: { key: '2030-01-01T10', startMs: T10, endMs: T10 + 3_600_000, dueAtMs: T10 },
        startAt: busy,
        windowMs: 600_000,
        total: 4,
        backfilled: false,
      },
      1,
      busy,
      45_000,
    );
    const sentAt = Date.now();
    const res = await stack.admin('/v1/scheduler/run', {
      method: 'POST',
      body: JSON.stringify({ now: '2030-01-01T10:01:00Z' }),
    });
    const tookMs = Date.now() - sentAt;
    expect(res.status).toBe(200);
    const summary = (await res.json()) as {
      claimed: number;
      published: number;
      now: string;
      locked: boolean;
    };
    // run_task claimed and fanned out; held_task (claimed at 10:00, no checkpoint since) taken over as stale
    // and, the 1 ms budget being spent, handed to a continuation.
    expect(summary).toMatchObject({
      locked: false,
      claimed: 1,
      resumed: 1,
      published: 3,
      continued: 1,
    });
    // The tick's clock starts at the given now and runs on in real time: it reports the instant it started at,
    // which is the given now plus however long the handler took to get there (at most the whole request).
    const ranAt = Date.parse(summary.now) - Date.parse('2030-01-01T10:01:00Z');
    expect(ranAt).toBeGreaterThanOrEqual(0);
    expect(ranAt).toBeLessThanOrEqual(tookMs);
    expect((await brokerJobs(stack, 'run_task')).map((s) => s.job.periodKey)).toEqual([
      '2030-01-01T10',
      '2030-01-01T10',
      '2030-01-01T10',
    ]);

    await waitFor(
      async () => ((await stack.redis.hget(slotKey('held_task'), 'state')) === 'done' ? true : undefined),
      10_000,
      'held_task continued',
    );
    expect(await brokerJobs(stack, 'held_task')).toHaveLength(3);

    const status = (await (await stack.admin('/v1/scheduler')).json()) as {
      lastTick: { at: string; summary: { claimed: number } };
      lock: { held: boolean };
      slots: Array<{ slot: string; count: number; total: number }>;
    };
    expect(status.lastTick).toMatchObject({ at: '2030-01-01T10:01:00.000Z', summary: { claimed: 1 } });
    expect(status.lock.held).toBe(false);
    expect(status.slots).toEqual([
      expect.objectContaining({ slot: 'status_task:_:2030-01-01T10', count: 0, total: 4 }),
    ]);
  });

  it('refuses an explicit now outside the local stage, naming body.now', async () => {
    // prod starts only with a reachable target (config/environment.cjs): give it one for this request.
    const saved = {
      base: process.env['STAGGER_TARGET_BASE_URL'],
      hosts: process.env['STAGGER_ALLOWED_HOSTS'],
    };
    process.env['STAGE'] = 'prod';
    process.env['STAGGER_TARGET_BASE_URL'] = 'https://tasks.example.com';
    process.env['STAGGER_ALLOWED_HOSTS'] = 'tasks.example.com';
    resetRuntime();
    try {
      const res = await stack.admin('/v1/scheduler/run', {
        method: 'POST',
        body: JSON.stringify({ now: '2030-01-01T12:00:00Z' }),
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('body.now');
      expect(await stack.redis.exists(keysFor(stack.prefix).slot('run_task', '_', '2030-01-01T12'))).toBe(0);
    } finally {
      process.env['STAGE'] = 'local';
      for (const [name, value] of [
        ['STAGGER_TARGET_BASE_URL', saved.base],
        ['STAGGER_ALLOWED_HOSTS', saved.hosts],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      resetRuntime();
    }
  });

  it('answers 409 while another scheduler holds the lock', async () => {
    await stack.redis.set(keysFor(stack.prefix).schedulerLock, 'someone', { px: 5_000 });
    const res = await stack.admin('/v1/scheduler/run', { method: 'POST' });
    expect(res.status).toBe(409);
    await stack.redis.del(keysFor(stack.prefix).schedulerLock);
  });
});

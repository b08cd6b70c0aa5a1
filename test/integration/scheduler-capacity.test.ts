// Slots due together behind one global limit, through a real tick and its continuations on the local stack: the
// windows stored at the claim are planned jointly, and every published job's start fits the limit.
import { maxInSlidingWindow } from '../../bench/lib/windows.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/log.js';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import { stretchWindow } from '../../lib/scheduler/plan-spread.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { keysFor } from '../../lib/store/keys.js';
import {
  brokerJobs,
  RecordingPublisher,
  seedIndex,
  testDeps,
  userIds,
  writeSchedulerCatalog,
} from '../helpers/scheduler-fixtures.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';

const DAILY = "{ every: day, at: '03:00' }";
const catalog = writeSchedulerCatalog({ global: '10/1s' }, [
  { id: 'joint_big', schedule: DAILY, spread: '1m' },
  { id: 'joint_mid', schedule: DAILY, spread: '1m' },
  { id: 'joint_small', schedule: DAILY, spread: '1m' },
  { id: 'resume_a', schedule: "{ every: day, at: '04:00' }", spread: '1m' },
  { id: 'resume_b', schedule: "{ every: day, at: '04:00' }", spread: '1m' },
  { id: 'hourly_a', schedule: "{ every: hour, at: ':30' }", spread: '40m' },
  { id: 'hourly_b', schedule: "{ every: hour, at: ':30' }", spread: '40m' },
]);
const SIZES = { joint_big: 1400, joint_mid: 800, joint_small: 400 } as const;
const LIMIT = 10;
const T3 = Date.parse('2030-01-07T03:00:00Z');
const GUARD = 250;
const PERIOD = 1000 + GUARD;

let stack: TestStack;
beforeAll(async () => {
  // Each continuation invocation gets 1 ms: one page, then another hand-over.
  stack = await startStack({
    env: {
      STAGGER_CATALOG_PATH: catalog.path,
      STAGGER_FANOUT_BUDGET_MS: '1',
      STAGGER_FANOUT_PAGE_SIZE: '500',
      STAGGER_LIMIT_GUARD_MS: String(GUARD),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('joint capacity planning in a tick', () => {
  it('stores jointly widened windows at the claim, and the continuations publish within the shared limit', async () => {
    for (const [taskId, n] of Object.entries(SIZES))
      await seedIndex(stack, stack.prefix, taskId, userIds(n, taskId));
    const deps = testDeps(stack, {
      prefix: stack.prefix,
      tasks: catalog.tasks,
      now: T3,
      settings: { pageSize: 500, budgetMs: 1, limitGuardMs: GUARD },
    });
    const tick = await runTick(deps, { holder: 'tick', timeLeft: () => 600_000 });
    expect(tick.claimed).toBe(3);

    const keys = keysFor(stack.prefix);
    const stored = new Map<string, number>();
    for (const taskId of Object.keys(SIZES))
      stored.set(taskId, Number(await stack.redis.hget(keys.slot(taskId, '_', '2030-01-07'), 'windowMs')));
    const jobs = Object.values(SIZES).reduce((a, b) => a + b, 0);
    for (const [taskId, n] of Object.entries(SIZES)) {
      const own = stretchWindow(60_000, n, [{ limit: LIMIT, windowMs: 1000 }], GUARD);
      const window = stored.get(taskId) ?? 0;
      // Wider than the slot alone would get; within the rounding of whole shares (5, 3 and 2 jobs per
      // window here) of the even window, the three slots' jobs at the limit's rate.
      expect(window).toBeGreaterThan(own);
      expect(window).toBeLessThanOrEqual((1.1 * 1.02 * jobs * PERIOD) / LIMIT);
    }

    // The big slot needs three pages: its second is published by a continuation that took the slot over.
    expect(tick.continued).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => {
        const states = await Promise.all(
          Object.keys(SIZES).map((t) => stack.redis.hget(keys.slot(t, '_', '2030-01-07'), 'state')),
        );
        return states.every((s) => s === 'done') ? true : undefined;
      },
      20_000,
      'slots done',
    );
    const starts: number[] = [];
    for (const [taskId, n] of Object.entries(SIZES)) {
      const published = await brokerJobs(stack, taskId);
      expect(published).toHaveLength(n);
      // Every page, the tick's and the continuations', used the window stored at the claim.
      const window = stored.get(taskId) ?? 0;
      for (const p of published) {
        expect(p.job.notBefore).toBeGreaterThanOrEqual(T3);
        expect(p.job.notBefore).toBeLessThan(T3 + window);
      }
      expect(Math.max(...published.map((p) => p.job.notBefore))).toBeGreaterThan(
        T3 + window - window / n - 1,
      );
      starts.push(...published.map((p) => p.job.notBefore));
    }
    expect(maxInSlidingWindow(starts, PERIOD)).toBeLessThanOrEqual(LIMIT);
  });

  it('keeps the jointly planned window when a later tick takes over a slot whose fan-out crashed', async () => {
    const T4 = Date.parse('2030-01-07T04:00:00Z');
    for (const taskId of ['resume_a', 'resume_b'])
      await seedIndex(stack, stack.prefix, taskId, userIds(1000, taskId));
    const keys = keysFor(stack.prefix);
    const windowOf = async (taskId: string) =>
      Number(await stack.redis.hget(keys.slot(taskId, '_', '2030-01-07'), 'windowMs'));
    // One slot at a time, so that the first publish is the first slot's first page.
    const settings = { pageSize: 100, budgetMs: 600_000, limitGuardMs: GUARD, slotConcurrency: 1 };
    // The first page goes out, then that slot's fan-out dies before its checkpoint.
    const crashing = new RecordingPublisher(new QStashPublisher(stack.qstash, stack.api.url), 1);
    const first = await runTick(
      testDeps(stack, { prefix: stack.prefix, tasks: catalog.tasks, now: T4, publisher: crashing, settings }),
      { holder: 'crashes', timeLeft: () => 600_000 },
    );
    expect(first).toMatchObject({ claimed: 2, failed: 1 });
    const planned = { resume_a: await windowOf('resume_a'), resume_b: await windowOf('resume_b') };
    const alone = stretchWindow(60_000, 1000, [{ limit: LIMIT, windowMs: 1000 }], GUARD);
    expect(planned.resume_a).toBeGreaterThan(alone);
    expect(planned.resume_b).toBeGreaterThan(alone);

    // A minute later the crashed slot is stale: the tick resumes it alone, with the window stored at the claim.
    const later = testDeps(stack, { prefix: stack.prefix, tasks: catalog.tasks, now: T4 + 60_000, settings });
    const second = await runTick(later, { holder: 'resumes', timeLeft: () => 600_000 });
    expect(second).toMatchObject({ claimed: 0, resumed: 1, failed: 0 });
    expect({ resume_a: await windowOf('resume_a'), resume_b: await windowOf('resume_b') }).toEqual(planned);
    const resumedTask = later.recorder.jobs[0]?.taskId as 'resume_a' | 'resume_b';
    expect(later.recorder.jobs.length).toBeGreaterThanOrEqual(900);
    for (const job of later.recorder.jobs) {
      expect(job.taskId).toBe(resumedTask);
      expect(job.notBefore).toBeLessThan(T4 + planned[resumedTask]);
    }
    // The resumed pages continue the lattice of the claim: the last rank lands in the window's last stratum.
    const last = Math.max(...later.recorder.jobs.map((j) => j.notBefore));
    expect(last).toBeGreaterThanOrEqual(T4 + planned[resumedTask] - planned[resumedTask] / 1000 - 1);
  });

  it('caps jointly widened windows at the next period and says so in one log line', async () => {
    const T530 = Date.parse('2030-01-07T05:30:00Z');
    // 20,000 each: alone 2,550 s at 10 per 1.25 s, under the hour; together twice that, past 06:30.
    for (const taskId of ['hourly_a', 'hourly_b'])
      await seedIndex(stack, stack.prefix, taskId, userIds(20_000, taskId));
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) as unknown as Logger;
    const nowhere = { publishJobs: async () => undefined, publishContinuations: async () => undefined };
    const deps = testDeps(stack, {
      prefix: stack.prefix,
      tasks: catalog.tasks,
      now: T530,
      publisher: new RecordingPublisher(nowhere),
      settings: { pageSize: 500, budgetMs: 1, limitGuardMs: GUARD },
    });
    const tick = await runTick({ ...deps, log }, { holder: 'capped', timeLeft: () => 600_000 });
    expect(tick.claimed).toBe(2);
    const keys = keysFor(stack.prefix);
    for (const taskId of ['hourly_a', 'hourly_b'])
      expect(Number(await stack.redis.hget(keys.slot(taskId, '_', '2030-01-07T05'), 'windowMs'))).toBe(
        3_600_000,
      );
    const capped = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['capped']);
    expect(capped).toHaveLength(1);
    expect(capped[0]).toMatchObject({
      level: 40,
      capped: 2,
      msg: 'slot windows capped: the worker limiter will defer the excess',
    });
    const slots = capped[0]?.['slots'] as { slot: string; reason: string; neededMs: number }[];
    expect(slots.map((c) => c.slot).sort()).toEqual(['hourly_a:_:2030-01-07T05', 'hourly_b:_:2030-01-07T05']);
    for (const c of slots) {
      expect(c.reason).toBe('next-period');
      expect(c.neededMs).toBeGreaterThan(3_600_000);
    }
  });
});

// Slots due together behind one global limit, through a real tick and its continuations on the local stack: the
// windows stored at the claim are planned jointly, and every published job's start fits the limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stretchWindow } from '../../lib/scheduler/plan-spread.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { keysFor } from '../../lib/store/keys.js';
import {
  brokerJobs,
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

function busiestWindow(times: readonly number[], periodMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= periodMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

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
      // Wider than the slot alone would get; at most what the floor of its proportional share of
      // the limit (whole jobs per limiter window) asks for.
      expect(window).toBeGreaterThan(own);
      const share = Math.max(1, Math.floor((LIMIT * n) / jobs));
      expect(window).toBeLessThanOrEqual(Math.ceil((1.02 * n * PERIOD) / share));
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
    expect(busiestWindow(starts, PERIOD)).toBeLessThanOrEqual(LIMIT);
  });
});

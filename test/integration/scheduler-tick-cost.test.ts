// A tick's Redis bill must not grow with the catalog: every minute, nothing due, 300 task types.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../../lib/scheduler/tick.js';
import { countRedisCommands, startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { uniquePrefix } from '../helpers/redis.js';
import { seedIndex, testDeps, userIds, writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, TEST_KEYS, type TestStack } from '../helpers/stack.js';

// Hourly at :30, so a tick at :00 finds every task type with users but none due.
const many = writeSchedulerCatalog(
  {},
  Array.from({ length: 300 }, (_, i) => ({
    id: `task_${String(i).padStart(3, '0')}`,
    schedule: "{ every: hour, at: ':30' }",
  })),
);

let stack: TestStack;
let proxy: CountingProxy;
beforeAll(async () => {
  stack = await startStack({ env: { STAGGER_CATALOG_PATH: many.path } });
  proxy = await startCountingProxy(stack.bridge.url, countRedisCommands);
});
afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
});

describe('tick cost', () => {
  it('reads paused tasks, every zone group and the active slots in one command, whatever the catalog size', async () => {
    const prefix = uniquePrefix('cost');
    for (const task of many.tasks.values()) await seedIndex(stack, prefix, task.id, userIds(2));
    const counted = new Redis({ url: proxy.url, token: TEST_KEYS.redisToken, retry: false });
    const now = Date.parse('2030-01-01T10:00:00Z');
    const run = (at: number) =>
      runTick(
        { ...testDeps(stack, { prefix, tasks: many.tasks, now: at }), redis: counted },
        { holder: 'cost', timeLeft: () => 600_000 },
      );

    // The first tick of a group only records it (it starts at its next on-time period); count the second.
    await run(now);
    proxy.reset();
    const summary = await run(now + 60_000);
    expect(summary.claimed).toBe(0);
    const { units, byName } = proxy.counts();
    expect(byName['HGETALL'] ?? 0).toBe(0);
    // Lock grant and release, the tick-state script, one MGET of last periods, the status pipeline.
    expect(units).toBeLessThanOrEqual(12);
  });
});

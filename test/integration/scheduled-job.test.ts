// GET /v1/jobs/{jobId} between fan-out and first delivery: the job has no hash yet (the fan-out writes none per job),
// yet it is known: its slot is claimed and its user is in the index the slot is fanned out from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../../lib/scheduler/tick.js';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore } from '../../lib/store/preferences.js';
import { testDeps, writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const catalog = writeSchedulerCatalog({}, [
  { id: 'fixed_task', spread: '10m' },
  { id: 'user_task', spread: '20m', zone: '{ policy: user }' },
]);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { STAGGER_CATALOG_PATH: catalog.path } });
  const store = new PreferencesStore(stack.redis, keysFor(stack.prefix));
  await store.upsertUser({ id: 'alice', zone: 'Europe/London', enabled: true, labels: {} });
  await store.upsertUser({ id: 'carol', zone: 'Europe/London', enabled: true, labels: {} });
  await store.enableTask('alice', 'fixed_task', {}, 'fixed');
  await store.enableTask('alice', 'user_task', {}, 'user');
});
afterAll(async () => {
  await stack?.stop();
});

// Far in the future: the broker holds every published job, none is delivered during the test.
const T10 = Date.parse('2030-01-01T10:00:00Z');

async function getJob(jobId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await stack.admin(`/v1/jobs/${encodeURIComponent(jobId)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a fanned-out job before its first delivery', () => {
  it('is 404 before its slot is claimed, then scheduled with the slot window, without a hash per job', async () => {
    expect((await getJob('fixed_task:alice:2030-01-01T10')).status).toBe(404);

    const summary = await runTick(
      testDeps(stack, { prefix: stack.prefix, tasks: catalog.tasks, now: T10 + 5_000 }),
      {
        holder: 'test',
        timeLeft: () => 600_000,
      },
    );
    expect(summary).toMatchObject({ claimed: 2, published: 2 });

    expect(await getJob('fixed_task:alice:2030-01-01T10')).toEqual({
      status: 200,
      body: {
        jobId: 'fixed_task:alice:2030-01-01T10',
        taskId: 'fixed_task',
        userId: 'alice',
        periodKey: '2030-01-01T10',
        state: 'scheduled',
        attempts: 0,
        deferrals: 0,
        replays: 0,
        origin: 'scheduled',
        window: { start: '2030-01-01T10:00:05.000Z', end: '2030-01-01T10:10:05.000Z' },
        backfilled: false,
      },
    });
    // A user-zone task's slot is found under the user's zone group.
    expect((await getJob('user_task:alice:2030-01-01T10')).body).toMatchObject({
      state: 'scheduled',
      window: { start: '2030-01-01T10:00:05.000Z', end: '2030-01-01T10:20:05.000Z' },
    });
    expect(await stack.redis.keys(`${stack.prefix}job:*`)).toEqual([]);
  });

  it('stays 404 for a period not claimed, a user outside the index, or a user without the task', async () => {
    expect((await getJob('fixed_task:alice:2030-01-01T11')).status).toBe(404);
    expect((await getJob('fixed_task:carol:2030-01-01T10')).status).toBe(404);
    expect((await getJob('fixed_task:nobody:2030-01-01T10')).status).toBe(404);
    // In the index of another group than the slot's: a slot of the "_" group does not cover a user-zone task.
    expect((await getJob('user_task:carol:2030-01-01T10')).status).toBe(404);
  });

  it('answers from the job hash once a delivery wrote one', async () => {
    const jobId = 'fixed_task:alice:2030-01-01T10';
    await stack.redis.hset(keysFor(stack.prefix).job(jobId), {
      state: 'deferred',
      attempts: 0,
      deferrals: 1,
      notBefore: T10 + 60_000,
    });
    expect((await getJob(jobId)).body).toMatchObject({
      state: 'deferred',
      deferrals: 1,
      plannedAt: '2030-01-01T10:01:00.000Z',
    });
  });
});

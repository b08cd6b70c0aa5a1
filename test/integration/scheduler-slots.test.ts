// The scheduler lock and slot scripts against a real redis-server through the Upstash REST bridge: exclusivity, fencing, exactly-once claims.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerLock, type RepeatEvery } from '../../lib/scheduler/lock.js';
import type { ClaimPlan } from '../../lib/scheduler/plan.js';
import { SlotStore, type SlotState } from '../../lib/scheduler/slots.js';
import { keysFor, type Keys } from '../../lib/store/keys.js';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { waitUntil } from '../helpers/recording-target.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

let redisProcess: RedisProcess;
let bridge: RunningBridge;
let redis: Redis;

beforeAll(async () => {
  redisProcess = await startTestRedis();
  bridge = await startBridge({ redisUrl: redisProcess.url, token: 'sched-token', port: 0 });
  redis = new Redis({ url: bridge.url, token: 'sched-token', retry: false });
});

afterAll(async () => {
  await bridge?.close();
  await redisProcess?.stop();
});

const NOW = Date.parse('2030-01-01T10:00:00Z');
const DAY = 86_400_000;

function fresh() {
  const keys = keysFor(uniquePrefix('sched'));
  return {
    keys,
    lock: new SchedulerLock(redis, keys, { ttlMs: 5_000 }),
    slots: new SlotStore(redis, keys, { doneRetentionMs: DAY }),
  };
}

function plan(over: Partial<ClaimPlan> = {}): ClaimPlan {
  return {
    kind: 'claim',
    taskId: 'hourly_sync',
    group: '_',
    tz: 'UTC',
    period: { key: '2030-01-01T10', startMs: NOW, endMs: NOW + 3_600_000, dueAtMs: NOW },
    startAt: NOW,
    windowMs: 600_000,
    total: 3,
    backfilled: false,
    ...over,
  };
}

async function seedIndex(keys: Keys, ids: string[], taskId = 'hourly_sync', group = '_') {
  await redis.zadd(
    keys.taskIndex(taskId, group),
    ...(ids.map((member) => ({ score: 0, member })) as [{ score: number; member: string }]),
  );
}

/** A hand-driven timer for keepAlive: records the period asked for; `tick` runs one renewal and waits for it. */
function manualRepeat() {
  let renew: (() => Promise<void> | undefined) | undefined;
  let periodMs: number | undefined;
  let stopped = false;
  const repeatEvery: RepeatEvery = (ms, fn) => {
    periodMs = ms;
    renew = fn;
    return () => {
      stopped = true;
    };
  };
  return {
    repeatEvery,
    periodMs: () => periodMs,
    stopped: () => stopped,
    tick: async () => {
      await renew?.();
    },
  };
}

async function owned(slots: SlotStore, fence: number, over: Partial<ClaimPlan> = {}): Promise<SlotState> {
  const outcome = await slots.claim(plan(over), fence, NOW, 45_000);
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.slot;
}

describe('scheduler lock', () => {
  it('grants one holder at a time, each grant with a larger fence', async () => {
    const { lock } = fresh();
    const first = await lock.acquire('a', NOW);
    expect(first?.fence).toBe(1);
    expect(await lock.acquire('b', NOW)).toBeUndefined();
    expect(await lock.release(first!)).toBe(true);
    const second = await lock.acquire('b', NOW);
    expect(second?.fence).toBe(2);
  });

  it('does not let a former holder renew or release the lock a newer holder took after expiry', async () => {
    const { keys } = fresh();
    const shortLock = new SchedulerLock(redis, keys, { ttlMs: 50 });
    const old = await shortLock.acquire('old', NOW);
    // Redis expires the key on its own clock: wait for that event, however long the machine takes.
    await waitUntil(async () => (await redis.exists(keys.schedulerLock)) === 0, 'the lock to expire');
    const current = await new SchedulerLock(redis, keys, { ttlMs: 5_000 }).acquire('new', NOW);
    expect(current!.fence).toBeGreaterThan(old!.fence);
    expect(await shortLock.renew(old!)).toBe(false);
    expect(await shortLock.release(old!)).toBe(false);
    expect(await redis.get(keys.schedulerLock)).toBe(current!.token);
  });

  it('renews every third of its TTL, each renewal restoring the full TTL, so a working holder keeps the lock', async () => {
    const { keys } = fresh();
    const timer = manualRepeat();
    const lock = new SchedulerLock(redis, keys, { ttlMs: 30_000, repeatEvery: timer.repeatEvery });
    const grant = await lock.acquire('worker', NOW);
    const alive = lock.keepAlive(grant!);
    // Two renewals may be missed before the lock can expire.
    expect(timer.periodMs()).toBe(10_000);
    for (let i = 0; i < 3; i++) {
      // Time passes (two thirds of the TTL used up), then the timer fires.
      await redis.pexpire(keys.schedulerLock, 10_000);
      await timer.tick();
      expect(await redis.pttl(keys.schedulerLock)).toBeGreaterThan(10_000);
      expect(alive.lost()).toBe(false);
    }
    expect(await lock.acquire('other', NOW)).toBeUndefined();
    alive.stop();
    expect(timer.stopped()).toBe(true);
    expect(await lock.release(grant!)).toBe(true);
  });

  it('marks the lock lost when a renewal finds another owner, and leaves that owner alone', async () => {
    const { keys } = fresh();
    const timer = manualRepeat();
    const lock = new SchedulerLock(redis, keys, { ttlMs: 30_000, repeatEvery: timer.repeatEvery });
    const grant = await lock.acquire('worker', NOW);
    const losses: unknown[] = [];
    const alive = lock.keepAlive(grant!, (err) => losses.push(err));
    await timer.tick();
    expect(alive.lost()).toBe(false);
    await redis.set(keys.schedulerLock, 'someone-else');
    await timer.tick();
    expect(alive.lost()).toBe(true);
    expect(losses).toEqual([undefined]);
    // Once lost, no further renewal is tried, and the new owner's value stays.
    await timer.tick();
    expect(losses).toHaveLength(1);
    expect(await redis.get(keys.schedulerLock)).toBe('someone-else');
    alive.stop();
  });

  it('marks the lock lost when a renewal cannot reach Redis (unknown outcome)', async () => {
    const { keys } = fresh();
    const timer = manualRepeat();
    const unreachable = new Redis({ url: 'http://127.0.0.1:1', token: 'sched-token', retry: false });
    const lock = new SchedulerLock(unreachable, keys, { ttlMs: 30_000, repeatEvery: timer.repeatEvery });
    const losses: unknown[] = [];
    const alive = lock.keepAlive({ token: 't', fence: 1 }, (err) => losses.push(err));
    await timer.tick();
    expect(alive.lost()).toBe(true);
    expect(losses).toHaveLength(1);
    expect(losses[0]).toBeInstanceOf(Error);
    alive.stop();
  });
});

describe('slot claims', () => {
  it('lets exactly one of three concurrent claimers win a slot', async () => {
    const { slots } = fresh();
    const outcomes = await Promise.all([1, 2, 3].map((fence) => slots.claim(plan(), fence, NOW, 45_000)));
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'owned' || o.kind === 'not-new')).toHaveLength(2);
  });

  it('counts planned jobs with the claim, once, so an owner that dies before its tick ends leaves them counted', async () => {
    const { slots, keys } = fresh();
    // Three claimers race; the winner then "dies" (no tick record); a newer fence resumes the slot.
    await Promise.all([1, 2, 3].map((fence) => slots.claim(plan(), fence, NOW, 45_000, DAY)));
    const resumed = await slots.resume(
      { taskId: 'hourly_sync', group: '_', periodKey: '2030-01-01T10' },
      9,
      NOW + 60_000,
      45_000,
    );
    expect(resumed.kind).toBe('resumed');
    expect(await redis.hget(keys.metrics, 'hourly_sync:planned')).toBe(3);
    const stats = keys.periodStats('hourly_sync', '2030-01-01T10');
    expect(await redis.hget(stats, 'planned')).toBe(3);
    const ttl = await redis.pttl(stats);
    expect(ttl).toBeGreaterThan(DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(DAY);
  });

  it('never claims a period again once claimed, even after its slot hash expired', async () => {
    const { slots, keys } = fresh();
    await owned(slots, 1);
    await redis.del(keys.slot('hourly_sync', '_', '2030-01-01T10'));
    expect((await slots.claim(plan(), 2, NOW, 45_000)).kind).toBe('not-new');
    // An earlier period (clock went back) is refused as well.
    const earlier = plan({
      period: { key: '2030-01-01T09', startMs: NOW - 3_600_000, endMs: NOW, dueAtMs: NOW - 3_600_000 },
    });
    expect((await slots.claim(earlier, 3, NOW, 45_000)).kind).toBe('not-new');
  });

  it('does not take over a slot whose owner checkpointed recently, nor with an older fence', async () => {
    const { slots } = fresh();
    await owned(slots, 5);
    expect(
      (
        await slots.resume(
          { taskId: 'hourly_sync', group: '_', periodKey: '2030-01-01T10' },
          6,
          NOW + 10_000,
          45_000,
        )
      ).kind,
    ).toBe('owned');
    expect(
      (
        await slots.resume(
          { taskId: 'hourly_sync', group: '_', periodKey: '2030-01-01T10' },
          4,
          NOW + 60_000,
          45_000,
        )
      ).kind,
    ).toBe('owned');
  });
});

describe('fenced checkpoints', () => {
  it('refuses the checkpoint of a stale holder once a newer fence took the slot over', async () => {
    const { slots, keys } = fresh();
    await seedIndex(keys, ['u1', 'u2', 'u3', 'u4']);
    const mine = await owned(slots, 1, { total: 4 });
    const page = await slots.advance(mine, { cursor: '', count: 0 }, 2, NOW);
    expect(page).toEqual({ kind: 'page', ids: ['u1', 'u2'] });

    // The holder stalls (GC pause, frozen Lambda); a newer tick takes the stale slot over.
    const id = { taskId: 'hourly_sync', group: '_', periodKey: '2030-01-01T10' };
    const takeover = await slots.resume(id, 2, NOW + 60_000, 45_000);
    expect(takeover.kind).toBe('resumed');

    expect(await slots.advance(mine, { cursor: 'u2', count: 2 }, 2, NOW + 61_000)).toEqual({ kind: 'stale' });
    const slotKey = keys.slot(id.taskId, id.group, id.periodKey);
    expect(await redis.hmget(slotKey, 'cursor', 'count', 'fence')).toEqual({
      cursor: '',
      count: 0,
      fence: 2,
    });

    const newer = takeover.kind === 'resumed' ? takeover.slot : mine;
    expect(await slots.advance(newer, { cursor: '', count: 0 }, 10, NOW + 62_000)).toEqual({
      kind: 'page',
      ids: ['u1', 'u2', 'u3', 'u4'],
    });
  });

  it('refuses a checkpoint that would move the count backwards', async () => {
    const { slots, keys } = fresh();
    await seedIndex(keys, ['u1', 'u2']);
    const mine = await owned(slots, 1);
    await slots.advance(mine, { cursor: 'u2', count: 2 }, 0, NOW);
    expect(await slots.advance(mine, { cursor: 'u1', count: 1 }, 0, NOW)).toEqual({ kind: 'backwards' });
  });

  it('marks the slot done, out of the active set, when nothing follows the cursor', async () => {
    const { slots, keys } = fresh();
    await seedIndex(keys, ['u1']);
    const mine = await owned(slots, 1);
    expect(await slots.activeSlotIds()).toHaveLength(1);
    expect(await slots.advance(mine, { cursor: 'u1', count: 1 }, 10, NOW)).toEqual({ kind: 'done' });
    expect(await slots.activeSlotIds()).toEqual([]);
    const slotKey = keys.slot('hourly_sync', '_', '2030-01-01T10');
    expect(await redis.hget(slotKey, 'state')).toBe('done');
    expect(await redis.pttl(slotKey)).toBeGreaterThan(0);
    expect(await slots.advance(mine, { cursor: 'u1', count: 1 }, 10, NOW)).toEqual({ kind: 'not-fanning' });
  });

  it('reads user ids that look like numbers or JSON literals back exactly', async () => {
    const { slots, keys } = fresh();
    const ids = ['0042', '1e3', '42', 'null', 'true', 'a@b.c'];
    await seedIndex(keys, ids);
    const mine = await owned(slots, 1);
    const page = await slots.advance(mine, { cursor: '', count: 0 }, 10, NOW);
    expect(page).toEqual({ kind: 'page', ids: [...ids].sort() });
  });
});

describe('continuation hand-over', () => {
  it('hands the slot to the continuation carrying its fence, under a fresh fence, exactly once', async () => {
    const { slots, keys, lock } = fresh();
    const grant = await lock.acquire('tick', NOW);
    const mine = await owned(slots, grant!.fence);
    const id = { taskId: mine.taskId, group: mine.group, periodKey: mine.periodKey };
    const first = await slots.take(id, grant!.fence, NOW);
    expect(first.kind).toBe('taken');
    const taken = first.kind === 'taken' ? first.slot : mine;
    expect(taken.fence).toBeGreaterThan(grant!.fence);
    // A duplicate delivery of the same message finds another fence and stops.
    expect((await slots.take(id, grant!.fence, NOW)).kind).toBe('superseded');
    // The former owner can no longer write.
    expect(await slots.advance(mine, { cursor: '', count: 0 }, 0, NOW)).toEqual({ kind: 'stale' });
    expect(Number(await redis.get(keys.schedulerFence))).toBe(taken.fence);
  });

  it('answers done and missing without taking anything', async () => {
    const { slots, keys } = fresh();
    expect((await slots.take({ taskId: 'hourly_sync', group: '_', periodKey: 'x' }, 1, NOW)).kind).toBe(
      'missing',
    );
    await seedIndex(keys, ['u1']);
    const mine = await owned(slots, 1);
    await slots.advance(mine, { cursor: 'u1', count: 1 }, 10, NOW);
    expect((await slots.take(mine, 1, NOW)).kind).toBe('done');
  });
});

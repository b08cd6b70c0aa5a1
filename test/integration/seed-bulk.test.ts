// The scale bench's bulk seed writes exactly what the preference scripts write for the same users, on a real redis-server.
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore } from '../../lib/store/preferences.js';
import { scriptRedisOver } from '../../bench/lib/seed.js';
import { seedBulk } from '../../bench/lib/seed-bulk.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

let redisProcess: RedisProcess;
let io: IORedis;
beforeAll(async () => {
  redisProcess = await startTestRedis();
  io = new IORedis(redisProcess.url, { protocol: 2 });
});
afterAll(async () => {
  io?.disconnect();
  await redisProcess?.stop();
});

const NOW = Date.parse('2030-01-07T02:59:00Z');
const TASKS = [
  { taskId: 'daily_digest', policy: 'user' as const },
  { taskId: 'nightly_export', policy: 'fixed' as const },
];
const userId = (i: number) => `s${String(i).padStart(4, '0')}`;

/** Every key under the prefix (prefix cut off) with its type and content in a canonical order. */
async function contents(prefix: string): Promise<Record<string, unknown>> {
  const keys = (await io.keys(`${prefix}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await io.type(key);
    const name = key.slice(prefix.length);
    if (type === 'hash') {
      const h = await io.hgetall(key);
      out[name] = Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)));
    } else if (type === 'zset') out[name] = await io.zrange(key, '0', '-1', 'WITHSCORES');
    else out[name] = `<${type}>`;
  }
  return out;
}

describe('seedBulk', () => {
  it('writes the same keys and values as upsertUser and enableTask through the store scripts', async () => {
    const viaStore = uniquePrefix('store');
    const store = new PreferencesStore(scriptRedisOver(io), keysFor(viaStore), () => NOW);
    for (let i = 0; i < 7; i++) {
      expect(
        await store.upsertUser({ id: userId(i), zone: 'Europe/Berlin', enabled: true, labels: {} }),
      ).toBe('created');
      for (const t of TASKS)
        expect(await store.enableTask(userId(i), t.taskId, {}, t.policy)).toBe('enabled');
    }
    const bulk = uniquePrefix('bulk');
    // Chunks of 3: the index counts add up over pipelines.
    const seeded = await seedBulk(io, {
      prefix: bulk,
      users: 7,
      userId,
      zone: 'Europe/Berlin',
      tasks: TASKS,
      now: NOW,
      chunk: 3,
    });
    expect(seeded).toEqual({ users: 7, indexed: 14 });

    const expected = await contents(viaStore);
    expect(Object.keys(expected)).toContain('idx:daily_digest:Europe/Berlin');
    expect(Object.keys(expected)).toContain('idx:nightly_export:_');
    expect(await contents(bulk)).toEqual(expected);
  });

  it('refuses a prefix that already has users, writing nothing', async () => {
    const prefix = uniquePrefix('bulk');
    const spec = { prefix, users: 2, userId, zone: 'UTC', tasks: TASKS, now: NOW };
    await seedBulk(io, spec);
    const before = await contents(prefix);
    await expect(seedBulk(io, { ...spec, users: 3 })).rejects.toThrow(/not empty/);
    expect(await contents(prefix)).toEqual(before);
  });
});

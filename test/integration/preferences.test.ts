// The preferences store against a real redis-server through the Upstash REST bridge: index consistency, counts, paging, idempotency.
import { Redis } from '@upstash/redis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { keysFor, type Keys } from '../../lib/store/keys.js';
import { upsertUser } from '../../lib/store/lua/scripts.generated.js';
import { PreferencesStore, type ZonePolicy } from '../../lib/store/preferences.js';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { snapshot } from '../helpers/redis-digest.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

let redisProcess: RedisProcess;
let bridge: RunningBridge;
let redis: Redis; // as the functions use it (automatic deserialization on)
let raw: Redis; // values as stored, for assertions

beforeAll(async () => {
  redisProcess = await startTestRedis();
  bridge = await startBridge({ redisUrl: redisProcess.url, token: 'prefs-token', port: 0 });
  redis = new Redis({ url: bridge.url, token: 'prefs-token', retry: false });
  raw = new Redis({ url: bridge.url, token: 'prefs-token', retry: false, automaticDeserialization: false });
});

afterAll(async () => {
  await bridge?.close();
  await redisProcess?.stop();
});

let t = 1_800_000_000_000;
function fresh(): { store: PreferencesStore; keys: Keys } {
  const keys = keysFor(uniquePrefix('prefs'));
  return { store: new PreferencesStore(redis, keys, () => t++), keys };
}

/** The index keys (idx:*, idxzones:*, taskcounts) as plain data. */
async function indexState(keys: Keys) {
  const all = await snapshot(raw, keys.prefix);
  const idx: Record<string, string[]> = {};
  const zones: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(all)) {
    const name = key.slice(keys.prefix.length);
    if (name.startsWith('idx:'))
      idx[name] = (value as string[])
        .filter((_, i) => i % 2 === 0)
        .map(String)
        .sort();
    if (name.startsWith('idxzones:')) zones[name] = value as Record<string, string>;
  }
  const counts = (all[keys.taskCounts] as Record<string, string> | undefined) ?? {};
  return { idx, zones, counts };
}

interface ModelUser {
  zone: string;
  enabled: boolean;
  tasks: Map<string, ZonePolicy>;
}

function expectedIndexState(model: Map<string, ModelUser>) {
  const idx: Record<string, string[]> = {};
  for (const [id, u] of model) {
    if (!u.enabled) continue;
    for (const [task, policy] of u.tasks)
      (idx[`idx:${task}:${policy === 'fixed' ? '_' : u.zone}`] ??= []).push(id);
  }
  const zones: Record<string, Record<string, string>> = {};
  const counts: Record<string, string> = {};
  for (const [name, members] of Object.entries(idx)) {
    members.sort();
    const [, task, group] = /^idx:([^:]+):(.+)$/.exec(name)!;
    (zones[`idxzones:${task}`] ??= {})[group!] = String(members.length);
    counts[task!] = String(Number(counts[task!] ?? 0) + members.length);
  }
  return { idx, zones, counts };
}

describe('preferences store', () => {
  it('indexes an enabled user under its zone for user-zone tasks and under _ for fixed-zone tasks', async () => {
    const { store, keys } = fresh();
    expect(await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: {} })).toBe(
      'created',
    );
    expect(await store.enableTask('u1', 'daily_digest', { a: 1 }, 'user')).toBe('enabled');
    expect(await store.enableTask('u1', 'hourly_sync', {}, 'fixed')).toBe('enabled');
    expect(await indexState(keys)).toEqual({
      idx: { 'idx:daily_digest:Europe/London': ['u1'], 'idx:hourly_sync:_': ['u1'] },
      zones: { 'idxzones:daily_digest': { 'Europe/London': '1' }, 'idxzones:hourly_sync': { _: '1' } },
      counts: { daily_digest: '1', hourly_sync: '1' },
    });
  });

  it('moves user-zone entries on a zone change and leaves fixed-zone entries alone', async () => {
    const { store, keys } = fresh();
    await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: {} });
    await store.upsertUser({ id: 'u2', zone: 'Europe/London', enabled: true, labels: {} });
    await store.enableTask('u1', 'daily_digest', {}, 'user');
    await store.enableTask('u2', 'daily_digest', {}, 'user');
    await store.enableTask('u1', 'hourly_sync', {}, 'fixed');
    expect(await store.upsertUser({ id: 'u1', zone: 'Asia/Kolkata', enabled: true, labels: {} })).toBe(
      'updated',
    );
    expect(await indexState(keys)).toEqual({
      idx: {
        'idx:daily_digest:Europe/London': ['u2'],
        'idx:daily_digest:Asia/Kolkata': ['u1'],
        'idx:hourly_sync:_': ['u1'],
      },
      zones: {
        'idxzones:daily_digest': { 'Europe/London': '1', 'Asia/Kolkata': '1' },
        'idxzones:hourly_sync': { _: '1' },
      },
      counts: { daily_digest: '2', hourly_sync: '1' },
    });
  });

  it('keeps a disabled user stored but in no index, and re-indexes it when enabled again', async () => {
    const { store, keys } = fresh();
    await store.upsertUser({ id: 'u1', zone: 'America/New_York', enabled: true, labels: { plan: 'pro' } });
    await store.enableTask('u1', 'weekly_report', { lang: 'en' }, 'user');
    await store.upsertUser({ id: 'u1', zone: 'America/New_York', enabled: false, labels: { plan: 'pro' } });
    expect(await indexState(keys)).toEqual({ idx: {}, zones: {}, counts: {} });
    const stored = await store.getUser('u1');
    expect(stored).toMatchObject({
      enabled: false,
      zone: 'America/New_York',
      tasks: { weekly_report: { lang: 'en' } },
    });
    // A zone change while disabled is remembered and used on re-enable.
    await store.upsertUser({ id: 'u1', zone: 'Australia/Sydney', enabled: false, labels: {} });
    await store.upsertUser({ id: 'u1', zone: 'Australia/Sydney', enabled: true, labels: {} });
    expect((await indexState(keys)).idx).toEqual({ 'idx:weekly_report:Australia/Sydney': ['u1'] });
  });

  it('deletes a user with every key and index entry of it', async () => {
    const { store, keys } = fresh();
    await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: { a: 'b' } });
    await store.upsertUser({ id: 'u2', zone: 'Europe/London', enabled: true, labels: {} });
    await store.enableTask('u1', 'daily_digest', {}, 'user');
    await store.enableTask('u2', 'daily_digest', {}, 'user');
    await store.enableTask('u1', 'hourly_sync', {}, 'fixed');
    await store.deleteUser('u1');
    const all = await snapshot(raw, keys.prefix);
    expect(Object.keys(all).filter((k) => k.includes('u1'))).toEqual([]);
    expect(await indexState(keys)).toEqual({
      idx: { 'idx:daily_digest:Europe/London': ['u2'] },
      zones: { 'idxzones:daily_digest': { 'Europe/London': '1' } },
      counts: { daily_digest: '1' },
    });
    expect(await store.getUser('u1')).toBeUndefined();
    await expect(store.deleteUser('u1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('writes nothing when the same change is made twice', async () => {
    const { store, keys } = fresh();
    await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: { x: '1' } });
    await store.enableTask('u1', 'daily_digest', { n: 5 }, 'user');
    const before = await snapshot(raw, keys.prefix);
    expect(
      await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: { x: '1' } }),
    ).toBe('unchanged');
    expect(await store.enableTask('u1', 'daily_digest', { n: 5 }, 'user')).toBe('unchanged');
    expect(await snapshot(raw, keys.prefix)).toEqual(before);
    expect(await store.enableTask('u1', 'daily_digest', { n: 6 }, 'user')).toBe('updated');
    expect((await indexState(keys)).counts).toEqual({ daily_digest: '1' });
    expect(await store.disableTask('u1', 'daily_digest')).toBe(true);
    expect(await store.disableTask('u1', 'daily_digest')).toBe(false);
    expect(await indexState(keys)).toEqual({ idx: {}, zones: {}, counts: {} });
  });

  it('refuses task changes for an unknown user and enabling a paused task type, writing nothing', async () => {
    const { store, keys } = fresh();
    await expect(store.enableTask('ghost', 'daily_digest', {}, 'user')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.disableTask('ghost', 'daily_digest')).rejects.toBeInstanceOf(NotFoundError);
    expect(await snapshot(raw, keys.prefix)).toEqual({});
    await store.upsertUser({ id: 'u1', zone: 'Europe/London', enabled: true, labels: {} });
    expect(await store.pauseTask('daily_digest')).toBe(true);
    expect(await store.pauseTask('daily_digest')).toBe(false);
    const before = await snapshot(raw, keys.prefix);
    await expect(store.enableTask('u1', 'daily_digest', {}, 'user')).rejects.toBeInstanceOf(ConflictError);
    expect(await snapshot(raw, keys.prefix)).toEqual(before);
    expect((await store.taskStats()).paused).toEqual(new Set(['daily_digest']));
    expect(await store.resumeTask('daily_digest')).toBe(true);
    expect(await store.enableTask('u1', 'daily_digest', {}, 'user')).toBe('enabled');
    expect(await store.taskStats('daily_digest')).toEqual({
      counts: { daily_digest: 1 },
      paused: new Set(),
      zones: { 'Europe/London': 1 },
    });
  });

  it('keeps ids that look like numbers or JSON literals as strings', async () => {
    const { store } = fresh();
    for (const id of ['123', '007', 'true', 'null', '1e3']) {
      await store.upsertUser({ id, zone: 'UTC', enabled: true, labels: { n: '42' } });
      await store.enableTask(id, 'null', { v: '1' }, 'user');
    }
    const page = await store.listUsers(undefined, 10);
    expect(page.items.map((u) => u.id)).toEqual(['007', '123', '1e3', 'null', 'true']);
    expect(page.items[0]?.labels).toEqual({ n: '42' });
    expect((await store.taskIndexPage('null', 'UTC', undefined, 10)).items).toEqual([
      '007',
      '123',
      '1e3',
      'null',
      'true',
    ]);
    expect((await store.getUser('007'))?.tasks).toEqual({ null: { v: '1' } });
  });

  it('pages users and index members exactly: full pages, no duplicates, null cursor at the end', async () => {
    const { store } = fresh();
    const ids = Array.from({ length: 70 }, (_, i) => `user${String(i).padStart(3, '0')}`);
    await Promise.all(
      ids.map((id) => store.upsertUser({ id, zone: 'Europe/London', enabled: true, labels: {} })),
    );
    await Promise.all(ids.map((id) => store.enableTask(id, 'daily_digest', {}, 'user')));
    for (const limit of [1, 7, 10, 69, 70, 71, 1000]) {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listUsers(cursor, limit);
        seen.push(...page.items.map((u) => u.id));
        sizes.push(page.items.length);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(ids);
      expect(sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
      expect(sizes.length).toBe(Math.ceil(70 / limit));
      const members: string[] = [];
      let c: string | undefined;
      do {
        const page = await store.taskIndexPage('daily_digest', 'Europe/London', c, limit);
        members.push(...page.items);
        c = page.nextCursor ?? undefined;
      } while (c !== undefined);
      expect(members).toEqual(ids);
    }
  });

  it('keeps the indexes equal to what the stored preferences imply after any sequence of changes', async () => {
    const userId = fc.constantFrom('a', 'b', 'c', 'd');
    const zone = fc.constantFrom('Europe/London', 'Asia/Kolkata', 'UTC');
    const taskId = fc.constantFrom('t_hour', 't_day', 't_week');
    const policy = fc.constantFrom<ZonePolicy>('user', 'fixed');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), userId, zone, enabled: fc.boolean() }),
      fc.record({ kind: fc.constant('delete' as const), userId }),
      fc.record({
        kind: fc.constant('enable' as const),
        userId,
        taskId,
        policy,
        n: fc.integer({ min: 0, max: 2 }),
      }),
      fc.record({ kind: fc.constant('disable' as const), userId, taskId }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const { store, keys } = fresh();
        const model = new Map<string, ModelUser>();
        for (const o of ops) {
          const u = model.get(o.userId);
          if (o.kind === 'upsert') {
            await store.upsertUser({ id: o.userId, zone: o.zone, enabled: o.enabled, labels: {} });
            model.set(o.userId, { zone: o.zone, enabled: o.enabled, tasks: u?.tasks ?? new Map() });
          } else if (o.kind === 'delete') {
            if (u) await store.deleteUser(o.userId);
            model.delete(o.userId);
          } else if (o.kind === 'enable' && u) {
            await store.enableTask(o.userId, o.taskId, { n: o.n }, o.policy);
            u.tasks.set(o.taskId, o.policy);
          } else if (o.kind === 'disable' && u) {
            await store.disableTask(o.userId, o.taskId);
            u.tasks.delete(o.taskId);
          }
        }
        expect(await indexState(keys)).toEqual(expectedIndexState(model));
        const listed = await store.listUsers(undefined, 10);
        expect(listed.items.map((x) => x.id)).toEqual([...model.keys()].sort());
      }),
      { numRuns: 60 },
    );
  });

  it('runs against a fresh server by sending scripts it does not know yet (NOSCRIPT fallback)', async () => {
    const { store } = fresh();
    await raw.scriptFlush();
    await store.upsertUser({ id: 'u1', zone: 'UTC', enabled: true, labels: {} });
    const known = await raw.scriptExists(upsertUser.sha1);
    expect(known[0]).toBe(1);
  });
});

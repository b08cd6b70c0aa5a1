// `npm run seed` as a user runs it (a child process) against a real redis-server behind the Upstash bridge.
import { Redis } from '@upstash/redis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore } from '../../lib/store/preferences.js';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { contentDigest, snapshot } from '../helpers/redis-digest.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

const run = promisify(execFile);
let redisProcess: RedisProcess;
let bridge: RunningBridge;
let raw: Redis;

beforeAll(async () => {
  redisProcess = await startTestRedis();
  bridge = await startBridge({ redisUrl: redisProcess.url, token: 'seed-token', port: 0 });
  raw = new Redis({ url: bridge.url, token: 'seed-token', retry: false, automaticDeserialization: false });
});

afterAll(async () => {
  await bridge?.close();
  await redisProcess?.stop();
});

async function seed(
  prefix: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return seedWith({ UPSTASH_REDIS_REST_URL: bridge.url }, prefix, ...args);
}

/** `npm run seed` with `where` telling it where Redis is (UPSTASH_REDIS_REST_URL, or BRIDGE_PORT alone). */
async function seedWith(
  where: Record<string, string>,
  prefix: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...where,
    UPSTASH_REDIS_REST_TOKEN: 'seed-token',
    STAGGER_KEY_PREFIX: prefix,
  };
  if (!('UPSTASH_REDIS_REST_URL' in where)) delete env['UPSTASH_REDIS_REST_URL'];
  delete env['STAGGER_DISABLED_TASKS'];
  try {
    const { stdout, stderr } = await run('node_modules/.bin/tsx', ['scripts/seed.ts', ...args], {
      env,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run seed', () => {
  it('finds the bridge on a moved BRIDGE_PORT without UPSTASH_REDIS_REST_URL', async () => {
    const prefix = uniquePrefix('seedport');
    const moved = await seedWith({ BRIDGE_PORT: String(new URL(bridge.url).port) }, prefix);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`seeding http://127.0.0.1:${new URL(bridge.url).port} under "${prefix}"`);
  });

  it('writes the demo users with their task types, and a second run changes nothing', async () => {
    const prefix = uniquePrefix('seed');
    const first = await seed(prefix);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      'user1 (Europe/London): hourly_data_sync, hourly_cache_refresh, hourly_health_check',
    );
    const after1 = await contentDigest(raw, prefix);

    const second = await seed(prefix);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('users: {"unchanged":4}; task enables: {"unchanged":10}');
    expect(await contentDigest(raw, prefix)).toBe(after1);

    const store = new PreferencesStore(
      new Redis({ url: bridge.url, token: 'seed-token', retry: false }),
      keysFor(prefix),
    );
    const tasksOf = async (id: string) => Object.keys((await store.getUser(id))?.tasks ?? {}).sort();
    expect(await tasksOf('user1')).toEqual([
      'hourly_cache_refresh',
      'hourly_data_sync',
      'hourly_health_check',
    ]);
    expect(await tasksOf('user2')).toEqual(['daily_system_metrics', 'daily_user_report']);
    expect(await tasksOf('user3')).toEqual(['weekly_analytics', 'weekly_backup', 'weekly_reports']);
    expect(await tasksOf('user4')).toEqual(['monthly_billing', 'monthly_cleanup']);
    expect((await store.getUser('user3'))?.zone).toBe('Asia/Kolkata');
    // user-zone tasks are indexed under the user's zone, fixed-zone ones under "_".
    expect((await store.taskIndexPage('weekly_reports', 'Asia/Kolkata', undefined, 10)).items).toEqual([
      'user3',
    ]);
    expect((await store.taskIndexPage('weekly_backup', '_', undefined, 10)).items).toEqual(['user3']);
    expect((await store.taskStats()).counts).toEqual({
      hourly_data_sync: 1,
      hourly_cache_refresh: 1,
      hourly_health_check: 1,
      daily_user_report: 1,
      daily_system_metrics: 1,
      weekly_backup: 1,
      weekly_analytics: 1,
      weekly_reports: 1,
      monthly_billing: 1,
      monthly_cleanup: 1,
    });
  }, 90_000);

  it('builds a load data set with --users whose indexes and counts agree with the stored preferences', async () => {
    const prefix = uniquePrefix('seedload');
    const res = await seed(prefix, '--users', '2000', '--batch', '300');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/load users: 2000 in [\d.]+ s \(\d+ users\/s\)/);
    expect(res.stderr).toContain('2000/2000 users');

    const all = await snapshot(raw, prefix);
    const name = (k: string) => k.slice(prefix.length);
    const users = all[`${prefix}users`] as string[];
    expect(users.length / 2).toBe(2004);
    // Expected index sizes from the stored users and their tasks; compared with the counts the scheduler reads.
    const expected: Record<string, number> = {};
    for (const [key, value] of Object.entries(all)) {
      const m = /^utzones:(.+)$/.exec(name(key));
      if (!m) continue;
      const user = all[`${prefix}user:${m[1]}`] as Record<string, string>;
      if (user['enabled'] !== '1') continue;
      for (const task of Object.keys(value as object)) expected[task] = (expected[task] ?? 0) + 1;
    }
    const counts = Object.fromEntries(
      Object.entries(all[`${prefix}taskcounts`] as Record<string, string>).map(([k, v]) => [k, Number(v)]),
    );
    expect(counts).toEqual(expected);
    const indexed = Object.entries(all)
      .filter(([k]) => name(k).startsWith('idx:'))
      .reduce((n, [, v]) => n + (v as unknown[]).length / 2, 0);
    expect(indexed).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    expect(all[`${prefix}user:load-0000020`]).toMatchObject({ enabled: '0' });
  }, 90_000);

  it('refuses bad flags with a clear message and exit code 2, writing nothing', async () => {
    const prefix = uniquePrefix('seedbad');
    for (const [args, message] of [
      [['--users', 'many'], '--users must be an integer from 1 to 10000000, got "many"'],
      [['--users', '0'], '--users must be an integer'],
      [['--batch', '99999'], '--batch must be an integer from 1 to 5000'],
      [['--bogus'], "Unknown option '--bogus'"],
      [['--catalog', 'no/such.yaml'], '--catalog: no file at no/such.yaml'],
    ] as const) {
      const res = await seed(prefix, ...args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain(message);
      expect(res.stderr).toContain('Usage: npm run seed');
    }
    expect(await contentDigest(raw, prefix)).toMatch(/^0:/);
  }, 90_000);
});

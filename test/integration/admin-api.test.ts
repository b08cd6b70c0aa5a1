// The admin API over real HTTP (in-process functions, real redis-server behind the Upstash bridge): every route and its errors.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../lib/admin/schemas.js';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { loadCatalogFileSync } from '../../lib/catalog-file.js';
import { zoneOf } from '../../lib/domain/catalog.js';
import { nextDue } from '../../lib/domain/periods.js';
import { contentDigest } from '../helpers/redis-digest.js';
import { TEST_KEYS, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let raw: Redis;

beforeAll(async () => {
  // monthly_cleanup is switched off by the deployment's environment, as an operator would.
  stack = await startStack({ env: { STAGGER_DISABLED_TASKS: 'monthly_cleanup' } });
  raw = new Redis({
    url: stack.bridge.url,
    token: TEST_KEYS.redisToken,
    retry: false,
    automaticDeserialization: false,
  });
});

afterAll(async () => {
  await stack?.stop();
});

const put = (path: string, body?: unknown) =>
  stack.admin(path, { method: 'PUT', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function expectError(
  res: Response,
  status: number,
  code: string,
): Promise<{ path: string; message: string }[]> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(text).not.toMatch(/stack|at .*\.ts:\d+/);
  const body = ErrorBody.strict().parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  return body.error.details ?? [];
}

const unchanged = async <T>(fn: () => Promise<T>): Promise<T> => {
  const before = await contentDigest(raw, stack.prefix);
  const out = await fn();
  expect(await contentDigest(raw, stack.prefix)).toBe(before);
  return out;
};

const concrete = (path: string) =>
  path.replace('{userId}', 'auth_user').replace('{taskId}', 'daily_user_report');

describe('admin API', () => {
  it('refuses every admin route without a key or with a wrong key, before looking at the input', async () => {
    await put('/v1/users/auth_user', { zone: 'UTC' });
    for (const route of Object.values(ADMIN_ROUTES)) {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-key-0123456789' },
        { authorization: TEST_KEYS.adminKey },
      ];
      for (const headers of attempts) {
        await unchanged(async () => {
          // Invalid bodies and queries too: auth comes first, so they must still be 401.
          const res = await fetch(`${stack.api.url}${concrete(route.path)}?limit=bad`, {
            method: route.method,
            headers,
            ...(route.method === 'PUT' ? { body: '{"zone":"nowhere"}' } : {}),
          });
          await expectError(res, 401, 'unauthorized');
        });
      }
    }
  });

  it('creates, reads, replaces, lists and deletes a user', async () => {
    const created = await put('/v1/users/crud.user@x', { zone: 'Europe/London', labels: { plan: 'pro' } });
    expect(created.status).toBe(201);
    const user = (await created.json()) as Record<string, unknown>;
    expect(user).toMatchObject({
      id: 'crud.user@x',
      zone: 'Europe/London',
      enabled: true,
      labels: { plan: 'pro' },
      tasks: [],
    });
    expect(Date.parse(user['createdAt'] as string)).toBeGreaterThan(0);

    const replaced = await put('/v1/users/crud.user@x', { zone: 'Asia/Kolkata', enabled: false });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ zone: 'Asia/Kolkata', enabled: false, labels: {} });

    const got = await stack.admin('/v1/users/crud.user@x');
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id: 'crud.user@x', zone: 'Asia/Kolkata', enabled: false });

    const list = (await (await stack.admin('/v1/users?limit=1000')).json()) as {
      users: { id: string }[];
      nextCursor: null;
    };
    expect(list.users.map((u) => u.id)).toContain('crud.user@x');
    expect(list.nextCursor).toBeNull();

    expect((await stack.admin('/v1/users/crud.user@x', { method: 'DELETE' })).status).toBe(204);
    await expectError(await stack.admin('/v1/users/crud.user@x'), 404, 'not_found');
    await expectError(await stack.admin('/v1/users/crud.user@x', { method: 'DELETE' }), 404, 'not_found');
  });

  it('pages the user list with exact page sizes and a null cursor at the end', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `page_${String(i).padStart(2, '0')}`);
    for (const id of ids) expect((await put(`/v1/users/${id}`, { zone: 'UTC' })).status).toBe(201);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor = 'page_'; // these ids sort after it; the users of earlier tests sort before
    for (;;) {
      const res = await stack.admin(`/v1/users?limit=5&cursor=${cursor}`);
      const body = (await res.json()) as { users: { id: string }[]; nextCursor: string | null };
      seen.push(...body.users.map((u) => u.id));
      sizes.push(body.users.length);
      if (body.nextCursor === null) break;
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(ids);
    expect(sizes).toEqual([5, 5, 2]);
    const first = (await (await stack.admin('/v1/users')).json()) as { users: unknown[] };
    expect(first.users.length).toBeLessThanOrEqual(100);
  });

  it('answers 400 naming each bad field, and writes nothing', async () => {
    await put('/v1/users/valid_user', { zone: 'UTC' });
    const cases: [string, RequestInit, string[]][] = [
      [
        '/v1/users/valid_user',
        { method: 'PUT', body: JSON.stringify({ zone: 'Mars/Olympus' }) },
        ['body.zone'],
      ],
      [
        '/v1/users/valid_user',
        { method: 'PUT', body: JSON.stringify({ zone: 'europe/london' }) },
        ['body.zone'],
      ],
      [
        '/v1/users/valid_user',
        { method: 'PUT', body: JSON.stringify({ zone: 'UTC', enabled: 'yes' }) },
        ['body.enabled'],
      ],
      ['/v1/users/valid_user', { method: 'PUT', body: JSON.stringify({ zone: 'UTC', extra: 1 }) }, ['body']],
      ['/v1/users/valid_user', { method: 'PUT', body: '{"zone":' }, ['body']],
      ['/v1/users/valid_user', { method: 'PUT' }, ['body']],
      [
        '/v1/users/bad%20id',
        { method: 'PUT', body: JSON.stringify({ zone: 'Nowhere' }) },
        ['path.userId', 'body.zone'],
      ],
      [`/v1/users/${'x'.repeat(129)}`, {}, ['path.userId']],
      ['/v1/users?limit=0', {}, ['query.limit']],
      ['/v1/users?limit=1001', {}, ['query.limit']],
      ['/v1/users?limit=ten', {}, ['query.limit']],
      ['/v1/users?cursor=a%20b', {}, ['query.cursor']],
      ['/v1/users?page=2', {}, ['query']],
      ['/v1/users/valid_user/tasks/Bad-Task', { method: 'PUT' }, ['path.taskId']],
      [
        '/v1/users/valid_user/tasks/daily_user_report',
        { method: 'PUT', body: JSON.stringify({ params: { a: { b: 1 } } }) },
        ['body.params.a'],
      ],
      [
        '/v1/users/valid_user/tasks/daily_user_report',
        { method: 'PUT', body: JSON.stringify({ params: [1] }) },
        ['body.params'],
      ],
      [
        '/v1/users/valid_user/tasks/daily_user_report',
        { method: 'PUT', body: JSON.stringify({ params: { s: 'x'.repeat(1025) } }) },
        ['body.params.s'],
      ],
      ['/v1/users/valid_user/tasks/daily_user_report', { method: 'DELETE', body: '{}' }, ['body']],
      ['/v1/task-types/daily_user_report/pause', { method: 'POST', body: '{"now":true}' }, ['body']],
    ];
    for (const [path, init, fields] of cases) {
      await unchanged(async () => {
        const details = await expectError(await stack.admin(path, init), 400, 'validation_failed');
        expect(
          details.map((d) => d.path),
          `${init.method ?? 'GET'} ${path}`,
        ).toEqual(expect.arrayContaining(fields));
      });
    }
    const big = {
      zone: 'UTC',
      labels: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(250)])),
    };
    await unchanged(async () =>
      expectError(
        await put('/v1/users/valid_user', { ...big, pad: 'x'.repeat(9000) }),
        413,
        'payload_too_large',
      ),
    );
  });

  it('enables and disables task types for a user, idempotently, with 404 and 409 where they belong', async () => {
    await put('/v1/users/tasker', { zone: 'Asia/Kolkata' });
    const first = await put('/v1/users/tasker/tasks/daily_user_report', { params: { lang: 'en', n: 3 } });
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({
      userId: 'tasker',
      taskId: 'daily_user_report',
      params: { lang: 'en', n: 3 },
      outcome: 'enabled',
    });
    const again = await unchanged(() =>
      put('/v1/users/tasker/tasks/daily_user_report', { params: { lang: 'en', n: 3 } }),
    );
    expect(again.status).toBe(200);
    expect(((await again.json()) as { outcome: string }).outcome).toBe('unchanged');
    expect((await put('/v1/users/tasker/tasks/weekly_backup')).status).toBe(201);

    expect(await raw.zrange(`${stack.prefix}idx:daily_user_report:Asia/Kolkata`, 0, -1)).toEqual(['tasker']);
    expect(await raw.zrange(`${stack.prefix}idx:weekly_backup:_`, 0, -1)).toEqual(['tasker']);

    await unchanged(async () => {
      await expectError(await put('/v1/users/tasker/tasks/no_such_task'), 404, 'not_found');
      await expectError(await put('/v1/users/nobody/tasks/daily_user_report'), 404, 'not_found');
      await expectError(await put('/v1/users/tasker/tasks/monthly_cleanup'), 409, 'conflict');
      await expectError(
        await stack.admin('/v1/users/tasker/tasks/no_such_task', { method: 'DELETE' }),
        404,
        'not_found',
      );
      await expectError(await stack.admin('/v1/users/nobody/tasks', {}), 404, 'not_found');
    });

    expect((await stack.admin('/v1/task-types/weekly_analytics/pause', { method: 'POST' })).status).toBe(200);
    await unchanged(async () =>
      expectError(await put('/v1/users/tasker/tasks/weekly_analytics'), 409, 'conflict'),
    );
    expect(
      await (await stack.admin('/v1/task-types/weekly_analytics/resume', { method: 'POST' })).json(),
    ).toEqual({
      id: 'weekly_analytics',
      paused: false,
      changed: true,
    });
    expect((await put('/v1/users/tasker/tasks/weekly_analytics')).status).toBe(201);

    expect((await stack.admin('/v1/users/tasker/tasks/weekly_analytics', { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await stack.admin('/v1/users/tasker/tasks/weekly_analytics', { method: 'DELETE' })).status).toBe(
      204,
    );
    expect(await raw.zrange(`${stack.prefix}idx:weekly_analytics:Asia/Kolkata`, 0, -1)).toEqual([]);
  });

  it("lists a user's tasks with each next run computed in the right zone", async () => {
    await put('/v1/users/zoned', { zone: 'Asia/Kolkata' });
    await put('/v1/users/zoned/tasks/daily_user_report', { params: { lang: 'hi' } });
    await put('/v1/users/zoned/tasks/weekly_backup');
    const before = Date.now();
    const res = await stack.admin('/v1/users/zoned/tasks');
    const after = Date.now();
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      tasks: { taskId: string; status: string; params: unknown; nextRun: Record<string, string> }[];
    };
    const catalog = loadCatalogFileSync('config/tasks.yaml');
    expect(body.tasks.map((t) => t.taskId)).toEqual(['daily_user_report', 'weekly_backup']);
    for (const t of body.tasks) {
      const task = catalog.tasks.find((x) => x.id === t.taskId)!;
      const zone = zoneOf(task, 'Asia/Kolkata');
      const expected = [before, after].map((now) =>
        new Date(nextDue(task.schedule, now, zone).dueAtMs).toISOString(),
      );
      expect(t.status).toBe('active');
      expect(t.nextRun['zone']).toBe(zone);
      expect(expected).toContain(t.nextRun['dueAt']);
    }
    // 07:00 in Kolkata (UTC+5:30) is 01:30 UTC; weekly_backup is fixed to New York.
    expect(body.tasks[0]?.nextRun['dueAt']).toMatch(/T01:30:00\.000Z$/);
    expect(body.tasks[0]?.params).toEqual({ lang: 'hi' });
    expect(body.tasks[1]?.nextRun['zone']).toBe('America/New_York');

    await put('/v1/users/zoned', { zone: 'Asia/Kolkata', enabled: false });
    const disabled = (await (await stack.admin('/v1/users/zoned/tasks')).json()) as typeof body;
    expect(disabled.tasks.map((t) => [t.status, t.nextRun])).toEqual([
      ['user_disabled', null],
      ['user_disabled', null],
    ]);
    expect(await raw.zrange(`${stack.prefix}idx:daily_user_report:Asia/Kolkata`, 0, -1)).not.toContain(
      'zoned',
    );
  });

  it('shows task types with user counts, zone groups and the paused flag', async () => {
    await put('/v1/users/counter_a', { zone: 'Europe/London' });
    await put('/v1/users/counter_b', { zone: 'America/New_York' });
    await put('/v1/users/counter_a/tasks/hourly_data_sync');
    await put('/v1/users/counter_b/tasks/hourly_data_sync');
    const one = (await (await stack.admin('/v1/task-types/hourly_data_sync')).json()) as Record<
      string,
      unknown
    >;
    expect(one).toMatchObject({
      id: 'hourly_data_sync',
      users: 2,
      paused: false,
      enabled: true,
      zone: { policy: 'user' },
      schedule: { every: 'hour', at: ':05' },
      zoneGroups: { 'Europe/London': 1, 'America/New_York': 1 },
    });
    expect(one).not.toHaveProperty('target');
    await stack.admin('/v1/task-types/hourly_data_sync/pause', { method: 'POST' });
    const paused = await stack.admin('/v1/task-types/hourly_data_sync/pause', { method: 'POST' });
    expect(await paused.json()).toEqual({ id: 'hourly_data_sync', paused: true, changed: false });
    const all = (await (await stack.admin('/v1/task-types')).json()) as {
      taskTypes: Record<string, unknown>[];
    };
    expect(all.taskTypes).toHaveLength(10);
    expect(all.taskTypes.find((t) => t['id'] === 'hourly_data_sync')).toMatchObject({
      users: 2,
      paused: true,
    });
    expect(all.taskTypes.find((t) => t['id'] === 'monthly_cleanup')).toMatchObject({ enabled: false });
    await stack.admin('/v1/task-types/hourly_data_sync/resume', { method: 'POST' });
    await expectError(await stack.admin('/v1/task-types/nope'), 404, 'not_found');
    await expectError(await stack.admin('/v1/task-types/nope/pause', { method: 'POST' }), 404, 'not_found');
    expect(await raw.smembers(`${stack.prefix}paused`)).toEqual([]);
  });

  it('serves the OpenAPI document without a key', async () => {
    const res = await fetch(`${stack.api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/users/{userId}/tasks/{taskId}');
  });
});

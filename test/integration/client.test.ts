// stagger/client against the in-process stack: every admin route through the typed client, errors as StaggerApiError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROUTES } from '../../lib/api/routes.js';
import { createStaggerClient, StaggerApiError, type StaggerClient } from '../../lib/client/index.js';
import { startStack, TEST_KEYS, waitFor, type TestStack } from '../helpers/stack.js';
import { writeCatalog } from '../helpers/worker-fixtures.js';

let stack: TestStack;
let client: StaggerClient;
/** `METHOD /path/{template}` -> statuses the client received. */
const seen = new Map<string, number[]>();
const ADMIN_ROUTES = ALL_ROUTES.filter((r) => r.auth === 'admin' || r.auth === 'metrics');

function templateOf(method: string, pathname: string): string {
  for (const r of ADMIN_ROUTES) {
    const re = new RegExp(`^${r.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (r.method === method && re.test(pathname)) return `${r.method} ${r.path}`;
  }
  return `${method} ${pathname}`;
}

beforeAll(async () => {
  const catalog = writeCatalog({}, [
    { id: 'hello', retries: 0 },
    { id: 'refused', retries: 0 },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog },
    target: { respond: (hit) => (hit.path.startsWith('/t/refused/') ? 404 : 200) },
  });
  client = createStaggerClient({
    baseUrl: `${stack.api.url}/`,
    adminKey: TEST_KEYS.adminKey,
    fetch: async (req) => {
      const res = await fetch(req);
      const key = templateOf(req.method, new URL(req.url).pathname);
      seen.set(key, [...(seen.get(key) ?? []), res.status]);
      return res;
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('stagger/client', () => {
  it('manages users and their tasks', async () => {
    const created = await client.users.put('ada@example.com', {
      zone: 'Europe/London',
      labels: { plan: 'pro' },
    });
    expect(created).toMatchObject({ id: 'ada@example.com', zone: 'Europe/London', enabled: true, tasks: [] });
    await client.users.put('bob', { zone: 'UTC' });
    expect((await client.users.get('ada@example.com')).labels).toEqual({ plan: 'pro' });

    const page = await client.users.list({ limit: 1 });
    expect(page.users.map((u) => u.id)).toEqual(['ada@example.com']);
    expect(page.nextCursor).toBe('ada@example.com');
    const all = [];
    for await (const u of client.users.all(1)) all.push(u.id);
    expect(all).toEqual(['ada@example.com', 'bob']);

    const enabled = await client.tasks.enable('ada@example.com', 'hello', { note: 'hi', n: 3 });
    expect(enabled).toMatchObject({ outcome: 'enabled', params: { note: 'hi', n: 3 } });
    expect((await client.tasks.enable('ada@example.com', 'hello', { note: 'hi', n: 3 })).outcome).toBe(
      'unchanged',
    );
    const tasks = await client.tasks.list('ada@example.com');
    expect(tasks.tasks).toHaveLength(1);
    expect(tasks.tasks[0]).toMatchObject({ taskId: 'hello', status: 'active' });
    expect(tasks.tasks[0]?.nextRun?.periodKey).toMatch(/^\d{4}-\d\d-\d\dT\d\d$/);
    await client.tasks.disable('ada@example.com', 'hello');
    expect((await client.tasks.list('ada@example.com')).tasks).toEqual([]);
  });

  it('pauses and resumes task types', async () => {
    const list = await client.taskTypes.list();
    expect(list.taskTypes.map((t) => t.id).sort()).toEqual(['hello', 'refused']);
    expect(await client.taskTypes.pause('hello')).toEqual({ id: 'hello', paused: true, changed: true });
    expect((await client.taskTypes.get('hello')).paused).toBe(true);
    const refused = await client.tasks.enable('bob', 'hello').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StaggerApiError);
    expect((refused as StaggerApiError).status).toBe(409);
    expect(await client.taskTypes.resume('hello')).toEqual({ id: 'hello', paused: false, changed: true });
  });

  it('runs a task now, follows the job, lists runs, and handles its dead letter', async () => {
    await client.tasks.enable('bob', 'hello', { note: 'x' });
    await client.tasks.enable('bob', 'refused', { note: 'x' });
    const ok = await client.tasks.runNow('bob', 'hello');
    expect(ok.jobId).toMatch(/^hello:bob:manual-/);
    const job = await waitFor(async () => {
      const j = await client.jobs.get(ok.jobId);
      return j.state === 'succeeded' ? j : undefined;
    });
    expect(job).toMatchObject({ taskId: 'hello', userId: 'bob', attempts: 1, lastStatus: 200 });
    const runs = await client.runs.list('bob', { taskId: 'hello', limit: 5 });
    expect(runs.items[0]).toMatchObject({ jobId: ok.jobId, outcome: 'succeeded', origin: 'manual' });

    const bad = await client.tasks.runNow('bob', 'refused');
    const dl = await waitFor(async () =>
      (await client.deadLetters.list()).items.find((d) => d.jobId === bad.jobId),
    );
    expect(dl).toMatchObject({ reason: 'permanent', lastStatus: 404, taskId: 'refused' });
    const collected = [];
    for await (const d of client.deadLetters.all(1)) collected.push(d.id);
    expect(collected).toEqual([dl.id]);
    const replayed = await client.deadLetters.replay(dl.id);
    expect(replayed.jobId).toBe(bad.jobId);
    const again = await waitFor(async () =>
      (await client.deadLetters.list({ limit: 10 })).items.find((d) => d.jobId === bad.jobId),
    );
    await client.deadLetters.delete(again.id);
    expect((await client.deadLetters.list()).items).toEqual([]);
  });

  it('reads the scheduler, runs a tick, and reads the overview and metrics', async () => {
    const tick = await client.scheduler.run();
    expect(tick.locked).toBe(false); // false: this tick took the lock itself
    const status = await client.scheduler.status();
    expect(status.lastTick?.fence).toBe(tick.fence);
    const overview = await client.overview({ chart: 'hello' });
    expect(overview).toHaveProperty('scheduler');
    const metrics = await client.metrics();
    expect(metrics).toMatch(/^stagger_jobs_succeeded_total\{task="hello"\} 1$/m);
  });

  it('answers errors as StaggerApiError with the fields the API named', async () => {
    const err = (await client.users
      .put('carol', { zone: 'Mars/Olympus' })
      .catch((e: unknown) => e)) as StaggerApiError;
    expect(err).toBeInstanceOf(StaggerApiError);
    expect(err.status).toBe(400);
    expect(err.details.map((d) => d.path)).toContain('body.zone');
    expect(err.requestId).toBeTruthy();
    const missing = (await client.users.get('nobody').catch((e: unknown) => e)) as StaggerApiError;
    expect([missing.status, missing.code]).toEqual([404, 'not_found']);
    await client.users.delete('bob');
    const wrongKey = createStaggerClient({ baseUrl: stack.api.url, adminKey: 'not-the-key' });
    expect(((await wrongKey.taskTypes.list().catch((e: unknown) => e)) as StaggerApiError).status).toBe(401);
  });

  it('drove every admin route of the OpenAPI document with a 2xx answer', () => {
    const missing = ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`).filter(
      (k) => !(seen.get(k) ?? []).some((s) => s >= 200 && s < 300),
    );
    expect(missing).toEqual([]);
    expect(ADMIN_ROUTES.length).toBeGreaterThanOrEqual(20);
  });
});

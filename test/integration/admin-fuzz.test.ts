// Fuzzes the admin API over real HTTP: random paths, query strings and bodies get 2xx or 4xx, never 5xx,
// and every 4xx leaves Redis exactly as it was (a server-side digest of every key under the prefix).
import { Redis } from '@upstash/redis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { ErrorBody } from '../../lib/admin/schemas.js';
import { contentDigest } from '../helpers/redis-digest.js';
import { TEST_KEYS, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let raw: Redis;

const digest = () => contentDigest(raw, stack.prefix);

const USERS = ['alice', 'bob', '007', 'c.d@e'];
const TASKS = [
  'hourly_data_sync',
  'daily_user_report',
  'weekly_backup',
  'monthly_billing',
  'monthly_cleanup',
];

beforeAll(async () => {
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

async function seed() {
  for (const [i, id] of USERS.entries()) {
    await stack.admin(`/v1/users/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: JSON.stringify({ zone: ['Europe/London', 'Asia/Kolkata'][i % 2] }),
    });
    await stack.admin(`/v1/users/${encodeURIComponent(id)}/tasks/${TASKS[i % 3]}`, {
      method: 'PUT',
      body: '{}',
    });
  }
}

// ---- generators: mostly near-valid input (where bugs hide), some plain noise

const segment = fc.oneof(
  fc.constantFrom(
    ...USERS,
    ...TASKS,
    'nobody',
    'no_such_task',
    '',
    '..',
    'a'.repeat(129),
    'Bad-Task',
    '%',
    'x/y',
  ),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const routePath = fc
  .tuple(fc.constantFrom(...Object.values(ADMIN_ROUTES).map((r) => r.path)), segment, segment)
  .map(([template, a, b]) =>
    template.replace('{userId}', encodeURIComponent(a)).replace('{taskId}', encodeURIComponent(b)),
  );
const noisePath = fc
  .array(fc.oneof(fc.constantFrom('v1', 'users', 'tasks', 'task-types', 'pause'), segment), { maxLength: 6 })
  .map((parts) => `/${parts.map(encodeURIComponent).join('/')}`);

const queryValue = fc.oneof(
  fc.constantFrom('0', '1', '100', '1000', '1001', '-1', '1.5', '1e2', ' 5', 'alice', ''),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor'), fc.string({ maxLength: 8 })), queryValue), {
    maxLength: 3,
  })
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs).toString()}` : ''));

const zone = fc.oneof(
  fc.constantFrom(
    'UTC',
    'Europe/London',
    'America/New_York',
    'Asia/Kolkata',
    'europe/london',
    'Mars/Base',
    '+05:30',
    '',
  ),
  fc.string({ maxLength: 30 }),
);
const json = fc.jsonValue({ maxDepth: 3 });
const userBody = fc.record(
  {
    zone: fc.oneof(zone, json),
    enabled: fc.oneof(fc.boolean(), json),
    labels: fc.oneof(fc.dictionary(fc.string(), fc.string()), json),
  },
  { requiredKeys: [] },
);
const paramValue = fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.integer(), fc.boolean(), json);
const taskBody = fc.record(
  { params: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), paramValue, { maxKeys: 5 }), json) },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.oneof(userBody, taskBody, json).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', 'null', '[]', '""', '{"zone":"UTC"}', 'x'.repeat(20_000)) },
);

const noise = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
  path: fc.oneof({ weight: 4, arbitrary: routePath }, { weight: 1, arbitrary: noisePath }),
  query,
  body,
});
// Well-formed requests on the known users and tasks, so state keeps changing between the noisy ones.
const wellFormed = fc
  .tuple(
    fc.constantFrom(...Object.values(ADMIN_ROUTES)),
    fc.constantFrom(...USERS),
    fc.constantFrom(...TASKS),
    fc.constantFrom('UTC', 'Europe/London', 'America/New_York'),
    fc.boolean(),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([route, user, task, zone, enabled, n]) => ({
    method: route.method,
    path: route.path.replace('{userId}', encodeURIComponent(user)).replace('{taskId}', task),
    query: route.path === '/v1/users' ? '?limit=2' : '',
    body:
      route.operationId === 'putUser'
        ? JSON.stringify({ zone, enabled })
        : route.operationId === 'putUserTask'
          ? JSON.stringify({ params: { n } })
          : undefined,
  }));
const request = fc.oneof({ weight: 3, arbitrary: noise }, { weight: 2, arbitrary: wellFormed });

describe('admin API under random input', () => {
  it('answers 2xx or 4xx, never 5xx, and a 4xx writes nothing', async () => {
    await seed();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = await digest();
        const res = await stack.admin(`${r.path}${r.query}`, {
          method: r.method,
          ...(r.body === undefined || r.method === 'GET' ? {} : { body: r.body }),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${r.method} ${r.path}${r.query} ${text}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(await digest(), `${r.method} ${r.path}${r.query} ${text}`).toBe(before);
          // Our handlers' errors (the harness's own 404 for an unknown route has no request id).
          if (res.headers.get('x-request-id')) {
            ErrorBody.strict().parse(JSON.parse(text));
            expect(text).not.toContain('stack');
          }
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`admin fuzz statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The fuzz reached the interesting answers, not only 404s.
    for (const [status, least] of [
      [200, 50],
      [201, 5],
      [204, 20],
      [400, 200],
      [404, 50],
      [409, 3],
    ] as const) {
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThanOrEqual(least);
    }
  }, 120_000);
});

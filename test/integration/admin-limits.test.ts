// Admin abuse limits with the real @upstash/ratelimit through the bridge: budgets per key and per address, per class, and a 429 at the edge.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../lib/admin/schemas.js';
import { AdminLimiter, adminLimitSettings, limitClassOf } from '../../lib/http/admin-limits.js';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { JOB_ROUTES } from '../../lib/jobs/routes.js';
import { uniquePrefix } from '../helpers/redis.js';
import { TEST_KEYS, startStack, type TestStack } from '../helpers/stack.js';
import { deliverSigned, jobMessage } from '../helpers/worker-fixtures.js';

const SECOND_KEY = 'second-admin-key-0123456789';
let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      STAGGER_ADMIN_API_KEYS: `${TEST_KEYS.adminKey},${SECOND_KEY}`,
      STAGGER_ADMIN_LIMIT_WRITES: '5/1m',
      STAGGER_ADMIN_LIMIT_READS: '40/1m',
      STAGGER_ADMIN_LIMIT_RUN_NOW: '2/1m',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('admin limit settings', () => {
  it('reads documented defaults, treats empty variables as unset, and names a bad variable', () => {
    expect(adminLimitSettings({ STAGGER_ADMIN_LIMIT_READS: '' })).toEqual({
      enabled: true,
      budgets: {
        reads: { limit: 1200, windowMs: 60_000 },
        writes: { limit: 600, windowMs: 60_000 },
        runNow: { limit: 30, windowMs: 60_000 },
      },
    });
    expect(adminLimitSettings({ STAGGER_ADMIN_LIMITS: 'off' }).enabled).toBe(false);
    expect(() => adminLimitSettings({ STAGGER_ADMIN_LIMIT_WRITES: 'lots' })).toThrow(
      /STAGGER_ADMIN_LIMIT_WRITES/,
    );
    expect(() => adminLimitSettings({ STAGGER_ADMIN_LIMIT_RUN_NOW: '5/10ms' })).toThrow(
      /STAGGER_ADMIN_LIMIT_RUN_NOW/,
    );
  });

  it('classes every admin route: run-now apart, GETs as reads, the rest as writes', () => {
    expect(limitClassOf(JOB_ROUTES.runNow)).toBe('runNow');
    expect(limitClassOf(ADMIN_ROUTES.getUser)).toBe('reads');
    expect(limitClassOf(ADMIN_ROUTES.putUser)).toBe('writes');
    expect(limitClassOf(ADMIN_ROUTES.deleteUserTask)).toBe('writes');
  });
});

describe('admin limiter against the bridge', () => {
  // timeout 0 and no ephemeral cache: every verdict comes from Redis, never from a timeout.
  const limiter = () =>
    new AdminLimiter(
      new Redis({ url: stack.bridge.url, token: TEST_KEYS.redisToken, retry: false }),
      {
        enabled: true,
        budgets: {
          reads: { limit: 10, windowMs: 60_000 },
          writes: { limit: 3, windowMs: 60_000 },
          runNow: { limit: 1, windowMs: 60_000 },
        },
      },
      { prefix: uniquePrefix('adminrl'), timeoutMs: 0, ephemeralCache: false },
    );

  it('gives each key and each address its own budget per class', async () => {
    const rl = limiter();
    const a = { key: 'key-a', address: '10.0.0.1' };
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await rl.check('writes', a));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
    const denied = verdicts[3]!;
    expect(denied).toMatchObject({ allowed: false, scope: 'key', limit: 3 });
    if (!denied.allowed) {
      expect(denied.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    // Reads and run-now are separate budgets; another key from another address is untouched.
    expect((await rl.check('reads', a)).allowed).toBe(true);
    expect((await rl.check('runNow', a)).allowed).toBe(true);
    expect((await rl.check('writes', { key: 'key-b', address: '10.0.0.2' })).allowed).toBe(true);
    // Many keys from one address share the address's budget.
    const shared = [];
    for (const key of ['k1', 'k2', 'k3', 'k4'])
      shared.push(await rl.check('writes', { key, address: '10.0.0.3' }));
    expect(shared.map((v) => (v.allowed ? 'ok' : v.scope))).toEqual(['ok', 'ok', 'ok', 'address']);
  });

  it('lets everything through when switched off', async () => {
    const redis = new Redis({ url: stack.bridge.url, token: TEST_KEYS.redisToken, retry: false });
    const off = new AdminLimiter(
      redis,
      { ...adminLimitSettings({}), enabled: false },
      { prefix: uniquePrefix('adminrl'), timeoutMs: 0, ephemeralCache: false },
    );
    for (let i = 0; i < 5; i++)
      expect((await off.check('runNow', { key: 'k', address: 'a' })).allowed).toBe(true);
  });
});

describe('admin limits at the edge', () => {
  it('answers a burst of writes past the budget with 429, Retry-After and the error shape, writing nothing; reads, /health and signed routes go on', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    const responses = await Promise.all(
      ids.map((id) =>
        stack.admin(`/v1/users/${id}`, { method: 'PUT', body: JSON.stringify({ zone: 'UTC' }) }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    for (const [i, res] of responses.entries()) {
      if (res.status !== 429) continue;
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
      const body = ErrorBody.parse(await res.json());
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).not.toContain(TEST_KEYS.adminKey);
      expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
      // The refused write never happened.
      expect((await stack.admin(`/v1/users/${ids[i]}`)).status).toBe(404);
    }

    // Reads have their own budget; the unauthenticated health check and QStash-signed routes are never limited.
    expect((await stack.admin('/v1/users?limit=10')).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await fetch(`${stack.api.url}/health`)).status).toBe(200);
    const signed = await deliverSigned(
      stack,
      '/internal/jobs',
      JSON.stringify(jobMessage('daily_user_report', 'nobody', 'p-limits')),
    );
    expect(signed.status).toBe(200);

    // Another key from the same address meets the address's exhausted write budget.
    const other = await stack.admin('/v1/users/other-key-user', {
      method: 'PUT',
      body: JSON.stringify({ zone: 'UTC' }),
      headers: { authorization: `Bearer ${SECOND_KEY}` },
    });
    expect(other.status).toBe(429);
    expect(ErrorBody.parse(await other.json()).error.message).toMatch(/address/);
  });

  it('gives run-now its own, tighter budget (spent by refused calls too: the limit comes first)', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.admin('/v1/users/runner/tasks/daily_user_report/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${SECOND_KEY}` },
      });
      statuses.push(res.status);
    }
    expect(statuses[2]).toBe(429);
    expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
  });
});

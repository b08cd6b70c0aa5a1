// The worker on real reservations (runDelivery over JobStore and a real redis-server), on injected clocks and sleeps:
// it waits exactly the reserved wait, and a worker that dies (or stalls) waiting never calls after its lease.
import { Redis } from '@upstash/redis';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog } from '../../lib/domain/catalog.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { logger } from '../../lib/log.js';
import { keysFor } from '../../lib/store/keys.js';
import { JobStore } from '../../lib/worker/job-store.js';
import { runDelivery, type WorkerDeps } from '../../lib/worker/run-delivery.js';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';
import { jobMessage } from '../helpers/worker-fixtures.js';

const TOKEN = 'worker-reservations-test-token';
const bridge = useBridge(TOKEN);
let redis: Redis;

beforeAll(() => {
  redis = new Redis({ url: bridge.url, token: TOKEN, retry: false });
});

/** Ahead of the server clock, so the start script's time is the injected one. */
const T0 = 1_800_000_000_000;
const catalog = parseCatalog(`
version: 1
allowedHosts: [api.example.com]
rateLimits:
  global: { limit: 1, window: 1s }
tasks:
  - id: t
    description: d
    schedule: { every: hour }
    zone: { policy: fixed, tz: UTC }
    spread: 10m
    target: { method: POST, url: 'https://api.example.com/t/{{periodKey}}' }
    timeoutMs: 5000
    retries: 3
`);

async function world() {
  const keys = keysFor(uniquePrefix('wr'));
  await redis.hset(keys.user('u'), { enabled: '1', zone: 'UTC' });
  await redis.hset(keys.userTasks('u'), { t: '{}' });
  const store = new JobStore(redis, keys, 25);
  const calls: { path: string; at: number }[] = [];
  const published: JobMessage[] = [];
  /** One worker: its own clock starting at `at`, a sleep that moves it (or `sleep` when given). */
  const worker = (at: number, sleep?: (ms: number) => Promise<void>) => {
    const w = { now: at };
    const deps: WorkerDeps = {
      store,
      publisher: { publish: async (m) => (published.push(m), 'msg') },
      catalog,
      log: () => logger,
      clock: () => w.now,
      random: () => 0,
      sleep:
        sleep ??
        (async (ms) => {
          w.now += ms;
        }),
      fetch: async (url) => (
        calls.push({ path: new URL(String(url)).pathname, at: w.now }),
        new Response(null)
      ),
    };
    return { w, deliver: (m: JobMessage) => runDelivery(deps, { message: m, messageId: 'x', retried: 0 }) };
  };
  return { keys, store, calls, published, worker };
}

const job = (period: string) => jobMessage('t', 'u', period, { notBefore: T0 - 1000 });

describe('worker on reservations', () => {
  it('waits exactly the reserved wait, then calls: two starts at one instant reach the target one slot apart', async () => {
    const { calls, published, worker } = await world();
    const [a, b] = await Promise.all([worker(T0).deliver(job('a')), worker(T0).deliver(job('b'))]);
    expect([a, b]).toMatchObject([
      { kind: 'ack', outcome: 'succeeded' },
      { kind: 'ack', outcome: 'succeeded' },
    ]);
    // 1 per (1000 + 25) ms: one call at once, the other after waiting in process, nothing re-published.
    expect(calls.map((c) => c.at).sort()).toEqual([T0, T0 + 1025]);
    expect(published).toEqual([]);
  });

  it('defers a start whose instant is past the budget, without a claim or a log entry', async () => {
    const { keys, calls, published, worker } = await world();
    // 1025 ms apart: a 3 s budget holds the instants 0, 1025 and 2050; the fourth is 3075.
    const runs = await Promise.all(['a', 'b', 'c', 'd'].map((p) => worker(T0).deliver(job(p))));
    expect(runs.filter((r) => r.kind === 'ack' && r.outcome === 'succeeded')).toHaveLength(3);
    expect(calls.map((c) => c.at).sort()).toEqual([T0, T0 + 1025, T0 + 2050]);
    expect(published).toHaveLength(1);
    expect(published[0]!.notBefore).toBeGreaterThan(T0 + 3000);
    expect(await redis.zcard(keys.ratelimit('global'))).toBe(3);
  });

  it('a worker that stalls waiting past its lease is taken over; it never calls, and the job runs once', async () => {
    const { keys, calls, worker } = await world();
    await worker(T0).deliver(job('other'));
    // The first delivery reserves T0 + 1025 and then stalls (a frozen or dying Lambda) in its wait.
    let wake: () => void = () => {};
    const stalled = worker(T0, () => new Promise<void>((r) => (wake = r)));
    const first = stalled.deliver(job('x'));
    await expect.poll(() => redis.hget(keys.job(job('x').jobId), 'leaseUntil')).toBe(T0 + 1025 + 7000);
    // Until its lease ends (the wait, then the 5 s timeout and 2 s margin), another delivery is turned back.
    expect(await worker(T0 + 8024).deliver(job('x'))).toMatchObject({ kind: 'retry', reason: 'running' });
    expect(await worker(T0 + 8025).deliver(job('x'))).toMatchObject({ kind: 'ack', outcome: 'succeeded' });
    // The stalled worker wakes long after its instant: its claim is gone, so it gives up without calling.
    stalled.w.now = T0 + 9000;
    wake();
    expect(await first).toEqual({ kind: 'retry', reason: 'claim_lost' });
    expect(calls.filter((c) => c.path === '/t/x')).toEqual([{ path: '/t/x', at: T0 + 8025 }]);
    expect(await redis.hget(keys.job(job('x').jobId), 'state')).toBe('succeeded');
  });
});

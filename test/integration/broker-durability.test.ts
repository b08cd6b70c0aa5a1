// Durability of the local QStash broker: shared Redis, restarts and dead brokers never lose or double a delivery.
import { Client, type PublishToUrlResponse } from '@upstash/qstash';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingTarget, type RecordingTarget } from '../helpers/recording-target.js';
import {
  startBroker,
  type BrokerOptions,
  type DeliveryReport,
  type RunningBroker,
} from '../../scripts/broker/server.js';
import { BrokerStore } from '../../scripts/broker/store.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

const TOKEN = 'test-token';

let redisProc: RedisProcess;
let redis: Redis;
let target: RecordingTarget;
const running: RunningBroker[] = [];

beforeAll(async () => {
  redisProc = await startTestRedis();
  redis = new Redis(redisProc.url);
  target = await startRecordingTarget();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  await target?.close();
  redis?.disconnect();
  await redisProc?.stop();
});

async function broker(prefix: string, extra: Partial<BrokerOptions> = {}): Promise<RunningBroker> {
  const b = await startBroker({
    redisUrl: redisProc.url,
    token: TOKEN,
    currentSigningKey: 'sig_current',
    nextSigningKey: 'sig_next',
    port: 0,
    keyPrefix: prefix,
    retryBaseMs: 50,
    pollIntervalMs: 10,
    ...extra,
  });
  running.push(b);
  return b;
}

/** Publishes `count` messages to `url` in batches of 100; answers their ids. */
async function publishMany(client: Client, url: string, count: number, delay: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const size = Math.min(100, count - start);
    const batch = Array.from({ length: size }, (_, i) => ({ url, body: `m${start + i}`, delay }));
    ids.push(...((await client.batch(batch)) as PublishToUrlResponse[]).map((r) => r.messageId));
  }
  return ids;
}

/** Delivery count per message id among the requests to `path`. */
function deliveriesById(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of target.received(path)) {
    const id = r.headers['upstash-message-id'] as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('durable delivery', () => {
  it('two brokers on one Redis deliver each of 200 messages exactly once, and both take part', async () => {
    const prefix = uniquePrefix('pair');
    const reports = { a: [] as DeliveryReport[], b: [] as DeliveryReport[] };
    const collect = (into: DeliveryReport[]) => (e: { event: string }) => {
      if (e.event === 'delivery') into.push(e as unknown as DeliveryReport);
    };
    const a = await broker(prefix, { log: collect(reports.a), concurrency: 16 });
    const b = await broker(prefix, { log: collect(reports.b), concurrency: 16 });
    const path = '/pair';
    // The target answers nobody until 32 deliveries wait at once: more than one broker's 16, so both must have
    // claimed (by count, not by who polled first on a busy machine).
    const gate = target.hold(path);
    // All due at the same second, published through both brokers: both race for the same claims.
    const ids = [
      ...(await publishMany(
        new Client({ baseUrl: a.url, token: TOKEN, retry: false }),
        `${target.url}${path}`,
        100,
        1,
      )),
      ...(await publishMany(
        new Client({ baseUrl: b.url, token: TOKEN, retry: false }),
        `${target.url}${path}`,
        100,
        1,
      )),
    ];
    await target.waitFor(() => gate.waiting() === 32, '32 deliveries in flight at once', 30_000);
    gate.release();
    const store = new BrokerStore(redis, prefix);
    await target.waitFor(() => deliveriesById(path).size === 200, '200 distinct deliveries', 30_000);
    await target.waitFor(async () => (await store.pendingCount()) === 0, 'nothing pending');
    // A broker reports a delivery once it has settled it, so the last reports can follow "nothing pending".
    await target.waitFor(() => reports.a.length + reports.b.length >= 200, 'a report of every delivery');

    const counts = deliveriesById(path);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(target.received(path)).toHaveLength(200);
    expect(reports.a.length + reports.b.length).toBe(200);
    expect(reports.a.length).toBeGreaterThanOrEqual(16);
    expect(reports.b.length).toBeGreaterThanOrEqual(16);
  }, 90_000);

  it('a broker stopped while 1,000 delayed messages wait loses none; the next one delivers each exactly once', async () => {
    const prefix = uniquePrefix('restart');
    const path = '/restart';
    // The first broker accepts but delivers nothing (no delivery slots): what it held must survive it in Redis,
    // whatever the time its shutdown takes (before, the test needed publish + shutdown inside the 2 s delay).
    const first = await broker(prefix, { concurrency: 0 });
    const ids = await publishMany(
      new Client({ baseUrl: first.url, token: TOKEN, retry: false }),
      `${target.url}${path}`,
      1000,
      1,
    );
    await first.close();
    expect(target.received(path)).toHaveLength(0);
    const store = new BrokerStore(redis, prefix);
    expect(await store.pendingCount()).toBe(1000);

    await broker(prefix);
    await target.waitFor(() => deliveriesById(path).size === 1000, '1,000 distinct deliveries', 60_000);
    await target.waitFor(async () => (await store.pendingCount()) === 0, 'nothing pending');
    const counts = deliveriesById(path);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect(target.received(path)).toHaveLength(1000);
  }, 120_000);

  it('a message claimed by a broker that died is delivered once its lease runs out, and the dead claim cannot settle', async () => {
    const prefix = uniquePrefix('lease');
    const path = '/lease';
    const store = new BrokerStore(redis, prefix);
    // Accepts only: however slow its shutdown, it cannot deliver the message itself.
    const first = await broker(prefix, { concurrency: 0 });
    const { messageId } = await new Client({ baseUrl: first.url, token: TOKEN, retry: false }).publish({
      url: `${target.url}${path}`,
      body: 'x',
      delay: 1,
    });
    await first.close();

    // Play the broker that claims the message and crashes before delivering it.
    const leaseMs = 800;
    let claimedAt = 0;
    let claimed: Awaited<ReturnType<BrokerStore['claimDue']>> = [];
    await target.waitFor(
      async () => {
        claimedAt = Date.now();
        claimed = await store.claimDue(claimedAt, 10, leaseMs, 'crashed-broker');
        return claimed.length === 1;
      },
      'the message to come due',
      20_000,
    );
    expect(claimed[0]!.messageId).toBe(messageId);

    await broker(prefix);
    await target.waitFor(() => target.received(path).length === 1, 'the redelivery', 20_000);
    await target.waitFor(async () => (await store.pendingCount()) === 0, 'nothing pending');
    const got = target.received(path)[0]!;
    expect(got.at).toBeGreaterThanOrEqual(claimedAt + leaseMs);
    expect(got.headers['upstash-message-id']).toBe(messageId);
    expect(got.headers['upstash-retried']).toBe('0');
    expect(await store.ack(claimed[0]!)).toBe(false);
    expect(target.received(path)).toHaveLength(1);
  }, 60_000);
});

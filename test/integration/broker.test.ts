// Contract tests: the unmodified @upstash/qstash Client and Receiver against the local broker.
import { Client, Receiver, type PublishToUrlResponse } from '@upstash/qstash';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startRecordingTarget,
  type RecordedRequest,
  type RecordingTarget,
} from '../helpers/recording-target.js';
import { evalRetryDelay, parseDuration, qstashBackoffMs } from '../../scripts/broker/retry-policy.js';
import { startBroker, type RunningBroker } from '../../scripts/broker/server.js';
import { BrokerStore } from '../../scripts/broker/store.js';
import { startTestRedis, uniquePrefix, type RedisProcess } from '../helpers/redis.js';

const TOKEN = 'test-token';
const CURRENT = 'sig_test_current';
const NEXT = 'sig_test_next';
const receiver = new Receiver({ currentSigningKey: CURRENT, nextSigningKey: NEXT });

let redisProc: RedisProcess;
let redis: Redis;
let target: RecordingTarget;
let broker: RunningBroker;
let client: Client;
let store: BrokerStore;
let n = 0;
/** A fresh destination path per use, so tests never see each other's requests. */
let path: (name: string) => string;

beforeAll(async () => {
  redisProc = await startTestRedis();
  redis = new Redis(redisProc.url);
  target = await startRecordingTarget();
});

afterAll(async () => {
  await target?.close();
  redis?.disconnect();
  await redisProc?.stop();
});

beforeEach(async () => {
  const prefix = uniquePrefix('broker');
  broker = await startBroker({
    redisUrl: redisProc.url,
    token: TOKEN,
    currentSigningKey: CURRENT,
    nextSigningKey: NEXT,
    port: 0,
    keyPrefix: prefix,
    retryBaseMs: 50,
    pollIntervalMs: 20,
  });
  client = new Client({ baseUrl: broker.url, token: TOKEN, retry: false });
  store = new BrokerStore(redis, prefix);
  const run = ++n;
  path = (name) => `/${run}/${name}`;
});

afterEach(async () => {
  await broker?.close();
});

const urlOf = (p: string) => `${target.url}${p}`;
const header = (r: RecordedRequest, name: string) => r.headers[name.toLowerCase()] as string | undefined;
const verify = (r: RecordedRequest, url: string, body = r.body.toString('utf8')) =>
  receiver.verify({ signature: header(r, 'upstash-signature') ?? '', body, url });
const nothingPending = () =>
  target.waitFor(async () => (await store.pendingCount()) === 0, 'no pending messages');

describe('publish and delivery', () => {
  it('delivers a delayed message no earlier than notBefore, signed for its URL, with message id and retried 0', async () => {
    const p = path('delayed');
    const url = `${urlOf(p)}?user=42&x=a%20b`;
    const sentAt = Date.now();
    const res = await client.publishJSON({ url, body: { hello: 'world' }, delay: 1 });
    const info = await client.messages.get(res.messageId);
    expect(info.url).toBe(url);
    expect(info.notBefore).toBeGreaterThanOrEqual(sentAt + 1000);

    await target.waitFor(() => target.received(p).length === 1, 'the delayed delivery', 5000);
    const [got] = target.received(p) as [RecordedRequest];
    expect(got.at).toBeGreaterThanOrEqual(info.notBefore!);
    expect(got.url).toBe(`${p}?user=42&x=a%20b`);
    expect(got.body.toString()).toBe('{"hello":"world"}');
    expect(header(got, 'content-type')).toBe('application/json');
    expect(header(got, 'upstash-message-id')).toBe(res.messageId);
    expect(header(got, 'upstash-retried')).toBe('0');
    await expect(verify(got, url)).resolves.toBe(true);
  });

  it('holds a message until Upstash-Not-Before (unix seconds)', async () => {
    const p = path('not-before');
    const notBefore = Math.ceil(Date.now() / 1000) + 1;
    await client.publish({ url: urlOf(p), body: 'x', notBefore });
    await target.waitFor(() => target.received(p).length === 1, 'the not-before delivery', 5000);
    expect(target.received(p)[0]!.at).toBeGreaterThanOrEqual(notBefore * 1000);
  });

  it('signs so that the Receiver refuses a tampered body, another URL and unknown keys, and accepts the next key', async () => {
    const p = path('signed');
    await client.publish({ url: urlOf(p), body: 'original body' });
    await target.waitFor(() => target.received(p).length === 1, 'the delivery');
    const got = target.received(p)[0]!;
    await expect(verify(got, urlOf(p))).resolves.toBe(true);
    await expect(verify(got, urlOf(p), 'original body!')).rejects.toThrow(/body hash does not match/);
    await expect(verify(got, urlOf(`${p}-other`))).rejects.toThrow(/invalid subject/);
    const stranger = new Receiver({ currentSigningKey: 'sig_wrong_a', nextSigningKey: 'sig_wrong_b' });
    await expect(
      stranger.verify({ signature: header(got, 'upstash-signature')!, body: 'original body' }),
    ).rejects.toThrow();
    // After a key roll the receiver's "next" key is the broker's current one.
    const rolled = new Receiver({ currentSigningKey: 'sig_wrong_a', nextSigningKey: CURRENT });
    await expect(
      rolled.verify({ signature: header(got, 'upstash-signature')!, body: 'original body', url: urlOf(p) }),
    ).resolves.toBe(true);
  });

  it('forwards Upstash-Forward-* headers without prefix, Content-Type and the method; keeps its own headers back', async () => {
    const p = path('forward');
    await client.publish({
      url: `${urlOf(p)}?q=1`,
      method: 'PUT',
      body: 'payload',
      headers: { 'X-Custom': 'abc', Authorization: 'Bearer downstream', 'Content-Type': 'text/plain' },
      retries: 2,
      timeout: '5s',
    });
    await target.waitFor(() => target.received(p).length === 1, 'the forwarded delivery');
    const got = target.received(p)[0]!;
    expect(got.method).toBe('PUT');
    expect(got.body.toString()).toBe('payload');
    expect(header(got, 'x-custom')).toBe('abc');
    expect(header(got, 'authorization')).toBe('Bearer downstream');
    expect(header(got, 'content-type')).toBe('text/plain');
    expect(header(got, 'user-agent')).toBe('Upstash-QStash');
    const leaked = Object.keys(got.headers).filter((h) =>
      /^upstash-(forward|method|retries|timeout|telemetry)/.test(h),
    );
    expect(leaked).toEqual([]);
  });

  it('publishes a batch: one answer per message, each delivered with its own body and headers', async () => {
    const [a, b, c] = [path('batch-a'), path('batch-b'), path('batch-c')];
    const res = (await client.batch([
      { url: urlOf(a), body: 'body-a', headers: { 'X-Item': 'a' } },
      { url: urlOf(b), body: 'body-b', headers: { 'X-Item': 'b' } },
      { url: urlOf(c), body: 'body-c', delay: 1 },
    ])) as PublishToUrlResponse[];
    expect(res).toHaveLength(3);
    expect(new Set(res.map((r) => r.messageId)).size).toBe(3);
    await target.waitFor(
      () => [a, b, c].every((x) => target.received(x).length === 1),
      'three batch deliveries',
      5000,
    );
    for (const [i, x] of [a, b, c].entries()) {
      const got = target.received(x)[0]!;
      expect(got.body.toString()).toBe(`body-${'abc'[i]}`);
      expect(header(got, 'upstash-message-id')).toBe(res[i]!.messageId);
      await expect(verify(got, urlOf(x))).resolves.toBe(true);
    }
    expect(header(target.received(a)[0]!, 'x-item')).toBe('a');
    expect(header(target.received(b)[0]!, 'x-item')).toBe('b');
  });

  it('refuses a wrong token with 401 and serves the signing keys', async () => {
    const wrong = new Client({ baseUrl: broker.url, token: 'not-the-token', retry: false });
    await expect(wrong.publish({ url: urlOf(path('never')), body: 'x' })).rejects.toMatchObject({
      status: 401,
    });
    const keys = await fetch(`${broker.url}/v2/keys`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(await keys.json()).toEqual({ current: CURRENT, next: NEXT });
    expect((await fetch(`${broker.url}/v2/keys`)).status).toBe(401);
  });
});

describe('deduplication and cancel', () => {
  it('deduplicates by id: the second publish answers the first id with deduplicated: true; one delivery', async () => {
    const p = path('dedup-id');
    const first = await client.publish({ url: urlOf(p), body: 'one', deduplicationId: 'job:1' });
    const second = await client.publish({ url: urlOf(p), body: 'two', deduplicationId: 'job:1' });
    expect(first.deduplicated ?? false).toBe(false);
    expect(second).toMatchObject({ messageId: first.messageId, deduplicated: true });
    await target.waitFor(() => target.received(p).length >= 1, 'the delivery');
    await nothingPending();
    expect(target.received(p).map((r) => r.body.toString())).toEqual(['one']);
  });

  it('deduplicates by content: same destination and body once, a different body is a new message', async () => {
    const p = path('dedup-content');
    const one = await client.publish({ url: urlOf(p), body: 'same', contentBasedDeduplication: true });
    const again = await client.publish({ url: urlOf(p), body: 'same', contentBasedDeduplication: true });
    const other = await client.publish({ url: urlOf(p), body: 'other', contentBasedDeduplication: true });
    expect(again).toMatchObject({ messageId: one.messageId, deduplicated: true });
    expect(other.messageId).not.toBe(one.messageId);
    expect(other.deduplicated ?? false).toBe(false);
    await target.waitFor(() => target.received(p).length >= 2, 'two deliveries');
    await nothingPending();
    expect(
      target
        .received(p)
        .map((r) => r.body.toString())
        .sort(),
    ).toEqual(['other', 'same']);
  });

  it('cancels a waiting message: it is gone and never delivered', async () => {
    const [p, sentinel] = [path('cancelled'), path('sentinel')];
    const { messageId } = await client.publish({ url: urlOf(p), body: 'x', delay: 1 });
    await expect(client.messages.cancel(messageId)).resolves.toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    expect(await store.pendingCount()).toBe(0);
    await client.publish({ url: urlOf(sentinel), body: 'x', delay: 1 });
    await target.waitFor(() => target.received(sentinel).length === 1, 'the sentinel', 5000);
    await nothingPending();
    expect(target.received(p)).toHaveLength(0);
  });
});

describe('retries, callbacks and the dead-letter queue', () => {
  it('retries a failing target: Upstash-Retried 0, 1, 2 for one message id, spaced by the backoff', async () => {
    const p = path('flaky');
    target.failNext(p, 2);
    const { messageId } = await client.publish({ url: urlOf(p), body: 'x', retries: 3 });
    await target.waitFor(() => target.received(p).length >= 3, 'three attempts');
    await nothingPending();
    const got = target.received(p);
    expect(got.map((r) => header(r, 'upstash-retried'))).toEqual(['0', '1', '2']);
    expect(new Set(got.map((r) => header(r, 'upstash-message-id')))).toEqual(new Set([messageId]));
    // retryBaseMs 50: 50 ms after the first failure, 100 ms after the second.
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(50);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(100);
    expect((await client.dlq.listMessages()).messages).toHaveLength(0);
  });

  it('uses an Upstash-Retry-Delay expression over the default backoff', async () => {
    const p = path('retry-delay');
    target.failNext(p, 2);
    await client.publish({ url: urlOf(p), body: 'x', retries: 2, retryDelay: '200 * (retried + 1)' });
    await target.waitFor(() => target.received(p).length >= 3, 'three attempts', 5000);
    const got = target.received(p);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(200);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(400);
  });

  it('calls the callback with the response, signed for the callback URL', async () => {
    const [p, cb] = [path('with-callback'), path('callback')];
    target.respond(p, { status: 201, headers: { 'X-Answer': 'yes' }, body: 'created' });
    const { messageId } = await client.publish({
      url: urlOf(p),
      body: 'source',
      callback: urlOf(cb),
      headers: { 'Upstash-Callback-Forward-X-Callback-Secret': 's3cret' },
    });
    await target.waitFor(() => target.received(cb).length === 1, 'the callback');
    const got = target.received(cb)[0]!;
    expect(header(got, 'x-callback-secret')).toBe('s3cret');
    expect(header(target.received(p)[0]!, 'x-callback-secret')).toBeUndefined();
    await expect(verify(got, urlOf(cb))).resolves.toBe(true);
    const payload = JSON.parse(got.body.toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({
      status: 201,
      retried: 0,
      maxRetries: 3,
      sourceMessageId: messageId,
      url: urlOf(p),
      method: 'POST',
    });
    expect(Buffer.from(payload.body as string, 'base64').toString()).toBe('created');
    expect(Buffer.from(payload.sourceBody as string, 'base64').toString()).toBe('source');
    expect(payload.header).toMatchObject({ 'X-Answer': ['yes'] });
  });

  it('dead-letters after the last retry: signed failure callback, then DLQ list, retry and delete through the client', async () => {
    const [p, fcb] = [path('dead'), path('failure-callback')];
    target.respond(p, { status: 503, headers: { 'X-Why': 'down' }, body: 'nope' });
    const { messageId } = await client.publish({
      url: urlOf(p),
      body: 'payload-1',
      retries: 1,
      failureCallback: urlOf(fcb),
    });
    await target.waitFor(() => target.received(fcb).length === 1, 'the failure callback');
    expect(target.received(p).map((r) => header(r, 'upstash-retried'))).toEqual(['0', '1']);

    const callback = target.received(fcb)[0]!;
    await expect(verify(callback, urlOf(fcb))).resolves.toBe(true);
    const payload = JSON.parse(callback.body.toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({
      status: 503,
      retried: 1,
      maxRetries: 1,
      sourceMessageId: messageId,
      url: urlOf(p),
      method: 'POST',
    });
    expect(payload.header).toMatchObject({ 'X-Why': ['down'] });
    expect(Buffer.from(payload.body as string, 'base64').toString()).toBe('nope');
    expect(Buffer.from(payload.sourceBody as string, 'base64').toString()).toBe('payload-1');

    const { messages } = await client.dlq.listMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      dlqId: payload.dlqId,
      messageId,
      url: urlOf(p),
      body: 'payload-1',
      responseStatus: 503,
      responseBody: 'nope',
      maxRetries: 1,
    });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });

    // The target recovers; a DLQ retry is a new message with the same body.
    target.respond(p, { status: 200 });
    const retried = await client.dlq.retry(payload.dlqId as string);
    const newId = retried.responses[0]!.messageId;
    expect(newId).not.toBe(messageId);
    await target.waitFor(() => target.received(p).length === 3, 'the redelivery');
    const redelivered = target.received(p)[2]!;
    expect(header(redelivered, 'upstash-message-id')).toBe(newId);
    expect(redelivered.body.toString()).toBe('payload-1');
    expect((await client.dlq.listMessages()).messages).toHaveLength(0);

    // Another dead message, deleted instead.
    const q = path('dead-again');
    target.respond(q, { status: 500 });
    await client.publish({ url: urlOf(q), body: 'x', retries: 0 });
    await target.waitFor(async () => (await client.dlq.listMessages()).messages.length === 1, 'a DLQ entry');
    const { dlqId } = (await client.dlq.listMessages()).messages[0]!;
    await expect(client.dlq.delete(dlqId)).resolves.toEqual({ deleted: 1 });
    expect((await client.dlq.listMessages()).messages).toHaveLength(0);
    await expect(client.dlq.delete(dlqId)).rejects.toMatchObject({ status: 404 });
    await nothingPending();
    expect(target.received(q)).toHaveLength(1);
  });

  it('dead-letters at once on 489 with Upstash-NonRetryable-Error, retries left or not', async () => {
    const p = path('non-retryable');
    target.respond(p, { status: 489, headers: { 'Upstash-NonRetryable-Error': 'true' } });
    const { messageId } = await client.publish({ url: urlOf(p), body: 'x', retries: 3 });
    await target.waitFor(async () => (await client.dlq.listMessages()).messages.length === 1, 'a DLQ entry');
    expect((await client.dlq.listMessages()).messages[0]).toMatchObject({ messageId, responseStatus: 489 });
    expect(target.received(p)).toHaveLength(1);
  });

  it('pages through the DLQ with a cursor', async () => {
    const p = path('dead-many');
    target.respond(p, { status: 500 });
    for (let i = 0; i < 3; i++) await client.publish({ url: urlOf(p), body: `m${i}`, retries: 0 });
    await target.waitFor(
      async () => (await client.dlq.listMessages()).messages.length === 3,
      'three DLQ entries',
    );
    const first = await client.dlq.listMessages({ count: 2 });
    expect(first.messages).toHaveLength(2);
    expect(first.cursor).toBeTruthy();
    const second = await client.dlq.listMessages({ count: 2, cursor: first.cursor! });
    expect(second.messages).toHaveLength(1);
    expect(second.cursor).toBeUndefined();
    const bodies = [...first.messages, ...second.messages].map((m) => m.body).sort();
    expect(bodies).toEqual(['m0', 'm1', 'm2']);
  });
});

describe('retry policy', () => {
  it('follows QStash documented curve min(86400, e^(2.5 n)) s and evaluates Upstash-Retry-Delay expressions', () => {
    expect(qstashBackoffMs(1)).toBe(12_182);
    expect(qstashBackoffMs(2)).toBe(148_413);
    expect(qstashBackoffMs(5)).toBe(86_400_000);
    expect(evalRetryDelay('pow(2, retried) * 1000', 3)).toBe(8000);
    expect(evalRetryDelay('max(1000, pow(2, retried) * 100)', 0)).toBe(1000);
    expect(() => evalRetryDelay('process.exit(1)', 0)).toThrow(/Retry-Delay/);
    expect(parseDuration('1d10h30m')).toBe(((24 + 10) * 60 + 30) * 60_000);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('ten')).toBeUndefined();
  });
});

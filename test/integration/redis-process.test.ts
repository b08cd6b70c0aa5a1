// The test redis-server starter: a candidate port taken by someone else (another redis-server included) is detected
// from redis-server's own output and retried on another, and the server that answers is always the one we started.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { RedisPortTakenError, startRedis, type RedisProcess } from '../../scripts/lib/redis-process.js';

const started: RedisProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
});

async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('startRedis on a free port', () => {
  it('moves to another candidate when the first is taken between pick and bind', async () => {
    const held = await holdPort();
    const candidates = [held.port];
    const redis = await startRedis({ pickPort: async () => candidates.shift() ?? (await freePort()) });
    started.push(redis);
    await held.close();
    expect(candidates).toEqual([]);
    expect(redis.port).not.toBe(held.port);
    const client = new Redis(redis.url);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('never mistakes another redis-server on the candidate port for its own', async () => {
    const other = await startRedis();
    started.push(other);
    const otherClient = new Redis(other.url);
    const otherRunId = /run_id:(\w+)/.exec(await otherClient.info('server'))![1];
    otherClient.disconnect();

    // A fixed port that is taken fails plainly (no retry: the caller asked for that port).
    await expect(startRedis({ port: other.port })).rejects.toBeInstanceOf(RedisPortTakenError);

    const candidates = [other.port];
    const mine = await startRedis({ pickPort: async () => candidates.shift() ?? (await freePort()) });
    started.push(mine);
    expect(mine.port).not.toBe(other.port);
    const mineClient = new Redis(mine.url);
    expect(/run_id:(\w+)/.exec(await mineClient.info('server'))![1]).not.toBe(otherRunId);
    mineClient.disconnect();
  });
});

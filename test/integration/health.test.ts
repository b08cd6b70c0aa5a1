// GET /health through real HTTP: 200 when Redis and QStash answer, 503 naming the one that does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntime } from '../../lib/runtime.js';
import { startDeadEndpoint, type DeadEndpoint } from '../helpers/dead-endpoint.js';
import { startStack, type TestStack } from '../helpers/stack.js';

describe('GET /health', () => {
  let stack: TestStack;
  let dead: DeadEndpoint;
  beforeAll(async () => {
    stack = await startStack();
    dead = await startDeadEndpoint();
  });
  afterAll(async () => {
    await dead?.close();
    await stack?.stop();
  });

  it('answers 200 with both checks ok when Redis and QStash are reachable', async () => {
    const res = await fetch(`${stack.api.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      down: string[];
      checks: Record<string, { status: string }>;
    };
    expect(body.status).toBe('ok');
    expect(body.down).toEqual([]);
    expect(body.checks['redis']?.status).toBe('ok');
    expect(body.checks['qstash']?.status).toBe('ok');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers 503 naming qstash when the broker is unreachable', async () => {
    const saved = process.env['QSTASH_URL'];
    process.env['QSTASH_URL'] = dead.url;
    resetRuntime();
    try {
      const res = await fetch(`${stack.api.url}/health`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { down: string[] };
      expect(body.down).toEqual(['qstash']);
    } finally {
      process.env['QSTASH_URL'] = saved;
      resetRuntime();
    }
  });

  it('answers 503 naming qstash when the QStash token is refused', async () => {
    const saved = process.env['QSTASH_TOKEN'];
    process.env['QSTASH_TOKEN'] = 'not-the-token';
    resetRuntime();
    try {
      const res = await fetch(`${stack.api.url}/health`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { down: string[] }).down).toEqual(['qstash']);
    } finally {
      process.env['QSTASH_TOKEN'] = saved;
      resetRuntime();
    }
  });

  it('answers 503 naming redis when the Redis REST endpoint is unreachable', async () => {
    const saved = process.env['UPSTASH_REDIS_REST_URL'];
    process.env['UPSTASH_REDIS_REST_URL'] = dead.url;
    resetRuntime();
    try {
      const res = await fetch(`${stack.api.url}/health`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { down: string[]; status: string };
      expect(body.status).toBe('degraded');
      expect(body.down).toEqual(['redis']);
    } finally {
      process.env['UPSTASH_REDIS_REST_URL'] = saved;
      resetRuntime();
    }
  });
});

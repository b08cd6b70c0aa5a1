// Methods and paths no route takes get the API's error shape over HTTP: 405 with Allow for a known path, else 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('fallback route', () => {
  it('answers an undeclared method on a documented path with 405 and the allowed methods', async () => {
    const res = await fetch(`${stack.api.url}/health`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('method_not_allowed');
    expect(body.error.requestId).toBeTruthy();
    const put = await stack.admin('/v1/task-types', { method: 'PATCH', body: '{}' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET']);
  });

  it('answers an unknown path with 404 in the same shape, and leaves real routes alone', async () => {
    const res = await fetch(`${stack.api.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await fetch(`${stack.api.url}/health`)).status).toBe(200);
  });
});

// Admin input at its edges: params bound for a header, `__proto__` names and lone surrogates are refused, naming the field, writing nothing.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../lib/admin/schemas.js';
import { contentDigest } from '../helpers/redis-digest.js';
import { catalogHead, writeTempCatalog } from '../helpers/catalog-file.js';
import { TEST_KEYS, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let raw: Redis;

beforeAll(async () => {
  const lines = catalogHead({}, ['baseUrl: http://127.0.0.1:4000']);
  lines.push(
    '  - id: tagged',
    '    description: a target that sends a param in a header',
    "    schedule: { every: hour, at: ':00' }",
    '    zone: { policy: fixed, tz: UTC }',
    '    spread: 10m',
    '    target:',
    '      method: POST',
    "      url: '{{baseUrl}}/t/{{taskId}}/{{userId}}'",
    "      headers: { x-ref: 'ref-{{ref}}' }",
    "      body: { note: '{{note}}' }",
    '    rateLimits: []',
  );
  stack = await startStack({ env: { STAGGER_CATALOG_PATH: writeTempCatalog(`${lines.join('\n')}\n`) } });
  raw = new Redis({
    url: stack.bridge.url,
    token: TEST_KEYS.redisToken,
    retry: false,
    automaticDeserialization: false,
  });
  const res = await stack.admin('/v1/users/ana', { method: 'PUT', body: JSON.stringify({ zone: 'UTC' }) });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

/** Sends `body` (raw JSON text, so lone surrogates and `__proto__` survive) and expects a 400 naming `field`, with nothing written. */
async function refused(path: string, body: string, field: string) {
  const before = await contentDigest(raw, stack.prefix);
  const res = await stack.admin(path, { method: 'PUT', body });
  const text = await res.text();
  expect(res.status, text).toBe(400);
  const details = ErrorBody.parse(JSON.parse(text)).error.details ?? [];
  expect(
    details.map((d) => d.path),
    text,
  ).toContain(field);
  expect(await contentDigest(raw, stack.prefix)).toBe(before);
}

describe('admin input edges', () => {
  it.each([
    ['NUL', '\\u0000'],
    ['DEL', '\\u007f'],
    ['a tab', '\\t'],
    ['CR/LF', '\\r\\nx-admin: 1'],
    ['a character beyond Latin-1', '\\u20ac'],
  ])('refuses a param bound for a header that holds %s', async (_name, escaped) => {
    await refused(
      '/v1/users/ana/tasks/tagged',
      `{"params":{"ref":"a${escaped}b","note":"any\\u0000text"}}`,
      'body.params.ref',
    );
  });

  it('accepts Latin-1 text in a header param, and anything in a body param', async () => {
    const res = await stack.admin('/v1/users/ana/tasks/tagged', {
      method: 'PUT',
      body: '{"params":{"ref":"café","note":"tab\\tand € ok"}}',
    });
    expect([200, 201]).toContain(res.status);
  });

  it('refuses a label or a param named __proto__ instead of dropping it', async () => {
    await refused('/v1/users/bo', '{"zone":"UTC","labels":{"__proto__":"x"}}', 'body.labels.__proto__');
    await refused('/v1/users/ana/tasks/tagged', '{"params":{"__proto__":"x"}}', 'body.params.__proto__');
  });

  it('refuses a lone surrogate in a label or a param, and keeps a proper pair', async () => {
    await refused('/v1/users/bo', '{"zone":"UTC","labels":{"team":"a\\ud800"}}', 'body.labels.team');
    await refused('/v1/users/ana/tasks/tagged', '{"params":{"note":"\\udc00"}}', 'body.params.note');
    const res = await stack.admin('/v1/users/bo', {
      method: 'PUT',
      body: '{"zone":"UTC","labels":{"team":"\\ud83d\\ude00"}}',
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { labels: Record<string, string> }).labels).toEqual({ team: '😀' });
  });
});

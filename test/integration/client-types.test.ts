// The checked-in client types are what openapi-typescript makes of the live GET /openapi.json: a route change not
// regenerated (npm run client:generate) fails here.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_FILE } from '../../scripts/client/schema-file.js';
import { typesOfDocument } from '../../scripts/client/types-of-document.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('client types', () => {
  it('match the types generated from the served OpenAPI document', async () => {
    const res = await fetch(`${stack.api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const live = await typesOfDocument((await res.json()) as Record<string, unknown>);
    expect(live).toContain('"/v1/users/{userId}"');
    expect(
      readFileSync(SCHEMA_FILE, 'utf8') === live,
      'lib/client/schema.d.ts is stale: npm run client:generate',
    ).toBe(true);
  });
});

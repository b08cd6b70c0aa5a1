// The generated OpenAPI 3.1 document: well-formed, and in step with serverless.yml (every route, same handler).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FALLBACK_ROUTE } from '../../lib/api/fallback.js';
import { buildOpenApi } from '../../lib/api/openapi.js';
import { ALL_ROUTES } from '../../lib/api/routes.js';
import { readRoutes } from '../helpers/lambda-http.js';

const doc = buildOpenApi(ALL_ROUTES);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, op: op as unknown as Record<string, unknown> })),
);

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with unique operation ids and a success response per operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc); // plain JSON, nothing lost
    const ids = operations.map((o) => o.op['operationId']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations) {
      expect(path).toMatch(/^\//);
      expect(METHODS).toContain(method);
      const statuses = Object.keys(op['responses'] as object);
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        `${method} ${path}`,
      ).toBe(true);
      for (const s of statuses) expect(s).toMatch(/^[1-5]\d\d$/);
    }
  });

  it("documents a QStash delivery's refusals as QStash sees them: 489 stops retries, 503 asks for one, no 400/413", () => {
    const signed = ALL_ROUTES.filter((r) => r.auth === 'qstash');
    expect(signed.map((r) => r.path).sort()).toEqual([
      '/internal/failures',
      '/internal/jobs',
      '/internal/scheduler/continue',
    ]);
    for (const route of signed) {
      const op = doc.paths[route.path]![route.method.toLowerCase() as 'post'] as unknown as {
        responses: Record<string, unknown>;
      };
      const statuses = Object.keys(op.responses).sort();
      expect(statuses, route.path).toEqual(['200', '401', '489', '500', '503']);
    }
  });

  it('declares every path template parameter, as required, and no others', () => {
    for (const { path, method, op } of operations) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const params =
        (op['parameters'] as
          { name: string; in: string; required: boolean; schema: unknown }[] | undefined) ?? [];
      const declared = params.filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual([...inPath].sort());
      for (const p of declared) expect(p.required).toBe(true);
      for (const p of params) expect(p.schema).toBeTypeOf('object');
    }
  });

  it('resolves every $ref and every security scheme it uses', () => {
    for (const ref of refsIn(doc)) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], doc);
      expect(target, ref).toBeTypeOf('object');
    }
    const schemes = Object.keys((doc.components['securitySchemes'] ?? {}) as object);
    for (const { op } of operations) {
      for (const requirement of op['security'] as Record<string, string[]>[]) {
        for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
      }
    }
  });

  it('carries the zod constraints the handlers enforce', () => {
    const putUser = doc.paths['/v1/users/{userId}']?.['put'] as unknown as {
      requestBody: {
        required: boolean;
        content: { 'application/json': { schema: { required: string[]; additionalProperties: boolean } } };
      };
      security: unknown[];
    };
    expect(putUser.requestBody.required).toBe(true);
    expect(putUser.requestBody.content['application/json'].schema.required).toEqual(['zone']);
    expect(putUser.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(putUser.security).toEqual([{ adminKey: [] }]);
    const list = doc.paths['/v1/users']?.['get'] as unknown as {
      parameters: { name: string; required: boolean; schema: Record<string, unknown> }[];
    };
    const limit = list.parameters.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } });
    const enable = doc.paths['/v1/users/{userId}/tasks/{taskId}']?.['put'] as unknown as {
      requestBody: { required: boolean };
      responses: object;
    };
    expect(enable.requestBody.required).toBe(false);
    expect(Object.keys(enable.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '404', '409', '413']),
    );
    expect(doc.paths['/openapi.json']?.['get']?.security).toEqual([]);
  });

  it('lists every httpApi route of serverless.yml with the same handler, and no route that is not deployed', async () => {
    const all = readRoutes();
    const isFallback = (r: { method: string; path: string }) =>
      r.method === FALLBACK_ROUTE.method && r.path === FALLBACK_ROUTE.path;
    expect(all.filter(isFallback).map((r) => r.handler)).toEqual([FALLBACK_ROUTE.handler]);
    const deployed = all.filter((r) => !isFallback(r));
    const documented = new Map(ALL_ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
    for (const route of deployed) {
      const spec = documented.get(`${route.method} ${route.path}`);
      expect(
        spec,
        `${route.method} ${route.path} (${route.functionName}) is not in the route table`,
      ).toBeDefined();
      expect(spec?.handler, `${route.method} ${route.path}`).toBe(route.handler);
      expect(
        doc.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    }
    const deployedKeys = new Set(deployed.map((r) => `${r.method} ${r.path}`));
    for (const key of documented.keys())
      expect(deployedKeys, `${key} is documented but not in serverless.yml`).toContain(key);
  });

  it('names handlers that exist: every documented handler module exports that function', async () => {
    for (const route of ALL_ROUTES) {
      const dot = route.handler.lastIndexOf('.');
      const file = pathToFileURL(resolve(`${route.handler.slice(0, dot)}.ts`)).href;
      const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
      expect(typeof mod[route.handler.slice(dot + 1)], route.handler).toBe('function');
    }
  });
});

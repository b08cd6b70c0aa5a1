// The edge's middlewares, each through a handler the one factory builds: real v1/v2 events, a real QStash Receiver.
import { Receiver } from '@upstash/qstash';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FALLBACK_ROUTE } from '../../lib/api/fallback.js';
import { routeHandler, type EdgeDeps, type RouteSpec } from '../../lib/api/route.js';
import { MethodNotAllowedError } from '../../lib/errors.js';
import { BODY_LIMITS } from '../../lib/http/body.js';
import { TEST_KEYS } from '../helpers/stack.js';
import { signQStash } from '../helpers/worker-fixtures.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789';
const PUBLIC_URL = 'https://stagger.example.com';

const deps: EdgeDeps = {
  config: () => ({
    STAGGER_ADMIN_API_KEYS: [ADMIN_KEY],
    STAGGER_METRICS_TOKENS: [METRICS_TOKEN],
    STAGGER_PUBLIC_URL: PUBLIC_URL,
  }),
  verifier: () =>
    new Receiver({
      currentSigningKey: TEST_KEYS.currentSigningKey,
      nextSigningKey: TEST_KEYS.nextSigningKey,
      devMode: false,
    }),
  limits: false,
};

const context = Object.freeze({ getRemainingTimeInMillis: () => 5000 }) as unknown as Context;

const base = { summary: 'under test', tag: 'test', responses: { 200: { description: 'echo' } } };
const adminRoute = {
  ...base,
  auth: 'admin',
  operationId: 'putThing',
  method: 'PUT',
  path: '/v1/things/{thingId}',
  handler: 'functions/things.put',
  pathParams: z.object({ thingId: z.string().regex(/^[a-z]+$/) }),
  query: z.strictObject({ limit: z.coerce.number().int().max(10).optional() }),
  body: z.object({ name: z.string() }),
} as const satisfies RouteSpec;
const metricsRoute = {
  ...base,
  auth: 'metrics',
  operationId: 'getThingMetrics',
  method: 'GET',
  path: '/thing-metrics',
  handler: 'functions/things.metrics',
} as const satisfies RouteSpec;
const signedRoute = {
  ...base,
  auth: 'qstash',
  operationId: 'deliverThing',
  method: 'POST',
  path: '/internal/things',
  handler: 'functions/things.deliver',
  body: z.object({ id: z.string() }),
} as const satisfies RouteSpec;

const echo = async (input: unknown, req: { requestId: string; header(n: string): string | undefined }) => ({
  status: 200,
  body: { input, requestId: req.requestId, retried: req.header('Upstash-Retried') ?? null },
});
const admin = routeHandler(adminRoute, echo, deps);
const metrics = routeHandler(metricsRoute, echo, deps);
const signed = routeHandler(signedRoute, echo, deps);

function v2(opts: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  requestId?: string;
}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${opts.method} ${opts.path}`,
    rawPath: opts.path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: opts.headers ?? {},
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    ...(opts.body === undefined ? {} : { body: opts.body }),
    isBase64Encoded: opts.base64 ?? false,
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'd',
      domainPrefix: 'd',
      http: {
        method: opts.method,
        path: opts.path,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.1',
        userAgent: 't',
      },
      requestId: opts.requestId ?? 'req-under-test',
      routeKey: `${opts.method} ${opts.path}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of several shapes, read by path
const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? 'null') as Record<string, any>;
const putThing = (over: Partial<Parameters<typeof v2>[0]> = {}) =>
  v2({
    method: 'PUT',
    path: '/v1/things/abc',
    pathParameters: { thingId: 'abc' },
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    body: '{"name":"n"}',
    ...over,
  });

describe('event and request id', () => {
  it('puts x-request-id on a success, a 4xx and a 5xx alike', async () => {
    const ok = await admin(putThing(), context);
    expect([ok.statusCode, ok.headers?.['x-request-id']]).toEqual([200, 'req-under-test']);
    const refused = await admin(putThing({ headers: {} }), context);
    expect([refused.statusCode, refused.headers?.['x-request-id']]).toEqual([401, 'req-under-test']);
    expect(bodyOf(refused).error.requestId).toBe('req-under-test');
    const failing = routeHandler(
      adminRoute,
      async () => {
        throw new Error('redis://user:secret@10.0.0.1 refused');
      },
      deps,
    );
    const broken = await failing(putThing(), context);
    expect(broken.statusCode).toBe(500);
    expect(broken.headers?.['x-request-id']).toBe('req-under-test');
    expect(bodyOf(broken)).toEqual({
      error: { code: 'internal_error', message: 'internal error', requestId: 'req-under-test' },
    });
  });

  it('reads a REST API (v1) event with mixed-case headers like its v2 twin', async () => {
    const v1: APIGatewayProxyEvent = {
      resource: '/v1/things/{thingId}',
      path: '/v1/things/abc',
      httpMethod: 'PUT',
      headers: { AUTHORIZATION: `Bearer ${ADMIN_KEY}` },
      multiValueHeaders: {},
      queryStringParameters: { limit: '3' },
      multiValueQueryStringParameters: null,
      pathParameters: { thingId: 'abc' },
      stageVariables: null,
      requestContext: { requestId: 'v1-req', identity: { sourceIp: '198.51.100.2' } } as never,
      body: '{"name":"n"}',
      isBase64Encoded: false,
    };
    const r = await admin(v1 as never, context);
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['x-request-id']).toBe('v1-req');
    expect(bodyOf(r).input).toEqual({ path: { thingId: 'abc' }, query: { limit: 3 }, body: { name: 'n' } });
  });
});

describe('admin key', () => {
  it('takes the admin keys on admin routes and the metrics tokens only on metrics routes', async () => {
    const get = (token: string) =>
      v2({ method: 'GET', path: '/thing-metrics', headers: { authorization: `Bearer ${token}` } });
    expect((await metrics(get(METRICS_TOKEN), context)).statusCode).toBe(200);
    expect((await metrics(get(ADMIN_KEY), context)).statusCode).toBe(200);
    expect((await metrics(get('wrong-token-0123456789'), context)).statusCode).toBe(401);
    const withToken = putThing({ headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect((await admin(withToken, context)).statusCode).toBe(401);
  });

  it('checks the key before the input: a bad body without a key is a 401, not a 400', async () => {
    const r = await admin(putThing({ headers: {}, body: '{' }), context);
    expect(bodyOf(r).error.code).toBe('unauthorized');
  });
});

describe('body and input', () => {
  it('names every bad field of path, query and body in one 400', async () => {
    const r = await admin(
      putThing({
        pathParameters: { thingId: 'ABC' },
        query: { limit: '99', extra: '1' },
        body: '{"name":1}',
      }),
      context,
    );
    expect(r.statusCode).toBe(400);
    const paths = (bodyOf(r).error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['body.name', 'path.thingId', 'query', 'query.limit']);
  });

  it('decodes a base64 body', async () => {
    const r = await admin(
      putThing({ body: Buffer.from('{"name":"b64"}').toString('base64'), base64: true }),
      context,
    );
    expect(bodyOf(r).input.body).toEqual({ name: 'b64' });
  });

  it('refuses an admin body over 16 KiB with 413 and takes one at the limit', async () => {
    const sized = (bytes: number) => JSON.stringify({ name: 'x'.repeat(bytes - 11) });
    expect(sized(BODY_LIMITS.json).length).toBe(BODY_LIMITS.json);
    expect((await admin(putThing({ body: sized(BODY_LIMITS.json) }), context)).statusCode).toBe(200);
    const big = await admin(putThing({ body: sized(BODY_LIMITS.json + 1) }), context);
    expect([big.statusCode, bodyOf(big).error.code]).toEqual([413, 'payload_too_large']);
  });
});

describe('QStash signature and signed bodies', () => {
  const url = `${PUBLIC_URL}/internal/things`;
  const deliver = (body: string, signature: string | undefined, headers: Record<string, string> = {}) =>
    signed(
      v2({
        method: 'POST',
        path: '/internal/things',
        body,
        headers: { ...(signature ? { 'upstash-signature': signature } : {}), ...headers },
      }),
      context,
    );

  it('accepts a body signed for our own URL and finds headers in any case', async () => {
    const body = '{"id":"j1"}';
    const r = await deliver(body, signQStash({ url, body }), { 'Upstash-Retried': '2' });
    expect(r.statusCode).toBe(200);
    expect(bodyOf(r)).toMatchObject({ input: { body: { id: 'j1' } }, retried: '2' });
  });

  it('refuses a missing signature, another URL, another body and another key with 401', async () => {
    const body = '{"id":"j1"}';
    const refusals = [
      await deliver(body, undefined),
      await deliver(body, signQStash({ url: `${PUBLIC_URL}/internal/other`, body })),
      await deliver(body, signQStash({ url, body: '{"id":"j2"}' })),
      await deliver(body, signQStash({ url, body, key: 'sig_someone_else' })),
    ];
    expect(refusals.map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    for (const r of refusals) expect(r.headers?.['Upstash-NonRetryable-Error']).toBeUndefined();
  });

  it('answers a signed but bad body with 489 and Upstash-NonRetryable-Error, naming the field', async () => {
    for (const body of ['{"id":1}', 'not json']) {
      const r = await deliver(body, signQStash({ url, body }));
      expect([r.statusCode, r.headers?.['Upstash-NonRetryable-Error']]).toEqual([489, 'true']);
      expect(bodyOf(r).error.details[0].path).toBe('body' + (body.startsWith('{') ? '.id' : ''));
    }
  });

  it('refuses a body over 1 MiB as non-retryable, and takes a large one under it', async () => {
    const sized = (bytes: number) => JSON.stringify({ id: 'x'.repeat(bytes - 9) });
    const under = sized(BODY_LIMITS.qstash);
    expect((await deliver(under, signQStash({ url, body: under }))).statusCode).toBe(200);
    const over = sized(BODY_LIMITS.qstash + 1);
    const r = await deliver(over, signQStash({ url, body: over }));
    expect([r.statusCode, r.headers?.['Upstash-NonRetryable-Error'], bodyOf(r).error.code]).toEqual([
      489,
      'true',
      'payload_too_large',
    ]);
  });
});

describe('the catch-all route', () => {
  it('takes any input and maps MethodNotAllowedError to 405 with Allow', async () => {
    const fallback = routeHandler(
      FALLBACK_ROUTE,
      async () => {
        throw new MethodNotAllowedError('PATCH', ['GET', 'PUT']);
      },
      deps,
    );
    const r = await fallback(v2({ method: 'PATCH', path: '/v1/x', query: { a: '1' }, body: '{' }), context);
    expect([r.statusCode, r.headers?.['allow'], bodyOf(r).error.code]).toEqual([
      405,
      'GET, PUT',
      'method_not_allowed',
    ]);
  });
});

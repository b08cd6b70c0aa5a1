// REST API (v1) and HTTP API (v2) proxy events read the same at every edge: method, path, headers, query, body, ids.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { routeHandler, type EdgeDeps, type RouteSpec } from '../../lib/api/route.js';
import { toHttpApiEvent } from '../../lib/http/event.js';

// A REST API proxy event as API Gateway sends it for PUT /localstack/v1/users/alice?dryRun=1&tag=a&tag=b.
const v1: APIGatewayProxyEvent = {
  resource: '/v1/users/{userId}',
  path: '/v1/users/alice',
  httpMethod: 'PUT',
  headers: {
    Authorization: 'Bearer key-0123456789abcdef',
    'Content-Type': 'application/json',
    Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'User-Agent': 'curl/8.5.0',
    'X-Forwarded-For': '203.0.113.7',
  },
  multiValueHeaders: {
    Authorization: ['Bearer key-0123456789abcdef'],
    'Content-Type': ['application/json'],
    Host: ['abc123.execute-api.eu-west-1.amazonaws.com'],
    'User-Agent': ['curl/8.5.0'],
    'X-Forwarded-For': ['203.0.113.7'],
  },
  queryStringParameters: { dryRun: '1', tag: 'b' },
  multiValueQueryStringParameters: { dryRun: ['1'], tag: ['a', 'b'] },
  pathParameters: { userId: 'alice' },
  stageVariables: null,
  requestContext: {
    accountId: '123456789012',
    apiId: 'abc123',
    authorizer: null,
    domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
    domainPrefix: 'abc123',
    extendedRequestId: 'Kx1_2GxyDoEFQ2A=',
    httpMethod: 'PUT',
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: '203.0.113.7',
      user: null,
      userAgent: 'curl/8.5.0',
      userArn: null,
    },
    path: '/localstack/v1/users/alice',
    protocol: 'HTTP/1.1',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    requestTime: '03/Dec/2026:16:00:00 +0000',
    requestTimeEpoch: 1796313600000,
    resourceId: 'r1',
    resourcePath: '/v1/users/{userId}',
    stage: 'localstack',
  },
  body: '{"zone":"Europe/London"}',
  isBase64Encoded: false,
};

// The same request through an HTTP API (payload format 2.0).
const v2: APIGatewayProxyEventV2 = {
  version: '2.0',
  routeKey: 'PUT /v1/users/{userId}',
  rawPath: '/v1/users/alice',
  rawQueryString: 'dryRun=1&tag=a&tag=b',
  headers: {
    authorization: 'Bearer key-0123456789abcdef',
    'content-type': 'application/json',
    host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'user-agent': 'curl/8.5.0',
    'x-forwarded-for': '203.0.113.7',
  },
  queryStringParameters: { dryRun: '1', tag: 'a,b' },
  pathParameters: { userId: 'alice' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'abc123',
    domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
    domainPrefix: 'abc123',
    http: {
      method: 'PUT',
      path: '/v1/users/alice',
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.7',
      userAgent: 'curl/8.5.0',
    },
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    routeKey: 'PUT /v1/users/{userId}',
    stage: '$default',
    time: '03/Dec/2026:16:00:00 +0000',
    timeEpoch: 1796313600000,
  },
  body: '{"zone":"Europe/London"}',
  isBase64Encoded: false,
};

const fakeContext = Object.freeze({ getRemainingTimeInMillis: () => 5000 }) as unknown as Context;

function essentials(e: APIGatewayProxyEventV2) {
  return {
    method: e.requestContext.http.method,
    rawPath: e.rawPath,
    headers: e.headers,
    query: e.queryStringParameters,
    path: e.pathParameters,
    body: e.body,
    base64: e.isBase64Encoded,
    requestId: e.requestContext.requestId,
  };
}

describe('toHttpApiEvent', () => {
  it('reads a REST API event exactly as the same request through an HTTP API', () => {
    expect(essentials(toHttpApiEvent(v1))).toEqual(essentials(v2));
    expect(toHttpApiEvent(v1).rawQueryString).toBe('dryRun=1&tag=a%2Cb');
  });

  it('decodes REST API path parameters as HTTP API does (job ids hold colons)', () => {
    const encoded = { ...v1, pathParameters: { jobId: 'daily%3Aalice%3A2026-12-03', bad: '%E0%A4%A' } };
    expect(toHttpApiEvent(encoded).pathParameters).toEqual({
      jobId: 'daily:alice:2026-12-03',
      bad: '%E0%A4%A',
    });
  });

  it('keeps the path without the REST API stage prefix', () => {
    expect(toHttpApiEvent(v1).rawPath).toBe('/v1/users/alice');
  });

  it('lower-cases the header names of a v2 event and leaves the rest as it was', () => {
    const mixed = { ...v2, headers: { 'Upstash-Signature': 'sig', accept: '*/*' } };
    const out = toHttpApiEvent(mixed);
    expect(out.headers).toEqual({ 'upstash-signature': 'sig', accept: '*/*' });
    expect(essentials({ ...out, headers: v2.headers })).toEqual(essentials(v2));
  });

  it('carries a base64 body and absent parts of a v1 event as absent', () => {
    const bare: APIGatewayProxyEvent = {
      ...v1,
      httpMethod: 'POST',
      resource: '/internal/jobs',
      path: '/internal/jobs',
      headers: {},
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      body: Buffer.from('{"a":1}').toString('base64'),
      isBase64Encoded: true,
    };
    const out = toHttpApiEvent(bare);
    expect(out.queryStringParameters).toBeUndefined();
    expect(out.pathParameters).toBeUndefined();
    expect(out.isBase64Encoded).toBe(true);
    expect(Buffer.from(out.body ?? '', 'base64').toString()).toBe('{"a":1}');
    expect(out.requestContext.http.method).toBe('POST');
  });
});

describe('an HTTP edge fed either event version', () => {
  const route = {
    operationId: 'putUser',
    method: 'PUT',
    path: '/v1/users/{userId}',
    handler: 'functions/admin/users.put',
    summary: 'a route of the edge under test',
    tag: 'test',
    auth: 'admin',
    pathParams: z.object({ userId: z.string() }),
    query: z.object({ dryRun: z.string(), tag: z.string() }),
    body: z.object({ zone: z.string() }),
    responses: { 200: { description: 'echo' } },
  } as const satisfies RouteSpec;
  // The deployment's keys without its Redis: this checks the edge, not the admin limits (admin-limits.test does).
  const deps: EdgeDeps = {
    config: () => ({
      STAGGER_ADMIN_API_KEYS: ['key-0123456789abcdef'],
      STAGGER_METRICS_TOKENS: [],
      STAGGER_PUBLIC_URL: 'http://127.0.0.1:3000',
    }),
    verifier: () => ({ verify: async () => false }),
    limits: false,
  };
  const handler = routeHandler(
    route,
    async ({ path, query, body }, req) => ({
      status: 200,
      body: { path, query, body, requestId: req.requestId },
    }),
    deps,
  );

  it('authenticates, parses and answers the same for v1 and v2', async () => {
    const a = await handler(v1, fakeContext);
    const b = await handler(v2, fakeContext);
    expect(a.statusCode).toBe(200);
    expect(a).toEqual(b);
    expect(JSON.parse(a.body as string)).toEqual({
      path: { userId: 'alice' },
      query: { dryRun: '1', tag: 'a,b' },
      body: { zone: 'Europe/London' },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    });
  });

  it('refuses a v1 event without its Authorization header with 401', async () => {
    const { Authorization: _a, ...headers } = v1.headers;
    const { Authorization: _m, ...multi } = v1.multiValueHeaders;
    const r = await handler({ ...v1, headers, multiValueHeaders: multi }, fakeContext);
    expect(r.statusCode).toBe(401);
  });
});

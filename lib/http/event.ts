// The edge's first middleware: a REST API (v1) or HTTP API (v2) proxy event becomes the one request shape, with a request id.
import type { MiddlewareObj } from '@middy/core';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResult } from './response.js';

/** What API Gateway hands a function: REST API (`http` events) or HTTP API (`httpApi` events). */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

function isV1(event: ApiGatewayEvent): event is APIGatewayProxyEvent {
  return (event as APIGatewayProxyEvent).httpMethod !== undefined;
}

/** Header names lower-cased; repeated values joined with commas, as HTTP API does. */
function lowerHeaders(
  single: Record<string, string | undefined> | null | undefined,
  multi: Record<string, string[] | undefined> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(single ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  for (const [name, values] of Object.entries(multi ?? {})) {
    if (values && values.length > 0) out[name.toLowerCase()] = values.join(',');
  }
  return out;
}

function joinedQuery(
  single: Record<string, string | undefined> | null | undefined,
  multi: Record<string, string[] | undefined> | null | undefined,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(single ?? {})) if (value !== undefined) out[name] = value;
  for (const [name, values] of Object.entries(multi ?? {}))
    if (values && values.length > 0) out[name] = values.join(',');
  return Object.keys(out).length > 0 ? out : undefined;
}

/** REST APIs pass path parameters as they appear in the URL (`a%3Ab`); HTTP APIs decode them (`a:b`). */
function decodedParams(
  params: Record<string, string | undefined> | null,
): Record<string, string> | undefined {
  if (!params) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      // Malformed escapes stay as they are; the route's schema refuses them.
      out[name] = value;
    }
  }
  return out;
}

/**
 * The event as HTTP API (payload 2.0) would have sent it: method, raw path (without a REST API's stage),
 * lower-cased headers, query, path parameters, body, base64 flag and request id. A v2 event only has its
 * header names lower-cased (HTTP API already does; tests and other callers may not).
 */
export function toHttpApiEvent(event: ApiGatewayEvent): APIGatewayProxyEventV2 {
  if (!isV1(event)) return { ...event, headers: lowerHeaders(event.headers, undefined) };
  const query = joinedQuery(event.queryStringParameters, event.multiValueQueryStringParameters);
  const ctx = event.requestContext;
  const headers = lowerHeaders(event.headers, event.multiValueHeaders);
  return {
    version: '2.0',
    routeKey: `${event.httpMethod} ${event.resource}`,
    rawPath: event.path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    ...(event.pathParameters ? { pathParameters: decodedParams(event.pathParameters) } : {}),
    ...(event.body !== null && event.body !== undefined ? { body: event.body } : {}),
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestContext: {
      accountId: ctx?.accountId ?? '',
      apiId: ctx?.apiId ?? '',
      domainName: ctx?.domainName ?? '',
      domainPrefix: ctx?.domainPrefix ?? '',
      http: {
        method: event.httpMethod,
        path: event.path,
        protocol: ctx?.protocol ?? 'HTTP/1.1',
        sourceIp: ctx?.identity?.sourceIp ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: ctx?.requestId ?? '',
      routeKey: `${event.httpMethod} ${event.resource}`,
      stage: ctx?.stage ?? '',
      time: ctx?.requestTime ?? '',
      timeEpoch: ctx?.requestTimeEpoch ?? 0,
    },
    stageVariables: (event.stageVariables ?? undefined) as Record<string, string> | undefined,
  };
}

/** What every edge middleware after the first one, and the handler, sees in place of the Lambda event. */
export interface EdgeRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  /** The body as text (base64 decoded); set by the body middleware of routes that take one. */
  text: string;
  /** Path, query and body as the route's schemas parsed them; set by the input middleware. */
  input: { path?: unknown; query?: unknown; body?: unknown };
}

/** The one header lookup: names are lower-cased once, by toHttpApiEvent. */
export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

/** serverless-offline's HTTP API events carry this fixed placeholder as every request's id. */
const PLACEHOLDER_REQUEST_ID = /^offlineContext_/;

/** API Gateway's request id, or a fresh one where there is none (or only serverless-offline's placeholder). */
export function requestIdOf(event: APIGatewayProxyEventV2 | undefined): string {
  const id = event?.requestContext?.requestId;
  return id && !PLACEHOLDER_REQUEST_ID.test(id) ? id : randomUUID();
}

/** before: the Lambda event becomes an EdgeRequest; after and onError: `x-request-id` on every response. */
export function httpEvent(): MiddlewareObj<EdgeRequest, HttpResult> {
  const withId = (request: { event: EdgeRequest; response: HttpResult | null | undefined }) => {
    if (!request.response) return;
    const requestId = request.event.requestId;
    request.response.headers = { ...request.response.headers, 'x-request-id': requestId };
  };
  return {
    before: (request) => {
      const event = toHttpApiEvent(request.event as unknown as ApiGatewayEvent);
      request.event = { event, requestId: requestIdOf(event), text: '', input: {} };
    },
    after: withId,
    onError: withId,
  };
}

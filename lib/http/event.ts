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

/** Single and multi-value maps as one; repeated values joined with commas, as HTTP API does. */
function joined(
  single: Record<string, string | undefined> | null | undefined,
  multi: Record<string, string[] | undefined> | null | undefined,
  name: (n: string) => string = (n) => n,
  value: (v: string) => string = (v) => v,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(single ?? {})) if (v !== undefined) out[name(n)] = value(v);
  for (const [n, values] of Object.entries(multi ?? {})) if (values?.length) out[name(n)] = values.join(',');
  return out;
}

const lower = (n: string) => n.toLowerCase();

/** REST APIs pass path parameters as they appear in the URL (`a%3Ab`); HTTP APIs decode them (`a:b`). */
function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // malformed escapes stay as they are; the route's schema refuses them
  }
}

/**
 * The event as HTTP API (payload 2.0) would have sent it: method, raw path (without a REST API's stage),
 * lower-cased headers, query, path parameters, body, base64 flag and request id. A v2 event only has its
 * header names lower-cased (HTTP API already does; tests and other callers may not).
 */
export function toHttpApiEvent(event: ApiGatewayEvent): APIGatewayProxyEventV2 {
  if (!isV1(event)) return { ...event, headers: joined(event.headers, undefined, lower) };
  const joinedQuery = joined(event.queryStringParameters, event.multiValueQueryStringParameters);
  const query = Object.keys(joinedQuery).length > 0 ? joinedQuery : undefined;
  const ctx = event.requestContext;
  const headers = joined(event.headers, event.multiValueHeaders, lower);
  return {
    version: '2.0',
    routeKey: `${event.httpMethod} ${event.resource}`,
    rawPath: event.path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    ...(event.pathParameters
      ? { pathParameters: joined(event.pathParameters, null, (n) => n, decoded) }
      : {}),
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

/** A middleware of the edge: every one after httpEvent, and the handler, sees an EdgeRequest as the event. */
export type EdgeMiddleware = MiddlewareObj<EdgeRequest, HttpResult>;

export interface EdgeRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  /** The one header lookup, by name in any case (toHttpApiEvent lower-cased the names once). */
  header(name: string): string | undefined;
  /** The body as text (base64 decoded); set by the body middleware of routes that take one. */
  text: string;
  /** Path, query and body as the route's schemas parsed them; set by the input middleware. */
  input: { path?: unknown; query?: unknown; body?: unknown };
}

/** serverless-offline's HTTP API events carry this fixed placeholder as every request's id. */
const PLACEHOLDER_REQUEST_ID = /^offlineContext_/;

/** API Gateway's request id, or a fresh one where there is none (or only serverless-offline's placeholder). */
export function requestIdOf(event: APIGatewayProxyEventV2 | undefined): string {
  const id = event?.requestContext?.requestId;
  return id && !PLACEHOLDER_REQUEST_ID.test(id) ? id : randomUUID();
}

/** before: the Lambda event becomes an EdgeRequest; after and onError: `x-request-id` on every response. */
export function httpEvent(): EdgeMiddleware {
  const withId = ({ event, response }: { event: EdgeRequest; response: HttpResult | null | undefined }) => {
    if (response) response.headers = { ...response.headers, 'x-request-id': event.requestId };
  };
  return {
    before: (request) => {
      const event = toHttpApiEvent(request.event as unknown as ApiGatewayEvent);
      const header = (name: string) => event.headers?.[name.toLowerCase()];
      request.event = { event, requestId: requestIdOf(event), header, text: '', input: {} };
    },
    after: withId,
    onError: withId,
  };
}

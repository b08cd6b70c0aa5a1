// One event shape for every HTTP edge: a REST API (v1) or HTTP API (v2) proxy event, normalised to v2.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

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

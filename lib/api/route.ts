// Route specs (method, path, zod schemas, responses) shared by the handlers that parse with them and the OpenAPI document.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { PayloadTooLargeError, ValidationError, type FieldIssue } from '../errors.js';
import { enforceAdminLimits } from '../http/admin-limit-edge.js';
import { httpHandler, type HttpRequest } from '../http/handler.js';
import { json, noContent, type HttpResult } from '../http/response.js';
import { runtime } from '../runtime.js';
import { issuesOf } from '../validation.js';

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** A body other than JSON (a page, Prometheus text): documented as a string of this media type. */
  contentType?: string;
}

export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** API Gateway style, e.g. `/v1/users/{userId}`; must match serverless.yml. */
  path: string;
  /** `module.export` under functions/, as in serverless.yml's `handler`. */
  handler: string;
  summary: string;
  tag: string;
  /**
   * `qstash`: a QStash-signed delivery (handled by the worker's signed edge, documented here).
   * `metrics`: an admin key or a read-only metrics token (STAGGER_METRICS_TOKENS).
   */
  auth: 'admin' | 'none' | 'qstash' | 'metrics';
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success responses; the error responses of a route are added from its inputs and auth. */
  responses: Record<number, ResponseSpec>;
  /** Error statuses the route itself can answer besides 400/401/413 (e.g. 404, 409). */
  errors?: readonly number[];
}

/** Largest admin request body: far above any valid one, far below what would cost memory. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<R extends RouteSpec> {
  path: Out<R['pathParams']>;
  query: Out<R['query']>;
  body: Out<R['body']>;
}

/** What a handler returns: a status and a JSON body (none for 204). */
export interface RouteResult {
  status: number;
  body?: unknown;
}

/**
 * The body as text. API Gateway always sends a string; serverless-offline hands a falsy JSON body (`false`, `0`)
 * over parsed, and `null` or `""` as no body at all (with the request's content-length still set).
 */
function bodyText(event: APIGatewayProxyEventV2): string {
  const raw = event.body as unknown;
  if (typeof raw === 'string')
    return event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (raw !== undefined && raw !== null) return JSON.stringify(raw);
  return Number(event.headers?.['content-length'] ?? 0) > 0 ? 'null' : '';
}

function readBody(event: APIGatewayProxyEventV2): { value: unknown } | { issue: FieldIssue } {
  const text = bodyText(event);
  if (Buffer.byteLength(text, 'utf8') > MAX_ADMIN_BODY_BYTES) {
    throw new PayloadTooLargeError(`body larger than ${MAX_ADMIN_BODY_BYTES} bytes`);
  }
  // Only JSON's own whitespace makes an empty body: a lone \v or \f is not JSON (String.trim would drop them).
  if (/^[ \t\n\r]*$/.test(text)) return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { issue: { path: 'body', message: 'not valid JSON' } };
  }
}

/** Parses path, query and body with the route's schemas; one 400 names every bad field of all three. */
export function parseRouteInput<R extends RouteSpec>(route: R, event: APIGatewayProxyEventV2): RouteInput<R> {
  const issues: FieldIssue[] = [];
  const parse = (schema: z.ZodType | undefined, value: unknown, root: string): unknown => {
    if (!schema) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    issues.push(...issuesOf(result.error, root));
    return undefined;
  };
  const path = parse(route.pathParams, event.pathParameters ?? {}, 'path');
  const query = parse(route.query ?? z.strictObject({}), event.queryStringParameters ?? {}, 'query');
  let body: unknown;
  if (route.body) {
    const read = readBody(event);
    if ('issue' in read) issues.push(read.issue);
    else body = parse(route.body, read.value, 'body');
  } else if ((event.body ?? '') !== '') {
    issues.push({ path: 'body', message: 'this route takes no body' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return { path, query, body } as RouteInput<R>;
}

/** A Lambda handler for a route: auth first, then input parsing, then `fn`, then the result as JSON. */
export function routeHandler<R extends RouteSpec & { auth: 'admin' | 'none' }>(
  route: R,
  fn: (input: RouteInput<R>, req: HttpRequest) => Promise<RouteResult>,
) {
  return httpHandler(
    { auth: route.auth, adminKeys: () => runtime().config.STAGGER_ADMIN_API_KEYS },
    async (req): Promise<HttpResult> => {
      if (route.auth === 'admin') await enforceAdminLimits(route, req.event);
      const result = await fn(parseRouteInput(route, req.event), req);
      return result.status === 204 ? noContent() : json(result.status, result.body);
    },
  );
}

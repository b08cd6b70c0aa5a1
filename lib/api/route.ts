// Route specs (method, path, zod schemas, responses) and the one handler factory that builds every HTTP function's edge from them.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Config } from '../config.js';
import { adminLimits } from '../http/admin-limit-edge.js';
import { adminAuth } from '../http/auth.js';
import { BODY_LIMITS, bodyReader } from '../http/body.js';
import { errorMapper } from '../http/errors.js';
import { httpEvent, type ApiGatewayEvent, type EdgeRequest } from '../http/event.js';
import { routeInput } from '../http/input.js';
import { qstashSignature, type SignatureVerifier } from '../http/qstash-signature.js';
import { json, type HttpResult } from '../http/response.js';
import { runtime } from '../runtime.js';
import { internalUrl } from '../publishing/qstash-publisher.js';
import type { FALLBACK_ROUTE } from './fallback.js';

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
   * `qstash`: a QStash-signed delivery (signature on the raw body and our own URL; a bad body is a 489).
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

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<R extends EdgeRoute> {
  path: R extends RouteSpec ? Out<R['pathParams']> : undefined;
  query: R extends RouteSpec ? Out<R['query']> : undefined;
  body: R extends RouteSpec ? Out<R['body']> : undefined;
}

/** What a handler returns: a status and a JSON body (none for 204), or a whole result (a page, Prometheus text). */
export type RouteResult = { status: number; body?: unknown } | HttpResult;

/** What a handler gets beside its input: the normalised event, request id, header lookup and Lambda context. */
export type HttpRequest = Omit<EdgeRequest, 'text' | 'input'> & { readonly context: Context };

/** A spec, or the catch-all route (serverless.yml's `/{proxy+}`), which parses no input. */
export type EdgeRoute = RouteSpec | typeof FALLBACK_ROUTE;

type EdgeConfig = Pick<Config, 'STAGGER_ADMIN_API_KEYS' | 'STAGGER_METRICS_TOKENS' | 'STAGGER_PUBLIC_URL'>;

/** What the edge reads from the deployment (tests pass their own); `limits`: the admin limits (Redis) apply. */
export interface EdgeDeps {
  config(): EdgeConfig;
  verifier(): SignatureVerifier;
  limits: boolean;
}

const deploymentEdge: EdgeDeps = {
  config: () => runtime().config,
  verifier: () => runtime().receiver,
  limits: true,
};

/** The metrics route takes an admin key or a read-only metrics token. */
const metricsKeys = (c: EdgeConfig) => [...c.STAGGER_ADMIN_API_KEYS, ...c.STAGGER_METRICS_TOKENS];

export type LambdaHttpHandler = (event: ApiGatewayEvent, context: Context) => Promise<HttpResult>;

/**
 * The Lambda handler of a route: the request id and one error shape around everything; then by the route's auth
 * an admin key (plus the admin limits) or a QStash signature; then the body under its kind's limit, the inputs
 * parsed with the route's schemas, `fn`, and its result as JSON.
 */
export function routeHandler<R extends EdgeRoute>(
  route: R,
  fn: (input: RouteInput<R>, req: HttpRequest) => Promise<RouteResult>,
  deps: EdgeDeps = deploymentEdge,
): LambdaHttpHandler {
  const { auth } = route;
  const signed = auth === 'qstash';
  const edge = middy<EdgeRequest, HttpResult>().use(httpEvent()).use(errorMapper(signed));
  if (auth === 'admin') edge.use(adminAuth(() => deps.config().STAGGER_ADMIN_API_KEYS));
  if (auth === 'metrics') edge.use(adminAuth(() => metricsKeys(deps.config())));
  if (auth === 'admin' && deps.limits) edge.use(adminLimits(route));
  if (route.method !== '*') {
    if (route.body) edge.use(bodyReader(signed ? BODY_LIMITS.qstash : BODY_LIMITS.json));
    const url = () => internalUrl(deps.config().STAGGER_PUBLIC_URL, route.path);
    if (signed) edge.use(qstashSignature(deps.verifier, url));
    edge.use(routeInput(route));
  }
  const handler = edge.handler(async ({ event, requestId, header, input }, context) => {
    const result = await fn(input as RouteInput<R>, { event, requestId, header, context });
    if ('statusCode' in result) return result;
    if (result.status === 204) return { statusCode: 204, headers: {}, body: '' };
    return json(result.status, result.body);
  });
  return handler as unknown as LambdaHttpHandler;
}

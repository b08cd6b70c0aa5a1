// Route specs (method, path, zod schemas, responses) and the one handler factory that builds every HTTP function's edge from them.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { adminLimits } from '../http/admin-limit-edge.js';
import { adminAuth } from '../http/auth.js';
import { BODY_LIMITS, bodyReader } from '../http/body.js';
import { errorMapper } from '../http/errors.js';
import { headerOf, httpEvent, type ApiGatewayEvent, type EdgeRequest } from '../http/event.js';
import { routeInput } from '../http/input.js';
import { qstashSignature, type SignatureVerifier } from '../http/qstash-signature.js';
import { json, noContent, type HttpResult } from '../http/response.js';
import { runtime } from '../runtime.js';
import { signingReceiver } from '../worker/deps.js';
import { internalUrl } from '../worker/publish-job.js';

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

export interface HttpRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  readonly requestId: string;
  /** A request header, by name in any case. */
  header(name: string): string | undefined;
}

/** The catch-all route (serverless.yml's `/{proxy+}`): no spec of its own, so no input is parsed. */
export interface CatchAllRoute {
  method: '*';
  path: string;
  handler: string;
  auth: 'none';
}

export type EdgeRoute = RouteSpec | CatchAllRoute;

/** What the edge reads from the deployment: keys, the signature verifier, the public URL. Tests pass their own. */
export interface EdgeDeps {
  adminKeys(): readonly string[];
  metricsTokens(): readonly string[];
  verifier(): SignatureVerifier;
  publicUrl(): string;
  /** Whether the admin limits apply (they need Redis). */
  limits: boolean;
}

const deploymentEdge: EdgeDeps = {
  adminKeys: () => runtime().config.STAGGER_ADMIN_API_KEYS,
  metricsTokens: () => runtime().config.STAGGER_METRICS_TOKENS,
  verifier: () => signingReceiver(runtime().config),
  publicUrl: () => runtime().config.STAGGER_PUBLIC_URL,
  limits: true,
};

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
  const edge = middy<EdgeRequest, HttpResult>()
    .use(httpEvent())
    .use(errorMapper(route.auth === 'qstash'));
  if (route.auth === 'admin' || route.auth === 'metrics') {
    const keys =
      route.auth === 'admin' ? deps.adminKeys : () => [...deps.adminKeys(), ...deps.metricsTokens()];
    edge.use(adminAuth(keys));
  }
  if (route.auth === 'admin' && deps.limits) edge.use(adminLimits(route));
  if (route.method !== '*') {
    if (route.body) edge.use(bodyReader(route.auth === 'qstash' ? BODY_LIMITS.qstash : BODY_LIMITS.json));
    if (route.auth === 'qstash') {
      edge.use(qstashSignature(deps.verifier, () => internalUrl(deps.publicUrl(), route.path)));
    }
    edge.use(routeInput(route));
  }
  const handler = edge.handler(async (req, context) => {
    const { event, requestId } = req;
    const header = (name: string) => headerOf(event, name);
    const result = await fn(req.input as RouteInput<R>, { event, context, requestId, header });
    if ('statusCode' in result) return result;
    return result.status === 204 ? noContent() : json(result.status, result.body);
  });
  return handler as unknown as LambdaHttpHandler;
}

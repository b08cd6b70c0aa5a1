// Builds the OpenAPI 3.1 document from the route table and its zod schemas (z.toJSONSchema), never by hand.
import { z } from 'zod';
import { ErrorBody } from '../admin/schemas.js';
import type { RouteSpec } from './route.js';

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
};

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; `details` names each field (`path.userId`, `query.limit`, `body.zone`)',
  401: 'Missing or wrong admin API key (or QStash signature)',
  404: 'No such user or task type',
  409: 'The task type is disabled in the catalog or paused',
  413: 'Body too large',
  429: "Over the admin API's budget for this key or address (reads, writes or run-now); retry after `Retry-After` seconds",
  500: 'Internal error (message hidden; quote the requestId)',
};

/** A QStash delivery's refusals are statuses QStash acts on: 489 stops its retries, 503 asks for one. */
const SIGNED_TEXT: Record<number, string> = {
  489: 'Refused for good (`Upstash-NonRetryable-Error: true`): a body that is invalid or over 1 MiB, or a job that failed without retry',
  503: 'Not done yet: QStash retries (after `Retry-After` seconds when given)',
};

/** JSON Schema 2020-12 (OpenAPI 3.1's own dialect) of a zod schema, as a caller sends it or receives it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

const accepts = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;

/** Alternatives: any one requirement of the list suffices. */
const SECURITY: Record<RouteSpec['auth'], Record<string, string[]>[]> = {
  none: [],
  admin: [{ adminKey: [] }],
  qstash: [{ qstashSignature: [] }],
  metrics: [{ adminKey: [] }, { metricsToken: [] }],
};

function parametersOf(shape: z.ZodObject | undefined, where: 'path' | 'query'): unknown[] {
  if (!shape) return [];
  return Object.entries(shape.shape as Record<string, z.ZodType>).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || !accepts(schema, undefined),
    // Query strings arrive as text; the documented type is what the value means.
    schema: jsonSchemaOf(schema, where === 'query' ? 'output' : 'input'),
  }));
}

function operationOf(route: RouteSpec): Operation {
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status] = spec.contentType
      ? { description: spec.description, content: { [spec.contentType]: { schema: { type: 'string' } } } }
      : spec.schema
        ? {
            description: spec.description,
            content: { 'application/json': { schema: jsonSchemaOf(spec.schema, 'output') } },
          }
        : { description: spec.description };
  }
  const signed = route.auth === 'qstash';
  const errors = new Set<number>([signed ? 489 : 400, 500, ...(route.errors ?? [])]);
  if (route.auth !== 'none') errors.add(401);
  if (route.body && !signed) errors.add(413);
  if (route.auth === 'admin') errors.add(429);
  if (signed) errors.add(503);
  for (const status of [...errors].sort()) {
    const signedText = signed ? SIGNED_TEXT[status] : undefined;
    if (signedText) {
      responses[String(status)] ??= { description: signedText };
      continue;
    }
    responses[String(status)] ??= {
      description: ERROR_TEXT[status] ?? 'Error',
      ...(status === 429
        ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
        : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const op: Operation = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.auth],
    responses,
  };
  const parameters = [...parametersOf(route.pathParams, 'path'), ...parametersOf(route.query, 'query')];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) {
    op.requestBody = {
      required: !accepts(route.body, undefined),
      content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } },
    };
  }
  return op;
}

export function buildOpenApi(routes: readonly RouteSpec[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operationOf(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'stagger',
      version: '1',
      description:
        'Per-user recurring tasks: users, the task types they enable, and the catalog. ' +
        'Admin routes need `Authorization: Bearer <admin API key>`. Every error has the shape ' +
        '`{ error: { code, message, requestId, details? } }`.',
    },
    paths,
    components: {
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'An admin API key' },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A read-only metrics token (STAGGER_METRICS_TOKENS): GET /metrics only',
        },
        qstashSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Upstash-Signature',
          description: 'JWT signed by QStash with the current or next signing key',
        },
      },
      schemas: { Error: jsonSchemaOf(ErrorBody, 'output') },
    },
  };
}

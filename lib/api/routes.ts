// Every HTTP route of the deployment, for the OpenAPI document; a unit test checks it against serverless.yml.
import { z } from 'zod';
import { ADMIN_ROUTES } from '../admin/routes.js';
import { SCHEDULER_ROUTES } from '../scheduler/routes.js';
import { OPERATOR_ROUTES } from '../worker/routes.js';
import type { RouteSpec } from './route.js';

export const PUBLIC_ROUTES = {
  health: {
    auth: 'none',
    operationId: 'getHealth',
    method: 'GET',
    path: '/health',
    handler: 'functions/health.handler',
    tag: 'operations',
    summary: 'Reachability of Redis and QStash',
    responses: {
      200: {
        description: 'Both answer',
        schema: z.object({
          status: z.enum(['ok', 'degraded']),
          down: z.array(z.string()),
          checks: z.record(z.string(), z.object({ status: z.enum(['ok', 'unreachable']), latencyMs: z.number() })),
        }),
      },
      503: { description: 'One of them does not (same body, status degraded)' },
    },
  },
  openapi: {
    auth: 'none',
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    handler: 'functions/openapi.handler',
    tag: 'operations',
    summary: 'This document (OpenAPI 3.1), generated from the schemas the handlers validate with',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
  },
} as const satisfies Record<string, RouteSpec>;

/** Add a route table here when adding functions with httpApi events. */
export const ALL_ROUTES: readonly RouteSpec[] = [
  ...Object.values(PUBLIC_ROUTES),
  ...Object.values(ADMIN_ROUTES),
  ...Object.values(OPERATOR_ROUTES),
  ...Object.values(SCHEDULER_ROUTES),
];

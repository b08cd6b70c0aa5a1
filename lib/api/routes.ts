// Every HTTP route of the deployment, for the OpenAPI document; a unit test checks it against serverless.yml.
import { z } from 'zod';
import { ADMIN_ROUTES } from '../admin/routes.js';
import { OBSERVABILITY_ROUTES } from '../dashboard/routes.js';
import { DeliveredMessage } from '../domain/delivery.js';
import { CONTINUE_PATH, ContinuationMessage } from '../scheduler/continuation.js';
import { SCHEDULER_ROUTES } from '../scheduler/routes.js';
import { FailureCallback } from '../dead-letters/dead-letter-store.js';
import { DEAD_LETTER_ROUTES } from '../dead-letters/routes.js';
import { JOB_ROUTES } from '../jobs/routes.js';
import { FAILURES_PATH, JOBS_PATH } from '../publishing/qstash-publisher.js';
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
    // Monitors may add query parameters (cache busters): taken and ignored, as they always were.
    query: z.looseObject({}),
    responses: {
      200: {
        description: 'Both answer',
        schema: z.object({
          status: z.enum(['ok', 'degraded']),
          down: z.array(z.string()),
          checks: z.record(
            z.string(),
            z.object({ status: z.enum(['ok', 'unreachable']), latencyMs: z.number() }),
          ),
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

const delivered = { description: 'Handled (see the body)', schema: z.record(z.string(), z.unknown()) };

/** QStash deliveries: signed with the QStash signing keys (header Upstash-Signature), never called by people. */
export const INTERNAL_ROUTES = {
  worker: {
    auth: 'qstash',
    operationId: 'deliverJob',
    method: 'POST',
    path: JOBS_PATH,
    handler: 'functions/worker.handler',
    tag: 'internal',
    summary: "QStash delivers one job, or a batch of one slot's jobs; each runs once under the rate limits",
    body: DeliveredMessage,
    responses: { 200: delivered },
  },
  failures: {
    auth: 'qstash',
    operationId: 'deliverFailure',
    method: 'POST',
    path: FAILURES_PATH,
    handler: 'functions/failures.handler',
    tag: 'internal',
    summary: "QStash's failure callback after a job's last retry; the job becomes a dead letter",
    body: FailureCallback,
    responses: { 200: delivered },
  },
  schedulerContinue: {
    auth: 'qstash',
    operationId: 'continueSlot',
    method: 'POST',
    path: CONTINUE_PATH,
    handler: 'functions/scheduler.continueSlot',
    tag: 'internal',
    summary: 'A fan-out hand-over: continue a slot from its checkpoint',
    body: ContinuationMessage,
    responses: { 200: delivered },
  },
} as const satisfies Record<string, RouteSpec>;

/** Every route table; add yours here when adding functions with httpApi events (a unit test checks serverless.yml). */
export const ALL_ROUTES: readonly RouteSpec[] = [
  ...Object.values(PUBLIC_ROUTES),
  ...Object.values(ADMIN_ROUTES),
  ...Object.values(JOB_ROUTES),
  ...Object.values(DEAD_LETTER_ROUTES),
  ...Object.values(SCHEDULER_ROUTES),
  ...Object.values(OBSERVABILITY_ROUTES),
  ...Object.values(INTERNAL_ROUTES),
];

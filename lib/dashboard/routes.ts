// Observability routes (metrics, dashboard, overview): read by the handlers, serverless.yml's check and OpenAPI.
import type { RouteSpec } from '../api/route.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus.js';
import { Overview, OverviewQuery } from './schemas.js';

export const OBSERVABILITY_ROUTES = {
  metrics: {
    auth: 'metrics',
    operationId: 'getMetrics',
    method: 'GET',
    path: '/metrics',
    handler: 'functions/metrics.handler',
    tag: 'operations',
    summary:
      'Prometheus metrics (text format 0.0.4): job counters and histograms of every instance (kept in Redis), live gauges',
    responses: { 200: { description: 'Prometheus text exposition', contentType: PROMETHEUS_CONTENT_TYPE } },
  },
  dashboard: {
    auth: 'none',
    operationId: 'getDashboard',
    method: 'GET',
    path: '/dashboard',
    handler: 'functions/dashboard.page',
    tag: 'operations',
    summary:
      'The operator dashboard: a static page that asks for an admin key and reads GET /v1/overview with it (holds no data itself)',
    responses: { 200: { description: 'HTML page', contentType: 'text/html; charset=utf-8' } },
  },
  overview: {
    auth: 'admin',
    operationId: 'getOverview',
    method: 'GET',
    path: '/v1/overview',
    handler: 'functions/dashboard.overview',
    tag: 'operations',
    summary:
      'Everything the dashboard shows in one read: scheduler, task types with their periods, starts chart, limits, dead letters',
    query: OverviewQuery,
    responses: { 200: { description: 'Overview', schema: Overview } },
  },
} as const satisfies Record<string, RouteSpec>;

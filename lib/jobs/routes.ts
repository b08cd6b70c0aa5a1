// The job API's routes (one job, a user's runs, run-now): read by the handlers, serverless.yml's checks and OpenAPI.
import type { RouteSpec } from '../api/route.js';
import { JobPath, JobView, Published, RunList, RunNowPath, RunsPath, RunsQuery } from './schemas.js';

const admin = { auth: 'admin' } as const;

export const JOB_ROUTES = {
  getJob: {
    ...admin,
    operationId: 'getJob',
    method: 'GET',
    path: '/v1/jobs/{jobId}',
    handler: 'functions/admin/jobs.get',
    tag: 'jobs',
    summary: 'State, attempts, last result and planned time of one job',
    pathParams: JobPath,
    responses: { 200: { description: 'The job', schema: JobView } },
    errors: [404],
  },
  listRuns: {
    ...admin,
    operationId: 'listRuns',
    method: 'GET',
    path: '/v1/users/{userId}/runs',
    handler: 'functions/admin/jobs.runs',
    tag: 'jobs',
    summary: "A user's run history, newest first (the last 50 per task type are kept)",
    pathParams: RunsPath,
    query: RunsQuery,
    responses: { 200: { description: 'Runs', schema: RunList } },
    errors: [404],
  },
  runNow: {
    ...admin,
    operationId: 'runNow',
    method: 'POST',
    path: '/v1/users/{userId}/tasks/{taskId}/run',
    handler: 'functions/admin/jobs.run',
    tag: 'jobs',
    summary: 'Run a task for a user now, outside its schedule, as job {task}:{user}:manual-<id>',
    pathParams: RunNowPath,
    responses: { 202: { description: 'Published', schema: Published } },
    errors: [404],
  },
} as const satisfies Record<string, RouteSpec>;

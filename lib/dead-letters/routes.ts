// The dead-letter API's routes (list, replay, delete): read by the handlers, serverless.yml's checks and OpenAPI.
import type { RouteSpec } from '../api/route.js';
import { Published } from '../jobs/schemas.js';
import { DeadLetterPage, DeadLetterPath, DeadLetterQuery } from './schemas.js';

const admin = { auth: 'admin' } as const;

export const DEAD_LETTER_ROUTES = {
  listDeadLetters: {
    ...admin,
    operationId: 'listDeadLetters',
    method: 'GET',
    path: '/v1/dead-letters',
    handler: 'functions/admin/dead-letters.list',
    tag: 'dead letters',
    summary: 'Jobs that kept failing, newest first, with their last error',
    query: DeadLetterQuery,
    responses: { 200: { description: 'One page', schema: DeadLetterPage } },
  },
  replayDeadLetter: {
    ...admin,
    operationId: 'replayDeadLetter',
    method: 'POST',
    path: '/v1/dead-letters/{id}/replay',
    handler: 'functions/admin/dead-letters.replay',
    tag: 'dead letters',
    summary: 'Publish the job again (origin replay) with its state reset; the dead letter leaves the list',
    pathParams: DeadLetterPath,
    responses: { 202: { description: 'Published', schema: Published } },
    errors: [404, 503],
  },
  deleteDeadLetter: {
    ...admin,
    operationId: 'deleteDeadLetter',
    method: 'DELETE',
    path: '/v1/dead-letters/{id}',
    handler: 'functions/admin/dead-letters.remove',
    tag: 'dead letters',
    summary: 'Drop a dead letter for good',
    pathParams: DeadLetterPath,
    responses: { 204: { description: 'Deleted' } },
    errors: [404],
  },
} as const satisfies Record<string, RouteSpec>;

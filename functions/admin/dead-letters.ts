// Admin: dead letters — list (paged, newest first), replay, delete. Thin: lib/worker/dead-letters does the work.
import { routeHandler } from '../../lib/api/route.js';
import { parseJobId } from '../../lib/domain/ids.js';
import { ValidationError } from '../../lib/errors.js';
import { jobLoggerOf } from '../../lib/log.js';
import { decodeCursor } from '../../lib/worker/dead-letters.js';
import { workerServices } from '../../lib/worker/deps.js';
import { OPERATOR_ROUTES as R } from '../../lib/worker/routes.js';
import { DEFAULT_PAGE } from '../../lib/worker/schemas.js';

export const list = routeHandler(R.listDeadLetters, async ({ query }) => {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && cursor === undefined) {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor from this API' }]);
  }
  return { status: 200, body: await workerServices().deadLetters.list(cursor, query.limit ?? DEFAULT_PAGE) };
});

export const replay = routeHandler(R.replayDeadLetter, async ({ path }, req) => {
  const s = workerServices();
  const taskId = parseJobId(path.id)?.taskId;
  const retries = s.catalog.tasks.find((t) => t.id === taskId)?.retries ?? 3;
  const published = await s.deadLetters.replay(path.id, s.publisher, retries);
  jobLoggerOf(published.jobId, req.requestId).info(
    { messageId: published.messageId },
    'dead letter replayed',
  );
  return { status: 202, body: published };
});

export const remove = routeHandler(R.deleteDeadLetter, async ({ path }) => {
  await workerServices().deadLetters.delete(path.id);
  return { status: 204 };
});

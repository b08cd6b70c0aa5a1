// Admin: dead letters — list (paged, newest first), replay, delete. Thin: lib/dead-letters does the work.
import { routeHandler } from '../../lib/api/route.js';
import { decodeCursor } from '../../lib/dead-letters/dead-letter-store.js';
import { DEAD_LETTER_ROUTES as R } from '../../lib/dead-letters/routes.js';
import { DEFAULT_RETRIES } from '../../lib/domain/catalog.js';
import { parseJobId } from '../../lib/domain/ids.js';
import { ValidationError } from '../../lib/errors.js';
import { DEFAULT_PAGE } from '../../lib/jobs/schemas.js';
import { jobLoggerOf } from '../../lib/log.js';
import { runtime } from '../../lib/runtime.js';

export const list = routeHandler(R.listDeadLetters, async ({ query }) => {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && cursor === undefined) {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor from this API' }]);
  }
  return { status: 200, body: await runtime().deadLetters.list(cursor, query.limit ?? DEFAULT_PAGE) };
});

export const replay = routeHandler(R.replayDeadLetter, async ({ path }, req) => {
  const rt = runtime();
  const taskId = parseJobId(path.id)?.taskId;
  const retries = rt.catalog.tasks.find((t) => t.id === taskId)?.retries ?? DEFAULT_RETRIES;
  const published = await rt.deadLetters.replay(path.id, rt.publisher, retries);
  jobLoggerOf(published.jobId, req.requestId).info(
    { messageId: published.messageId },
    'dead letter replayed',
  );
  return { status: 202, body: published };
});

export const remove = routeHandler(R.deleteDeadLetter, async ({ path }) => {
  await runtime().deadLetters.delete(path.id);
  return { status: 204 };
});

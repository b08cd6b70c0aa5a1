// Admin: one job's state, a user's run history, and run-now. Thin: lib/worker/job-reads does the work.
import { routeHandler } from '../../lib/api/route.js';
import { jobLoggerOf } from '../../lib/log.js';
import { workerServices } from '../../lib/worker/deps.js';
import { runNow } from '../../lib/worker/job-reads.js';
import { OPERATOR_ROUTES as R } from '../../lib/worker/routes.js';
import { DEFAULT_PAGE } from '../../lib/worker/schemas.js';

export const get = routeHandler(R.getJob, async ({ path }) => ({
  status: 200,
  body: await workerServices().reads.getJob(path.jobId),
}));

export const runs = routeHandler(R.listRuns, async ({ path, query }) => ({
  status: 200,
  body: {
    items: await workerServices().reads.listRuns(path.userId, query.taskId, query.limit ?? DEFAULT_PAGE),
  },
}));

export const run = routeHandler(R.runNow, async ({ path }, req) => {
  const { runtime: rt, catalog, publisher, keys } = workerServices();
  const published = await runNow({ redis: rt.redis, keys, catalog, publisher }, path.userId, path.taskId);
  jobLoggerOf(published.jobId, req.requestId).info({ messageId: published.messageId }, 'run-now published');
  return { status: 202, body: published };
});

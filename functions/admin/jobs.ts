// Admin: one job's state, a user's run history, and run-now. Thin: lib/jobs does the work.
import { routeHandler } from '../../lib/api/route.js';
import { jobLoggerOf } from '../../lib/log.js';
import { JOB_ROUTES as R } from '../../lib/jobs/routes.js';
import { DEFAULT_PAGE } from '../../lib/jobs/schemas.js';
import { runtime } from '../../lib/runtime.js';

export const get = routeHandler(R.getJob, async ({ path }) => ({
  status: 200,
  body: await runtime().jobReads.getJob(path.jobId),
}));

export const runs = routeHandler(R.listRuns, async ({ path, query }) => ({
  status: 200,
  body: {
    items: await runtime().jobReads.listRuns(path.userId, query.taskId, query.limit ?? DEFAULT_PAGE),
  },
}));

export const run = routeHandler(R.runNow, async ({ path }, req) => {
  const published = await runtime().runNow(path.userId, path.taskId);
  jobLoggerOf(published.jobId, req.requestId).info({ messageId: published.messageId }, 'run-now published');
  return { status: 202, body: published };
});

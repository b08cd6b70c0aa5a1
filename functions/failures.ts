// POST /internal/failures: QStash's failure callback after a message's last retry; its job (each job of a batch not settled) becomes a dead letter.
import { routeHandler } from '../lib/api/route.js';
import { INTERNAL_ROUTES } from '../lib/api/routes.js';
import { json } from '../lib/http/response.js';
import { jobLoggerOf, logger } from '../lib/log.js';
import { dropQStashCopy, shouldDropQStashCopy } from '../lib/dead-letters/qstash-dlq.js';
import { runtime } from '../lib/runtime.js';

export const handler = routeHandler(INTERNAL_ROUTES.failures, async ({ body: callback }, req) => {
  const rt = runtime();
  const { outcome, jobId, batch } = await rt.deadLetters.recordFailure(callback);
  // Only after ours is stored; best-effort: a failed delete leaves QStash's copy, never loses the failure.
  const qstashDlq = shouldDropQStashCopy(outcome, callback.dlqId)
    ? await dropQStashCopy(rt.qstash.dlq, callback.dlqId)
    : undefined;
  const log =
    jobId !== undefined
      ? jobLoggerOf(jobId, req.requestId)
      : logger.child({
          requestId: req.requestId,
          ...(batch ? { task: batch.taskId, period: batch.periodKey } : {}),
        });
  // Acknowledged either way: a callback we cannot use would fail the same way on every retry.
  log.info(
    {
      outcome,
      ...(batch ? { jobs: batch.jobs, count: batch.count, outcomes: batch.outcomes } : {}),
      status: callback.status,
      qstashMessageId: callback.sourceMessageId,
      qstashDlq,
    },
    'failure callback',
  );
  return json(200, { outcome, ...(jobId ? { jobId } : {}), ...(batch ? { count: batch.count } : {}) });
});

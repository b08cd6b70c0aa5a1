// POST /internal/jobs: QStash delivers one job; signature first, then the job runs once under the rate limits.
import { routeHandler } from '../lib/api/route.js';
import { INTERNAL_ROUTES } from '../lib/api/routes.js';
import { runtime } from '../lib/runtime.js';
import { verdictResult } from '../lib/worker/qstash-edge.js';
import { runDelivery } from '../lib/worker/run-delivery.js';

export const handler = routeHandler(INTERNAL_ROUTES.worker, async ({ body: message }, req) => {
  const retried = Number(req.header('upstash-retried') ?? '0');
  const verdict = await runDelivery(runtime().delivery, {
    message,
    messageId: req.header('upstash-message-id') ?? 'unknown',
    retried: Number.isInteger(retried) && retried >= 0 ? retried : 0,
    deadline: Date.now() + req.context.getRemainingTimeInMillis(),
    requestId: req.requestId,
  });
  return verdictResult(verdict);
});

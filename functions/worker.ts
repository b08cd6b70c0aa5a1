// POST /internal/jobs: QStash delivers one job or a batch; signature first, then each job runs once under the limits.
import { routeHandler } from '../lib/api/route.js';
import { INTERNAL_ROUTES } from '../lib/api/routes.js';
import { isBatch } from '../lib/domain/delivery.js';
import { runtime } from '../lib/runtime.js';
import { verdictResult } from '../lib/worker/qstash-edge.js';
import { runBatch } from '../lib/worker/run-batch.js';
import { runDelivery } from '../lib/worker/run-delivery.js';

export const handler = routeHandler(INTERNAL_ROUTES.worker, async ({ body: message }, req) => {
  const retried = Number(req.header('upstash-retried') ?? '0');
  const delivery = {
    messageId: req.header('upstash-message-id') ?? 'unknown',
    retried: Number.isInteger(retried) && retried >= 0 ? retried : 0,
    deadline: Date.now() + req.context.getRemainingTimeInMillis(),
    requestId: req.requestId,
  };
  const deps = runtime().delivery;
  const verdict = isBatch(message)
    ? await runBatch(deps, { ...delivery, message })
    : await runDelivery(deps, { ...delivery, message });
  return verdictResult(verdict);
});

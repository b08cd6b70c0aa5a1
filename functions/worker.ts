// POST /internal/jobs: QStash delivers one job; signature first, then the job runs once under the rate limits.
import { JobMessage } from '../lib/domain/job.js';
import { JOBS_PATH } from '../lib/publishing/qstash-publisher.js';
import { runtime } from '../lib/runtime.js';
import { parseSignedJson, signedHandler, verdictResult } from '../lib/worker/qstash-edge.js';
import { runDelivery } from '../lib/worker/run-delivery.js';

export const handler = signedHandler(JOBS_PATH, async (req) => {
  const message = parseSignedJson(req.body, JobMessage);
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

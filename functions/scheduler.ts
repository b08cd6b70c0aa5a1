// Scheduler functions: the minute tick, run-now and status for operators, and the signed continuation. Thin: lib/scheduler works.
import type { Context } from 'aws-lambda';
import { routeHandler } from '../lib/api/route.js';
import { INTERNAL_ROUTES } from '../lib/api/routes.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import { json } from '../lib/http/response.js';
import { logger } from '../lib/log.js';
import { runtime } from '../lib/runtime.js';
import { continueSlot as continueOwnedSlot } from '../lib/scheduler/continue-slot.js';
import { SCHEDULER_ROUTES as R } from '../lib/scheduler/routes.js';
import { clockFrom, type SchedulerDeps } from '../lib/scheduler/deps.js';
import { readStatus } from '../lib/scheduler/status.js';
import { runTick } from '../lib/scheduler/tick.js';

const holderOf = (context: Context) => `${context.functionName}/${context.awsRequestId}`;

/** The deps with a logger whose lines carry this invocation's request id. */
function depsFor(requestId: string): SchedulerDeps {
  const deps = runtime().scheduler;
  return { ...deps, log: (deps.log ?? logger).child({ requestId }) };
}

/** EventBridge `rate(1 minute)`. */
export const tick = async (_event: unknown, context: Context) => {
  const deps = depsFor(context.awsRequestId);
  const summary = await runTick(deps, {
    holder: holderOf(context),
    timeLeft: () => context.getRemainingTimeInMillis(),
  });
  deps.log?.info({ ...summary, slots: undefined }, 'scheduler tick');
  return { ...summary, slots: undefined };
};

export const run = routeHandler(R.runScheduler, async ({ body }, req) => {
  const deps = depsFor(req.requestId);
  let clock = deps.clock;
  if (body?.now !== undefined) {
    if (runtime().config.STAGE !== 'local') {
      throw new ValidationError([{ path: 'body.now', message: 'only accepted when STAGE is local' }]);
    }
    clock = clockFrom(Date.parse(body.now));
  }
  const summary = await runTick(
    { ...deps, clock },
    {
      holder: holderOf(req.context),
      timeLeft: () => req.context.getRemainingTimeInMillis(),
    },
  );
  if (summary.locked) throw new ConflictError('another scheduler run holds the lock; try again shortly');
  return { status: 200, body: summary };
});

export const status = routeHandler(R.schedulerStatus, async () => ({
  status: 200,
  body: await readStatus(runtime().scheduler),
}));

/** QStash delivery of a hand-over: signature first (401), then the body (4xx, not retried), then the work. */
export const continueSlot = routeHandler(
  INTERNAL_ROUTES.schedulerContinue,
  async ({ body: message }, req) => {
    const summary = await continueOwnedSlot(depsFor(req.requestId), message, {
      timeLeft: () => req.context.getRemainingTimeInMillis(),
    });
    return json(200, summary);
  },
);

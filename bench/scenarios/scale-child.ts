// Child process entry of the scale scenario: one scheduler invocation (the tick, or one continuation), alone in its process.
import { resetRuntime, runtime } from '../../lib/runtime.js';
import type { FanOutPublisher } from '../../lib/publishing/qstash-publisher.js';
import type { ContinuationMessage } from '../../lib/scheduler/continuation.js';
import { continueSlot } from '../../lib/scheduler/continue-slot.js';
import { clockFrom } from '../../lib/scheduler/deps.js';
import { runTick } from '../../lib/scheduler/tick.js';
import { childMain } from '../lib/child.js';

export interface ScaleInvocation {
  /** The functions' environment (Redis and QStash URLs, key prefix, catalog path, budget). */
  env: Record<string, string>;
  /** What the invocation's clock reads when it starts. */
  clockMs: number;
  /** The Lambda's timeout: the invocation's time left is this less what it has used. */
  timeoutMs: number;
  /** Absent: the minute tick; present: the continuation delivered with this body. */
  message?: ContinuationMessage;
}

export interface ScaleInvocationResult {
  published: number;
  /** QStash messages those jobs travelled in (a batch is one). */
  messages: number;
  continued: number;
  failed: number;
  claimed: number;
  outcome: string;
  elapsedMs: number;
  /** The continuation messages it published (also stored at the broker, which does not deliver here). */
  handed: ContinuationMessage[];
}

async function invoke(input: ScaleInvocation): Promise<ScaleInvocationResult> {
  Object.assign(process.env, input.env);
  resetRuntime();
  const deps = runtime().scheduler;
  // Parsing the catalog is start-up work, not the invocation's.
  void deps.tasks.size;
  const handed: ContinuationMessage[] = [];
  const publisher: FanOutPublisher = {
    publishJobs: (jobs, retries) => deps.publisher.publishJobs(jobs, retries),
    async publishContinuations(messages) {
      handed.push(...messages);
      await deps.publisher.publishContinuations(messages);
    },
  };
  const clock = clockFrom(input.clockMs);
  const started = performance.now();
  const timeLeft = () => input.timeoutMs - (performance.now() - started);
  if (input.message === undefined) {
    const s = await runTick({ ...deps, publisher, clock }, { holder: 'bench/scale', timeLeft });
    if (s.locked) throw new Error('the scheduler lock was held');
    return {
      published: s.published,
      messages: s.messages,
      continued: s.continued,
      failed: s.failed,
      claimed: s.claimed,
      outcome: 'tick',
      elapsedMs: performance.now() - started,
      handed,
    };
  }
  const s = await continueSlot({ ...deps, publisher, clock }, input.message, { timeLeft });
  return {
    published: s.published,
    messages: s.messages,
    continued: s.continued,
    failed: s.failed,
    claimed: 0,
    outcome: s.outcome,
    elapsedMs: performance.now() - started,
    handed,
  };
}

childMain<ScaleInvocation, ScaleInvocationResult>(invoke);

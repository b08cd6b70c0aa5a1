// Scenario 4, worker overhead: time inside the worker's Lambda handler per job, minus the target's own time
// (signature check, parse, idempotency claim, limiter, recording), jobs one at a time against the local bridge.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jobIdOf } from '../../lib/domain/ids.js';
import type { JobMessage } from '../../lib/domain/job.js';
import { JOBS_PATH, internalUrl } from '../../lib/publishing/qstash-publisher.js';
import { signDelivery } from '../../scripts/broker/signing.js';
import { fakeContext } from '../../test/helpers/lambda-http.js';
import { BENCH_KEYS } from '../lib/bench-env.js';
import { cell, na, type ScenarioReport } from '../lib/report.js';
import { Failures, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { BENCH_TASK, benchUser, startStaggerStack } from '../lib/stagger-stack.js';
import { fmt, percentile, summarize } from '../lib/stats.js';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof fakeContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface OverheadRun {
  p50: number;
  p99: number;
  mean: number;
  targetP50: number;
  /** Of the overhead: time spent waiting on the two Redis REST round trips, p50. */
  redisP50: number;
  /** Of the overhead: everything else (signature, parse, logic, HTTP client work), p50. */
  restP50: number;
}

/** Times every fetch to `origin` (the target), so its share can be taken out of the handler's time. */
function timeFetchesTo(origin: string): { take(): number; restore(): void } {
  const real = globalThis.fetch;
  let spent = 0;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(origin)) return real(input, init);
    const t0 = performance.now();
    try {
      return await real(input, init);
    } finally {
      spent += performance.now() - t0;
    }
  };
  return {
    take() {
      const s = spent;
      spent = 0;
      return s;
    },
    restore() {
      globalThis.fetch = real;
    },
  };
}

function signedEvent(url: string, message: JobMessage): APIGatewayProxyEventV2 {
  const body = JSON.stringify(message);
  const signature = signDelivery(BENCH_KEYS.currentSigningKey, {
    url,
    body: Buffer.from(body),
    now: Date.now(),
  });
  const path = new URL(url).pathname;
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'upstash-signature': signature,
      'upstash-message-id': `msg_${randomUUID()}`,
      'upstash-retried': '0',
      'user-agent': 'Upstash-QStash',
    },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Upstash-QStash',
      },
      requestId: randomUUID(),
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

export async function measureOverhead(
  ctx: ScenarioContext,
  jobs: number,
  warmup: number,
): Promise<OverheadRun> {
  const stack = await startStaggerStack(ctx.env, {
    brokerConcurrency: 0,
    users: jobs + warmup,
    globalLimit: '1000000/1s',
  });
  const fetches = timeFetchesTo(stack.target.url);
  const redisCalls = timeFetchesTo(stack.env['UPSTASH_REDIS_REST_URL']!);
  try {
    const { handler } = (await import('../../functions/worker.js')) as { handler: Handler };
    const url = internalUrl(stack.env['STAGGER_PUBLIC_URL']!, JOBS_PATH);
    const overheads: number[] = [];
    const targetTimes: number[] = [];
    const redisTimes: number[] = [];
    const others: number[] = [];
    const period = `o${Date.now()}`;
    for (let i = 0; i < jobs + warmup; i++) {
      const userId = benchUser(i);
      const message: JobMessage = {
        v: 1,
        jobId: jobIdOf(BENCH_TASK, userId, period),
        taskId: BENCH_TASK,
        userId,
        periodKey: period,
        notBefore: Date.now() - 1000,
        origin: 'scheduled',
        backfilled: false,
        deferrals: 0,
      };
      const event = signedEvent(url, message);
      fetches.take();
      redisCalls.take();
      const t0 = performance.now();
      const res = await handler(event, fakeContext('worker', 30));
      const elapsed = performance.now() - t0;
      const targetMs = fetches.take();
      const redisMs = redisCalls.take();
      if (res.statusCode !== 200 || !String(res.body).includes('"succeeded"')) {
        throw new Error(`worker answered ${res.statusCode} ${String(res.body).slice(0, 200)}`);
      }
      if (i >= warmup) {
        overheads.push(elapsed - targetMs);
        targetTimes.push(targetMs);
        redisTimes.push(redisMs);
        others.push(elapsed - targetMs - redisMs);
      }
    }
    if (stack.target.hits.length !== jobs + warmup)
      throw new Error(`target saw ${stack.target.hits.length} of ${jobs + warmup} calls`);
    return {
      p50: percentile(overheads, 50),
      p99: percentile(overheads, 99),
      mean: overheads.reduce((a, b) => a + b, 0) / overheads.length,
      targetP50: percentile(targetTimes, 50),
      redisP50: percentile(redisTimes, 50),
      restP50: percentile(others, 50),
    };
  } finally {
    redisCalls.restore();
    fetches.restore();
    await stack.stop();
  }
}

export const overheadScenario: Scenario = {
  id: 'overhead',
  title: '4. Worker overhead per job',
  async run(ctx) {
    const jobs = ctx.quick ? 300 : 2000;
    const warmup = ctx.quick ? 50 : 200;
    const runs: OverheadRun[] = [];
    const failures = new Failures();
    for (let rep = 0; rep < ctx.reps; rep++) {
      try {
        const r = await measureOverhead(ctx, jobs, warmup);
        runs.push(r);
        ctx.progress(
          `rep ${rep + 1}/${ctx.reps}: p50 ${fmt(r.p50)} ms (Redis round trips ${fmt(r.redisP50)}, the rest ${fmt(r.restP50)}), p99 ${fmt(r.p99)} ms; ` +
            `target's own time p50 ${fmt(r.targetP50)} ms`,
        );
      } catch (err) {
        ctx.progress(`rep ${rep + 1}/${ctx.reps} failed: ${failures.add('stagger worker', err)}`);
      }
    }
    const col = (pick: (r: OverheadRun) => number) =>
      runs.length ? cell(summarize(runs.map(pick)), 'ms') : na(failures.reason('stagger worker'));
    const p50 = runs.length ? summarize(runs.map((r) => r.p50)).median : Number.NaN;
    return {
      id: 'overhead',
      title: '4. Worker overhead per job',
      params: { 'jobs per repetition': jobs, 'warm-up jobs (not counted)': warmup, reps: ctx.reps },
      columns: ['stagger worker'],
      rows: [
        {
          metric: 'overhead p50',
          cells: [col((r) => r.p50)],
          target: '< 5 ms',
          verdict: runs.length === 0 ? 'not measured' : p50 < 5 ? 'met' : 'missed',
          ...(p50 >= 5 ? { note: `(by ${fmt(p50 - 5)} ms)` } : {}),
        },
        { metric: 'overhead p99', cells: [col((r) => r.p99)] },
        { metric: 'overhead mean', cells: [col((r) => r.mean)] },
        { metric: '… of which waiting on the Redis REST round trips, p50', cells: [col((r) => r.redisP50)] },
        {
          metric: '… of which everything else (signature, parse, logic, HTTP client), p50',
          cells: [col((r) => r.restP50)],
        },
        { metric: "target's own time p50 (taken out)", cells: [col((r) => r.targetP50)] },
      ],
      notes: [
        'The worker Lambda handler (functions/worker.ts) is invoked in-process, one job at a time, with a real QStash-style signature (HS256 JWT over the body, ' +
          'as the local broker signs); the time of its HTTP call to the local target (a fetch wrapper around exactly that call) is subtracted. ' +
          'What remains: signature check, zod parse, the start script (idempotency claim + sliding-log limiter) and the record script, each one REST round trip ' +
          'to the local bridge (its own process) and redis-server.',
        'Against Upstash the two Redis round trips cost a network RTT each (same region: ~1–2 ms); locally they are loopback HTTP.',
        ...failures.notes(),
      ],
      raw: runs,
    } satisfies ScenarioReport;
  },
};

// Lambda's bill for the bench: every invocation counted and its handler wall time measured per function, with each
// function's memory size read from serverless.yml (requests and GB-seconds). The HTTP functions are served by
// test/helpers/lambda-http.ts (same routes, same handlers), which reports each invocation here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { startLambdaHttp, type RunningLambdaHttp } from '../../test/helpers/lambda-http.js';
import { billedGbSeconds } from './prices.js';

const ServerlessMemory = z.object({
  provider: z.object({ memorySize: z.number().int().positive().optional() }).passthrough(),
  functions: z.record(
    z.string(),
    z.object({ memorySize: z.number().int().positive().optional() }).passthrough(),
  ),
});

/** Each function's memory size in MB: its own `memorySize`, else the provider's, else Lambda's default 128. */
export function memorySizes(root = process.cwd()): Record<string, number> {
  const doc = ServerlessMemory.parse(parse(readFileSync(resolve(root, 'serverless.yml'), 'utf8')));
  const fallback = doc.provider.memorySize ?? 128;
  return Object.fromEntries(
    Object.entries(doc.functions).map(([name, fn]) => [name, fn.memorySize ?? fallback]),
  );
}

export interface FunctionUsage {
  invocations: number;
  /** Sum of handler wall times, ms. */
  durationMs: number;
  /** Sum over invocations of ceil(ms) × memory, as Lambda bills. */
  gbSeconds: number;
  memoryMb: number;
  /** Invocations that arrived over HTTP (API Gateway requests); the EventBridge tick does not. */
  httpRequests: number;
}

/** Counts invocations and billed duration per function name. */
export class LambdaMeter {
  private readonly byFunction = new Map<string, FunctionUsage>();
  constructor(readonly memoryMb: Record<string, number> = memorySizes()) {}

  record(functionName: string, durationMs: number, viaHttp: boolean): void {
    const memoryMb = this.memoryMb[functionName] ?? 128;
    const u = this.byFunction.get(functionName) ?? {
      invocations: 0,
      durationMs: 0,
      gbSeconds: 0,
      memoryMb,
      httpRequests: 0,
    };
    u.invocations++;
    u.durationMs += durationMs;
    u.gbSeconds += billedGbSeconds(durationMs, memoryMb);
    if (viaHttp) u.httpRequests++;
    this.byFunction.set(functionName, u);
  }

  /** Runs one invocation of `functionName` directly (the scheduler tick) and records it. */
  async time<T>(functionName: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.record(functionName, performance.now() - started, false);
    }
  }

  usage(): Record<string, FunctionUsage> {
    return Object.fromEntries([...this.byFunction].map(([k, v]) => [k, { ...v }]));
  }

  totals(): Omit<FunctionUsage, 'memoryMb'> {
    const t = { invocations: 0, durationMs: 0, gbSeconds: 0, httpRequests: 0 };
    for (const u of this.byFunction.values()) {
      t.invocations += u.invocations;
      t.durationMs += u.durationMs;
      t.gbSeconds += u.gbSeconds;
      t.httpRequests += u.httpRequests;
    }
    return t;
  }

  reset(): void {
    this.byFunction.clear();
  }
}

/** The project's HTTP functions served in-process (test/helpers/lambda-http.ts), each invocation recorded by `meter`. */
export function startMeteredLambdaHttp(meter: LambdaMeter, root = process.cwd()): Promise<RunningLambdaHttp> {
  return startLambdaHttp({ root, onInvocation: (name, ms) => meter.record(name, ms, true) });
}

// The cost figures' arithmetic over the list prices, which live with the cost model batching follows
// (lib/publishing/batch-cost.ts): one table for the code and the bench.

import { PRICES } from '../../lib/publishing/batch-cost.js';

export { PRICES };

export const redisUsd = (commands: number) => (commands / 100_000) * PRICES.redis.usdPer100kCommands;
export const qstashUsd = (messages: number) => (messages / 100_000) * PRICES.qstash.usdPer100kMessages;

/** Scheduler ticks in a 30-day month at one tick per minute (EventBridge `rate(1 minute)`). */
export const TICKS_PER_MONTH = 30 * 24 * 60;

export const lambdaRequestsUsd = (requests: number) =>
  (requests / 1_000_000) * PRICES.lambda.usdPerMillionRequests;
export const lambdaDurationUsd = (gbSeconds: number) => gbSeconds * PRICES.lambda.usdPerGbSecond;
export const httpApiUsd = (requests: number) => (requests / 1_000_000) * PRICES.httpApi.usdPerMillionRequests;

/** GB-seconds Lambda bills for one invocation: its duration rounded up to the next whole ms, times its memory. */
export function billedGbSeconds(durationMs: number, memoryMb: number): number {
  return (Math.max(1, Math.ceil(durationMs)) / 1000) * (memoryMb / 1024);
}

/** What one job costs on average, in billing units. */
export interface PerJobUsage {
  redisCommands: number;
  qstashMessages: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  /** Invocations that came through the HTTP API (QStash deliveries, admin calls; not the EventBridge tick). */
  httpApiRequests: number;
}

export interface MillionJobsPrice {
  redis: number;
  qstash: number;
  lambdaRequests: number;
  lambdaDuration: number;
  httpApi: number;
  total: number;
}

/** The price of a million jobs at these per-job figures, list prices, free allowances not subtracted. */
export function priceOfMillionJobs(u: PerJobUsage): MillionJobsPrice {
  const m = 1_000_000;
  const parts = {
    redis: redisUsd(u.redisCommands * m),
    qstash: qstashUsd(u.qstashMessages * m),
    lambdaRequests: lambdaRequestsUsd(u.lambdaInvocations * m),
    lambdaDuration: lambdaDurationUsd(u.lambdaGbSeconds * m),
    httpApi: httpApiUsd(u.httpApiRequests * m),
  };
  return {
    ...parts,
    total: parts.redis + parts.qstash + parts.lambdaRequests + parts.lambdaDuration + parts.httpApi,
  };
}

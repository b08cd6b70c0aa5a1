// Upstash pay-as-you-go, AWS Lambda (arm64) and API Gateway HTTP API list prices used for the cost figures, with where
// and when they were read. Update both together.

export const PRICES = {
  redis: {
    usdPer100kCommands: 0.2,
    freeCommandsPerMonth: 500_000,
    source:
      'Upstash Redis "Pricing & Billing" docs page (upstash.com/docs/redis/overall/billing) and upstash.com/pricing/redis as captured on 2026-11-09 (flexprice.io pricing teardown of that page)',
  },
  qstash: {
    usdPer100kMessages: 1,
    freeMessagesPerDay: 1_000,
    source:
      'upstash.com/pricing/qstash (machine-readable .md edition; the stored copy carries no date) and the QStash pricing FAQ (upstash.com/docs/qstash/overall/pricing: "each delivery attempt counts as one message", retries included)',
  },
  lambda: {
    /** arm64, us-east-1, on demand; the functions deploy with `architecture: arm64` (serverless.yml). */
    usdPerMillionRequests: 0.2,
    /** First tier (up to 7.5 billion GB-s a month). */
    usdPerGbSecond: 0.0000133334,
    freeRequestsPerMonth: 1_000_000,
    freeGbSecondsPerMonth: 400_000,
    consulted: '2026-12-07',
    source:
      'aws.amazon.com/lambda/pricing, US East (N. Virginia), Arm price, first 7.5 billion GB-s tier (as quoted by cloudchipr.com "AWS Lambda Pricing Breakdown" and kodekloud.com Lambda pricing notes); duration billed per 1 ms, rounded up',
  },
  httpApi: {
    /** API Gateway HTTP API in front of the QStash-called and admin functions, first 300 million requests a month. */
    usdPerMillionRequests: 1,
    consulted: '2026-12-07',
    source:
      'aws.amazon.com/api-gateway/pricing, HTTP APIs, US East (N. Virginia), first 300 million requests (as quoted by awsforengineers.com "AWS API Gateway Pricing Explained" and amnic.com "AWS API Gateway Pricing")',
  },
  /** When the Upstash pages were consulted for this bench (the AWS ones: `consulted` in their entries). */
  consulted: '2026-11-30',
} as const;

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

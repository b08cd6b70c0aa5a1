// The cost model batching follows: list prices (with where and when they were read) and the gap between two jobs
// that one invocation waiting out costs as much as another message would.

/** Upstash pay-as-you-go, AWS Lambda (arm64) and API Gateway HTTP API list prices. Update a price and its source together. */
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
  /** When the Upstash pages were consulted (the AWS ones: `consulted` in their entries). */
  consulted: '2026-11-30',
} as const;

/** The worker's memory (MB): serverless.yml's provider `memorySize`, which the worker function does not override. */
export const WORKER_MEMORY_MB = 256;

/** What one more message to the worker costs: the QStash message, the Lambda request and the HTTP API request. */
export function messageUsd(prices: typeof PRICES = PRICES): number {
  return (
    prices.qstash.usdPer100kMessages / 100_000 +
    prices.lambda.usdPerMillionRequests / 1_000_000 +
    prices.httpApi.usdPerMillionRequests / 1_000_000
  );
}

/** What one millisecond of a worker invocation waiting costs at `memoryMb`. */
export function waitUsdPerMs(memoryMb = WORKER_MEMORY_MB, prices: typeof PRICES = PRICES): number {
  return (prices.lambda.usdPerGbSecond * (memoryMb / 1024)) / 1000;
}

/**
 * The longest gap between consecutive planned jobs worth waiting out inside one invocation rather than sending
 * another message: message + request + API price over the price of waiting one ms (about 3.4 s at 256 MB).
 */
export function maxGapMs(memoryMb = WORKER_MEMORY_MB, prices: typeof PRICES = PRICES): number {
  return Math.floor(messageUsd(prices) / waitUsdPerMs(memoryMb, prices));
}

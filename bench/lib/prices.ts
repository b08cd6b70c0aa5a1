// Upstash pay-as-you-go prices used for the cost figures, with where and when they were read. Update both together.

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
  /** When these pages were consulted for this bench. */
  consulted: '2026-11-30',
} as const;

export const redisUsd = (commands: number) => (commands / 100_000) * PRICES.redis.usdPer100kCommands;
export const qstashUsd = (messages: number) => (messages / 100_000) * PRICES.qstash.usdPer100kMessages;

/** Scheduler ticks in a 30-day month at one tick per minute (EventBridge `rate(1 minute)`). */
export const TICKS_PER_MONTH = 30 * 24 * 60;

// Abuse limits on the admin API (@upstash/ratelimit): per admin key and per source address, separate budgets for reads, writes and run-now.
//
// Applied after the key check, so a request without a valid key costs no Redis command. /health,
// /metrics and the QStash-signed routes never pass here. A limiter that cannot reach Redis within
// `timeoutMs` lets the request through: an abuse guard must not turn a slow Redis into an outage.
import { createHash } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis';
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { ConfigError } from '../errors.js';

export const ADMIN_LIMIT_CLASSES = ['reads', 'writes', 'runNow'] as const;
export type AdminLimitClass = (typeof ADMIN_LIMIT_CLASSES)[number];

export interface Budget {
  limit: number;
  windowMs: number;
}

export interface AdminLimitSettings {
  enabled: boolean;
  budgets: Record<AdminLimitClass, Budget>;
}

/** Documented defaults (README, "Admin API limits"): generous for application code, tight for run-now. */
export const ADMIN_LIMIT_DEFAULTS = {
  STAGGER_ADMIN_LIMIT_READS: '1200/1m',
  STAGGER_ADMIN_LIMIT_WRITES: '600/1m',
  STAGGER_ADMIN_LIMIT_RUN_NOW: '30/1m',
} as const;

const BudgetText = z.string().transform((text, ctx): Budget => {
  const match = /^(\d{1,7})\/(\w+)$/.exec(text.trim());
  const windowMs = match ? parseDuration(match[2] ?? '') : undefined;
  const limit = Number(match?.[1]);
  if (!match || windowMs === undefined || windowMs < 1000 || limit < 1) {
    ctx.addIssue({ code: 'custom', message: 'expected "<requests>/<window>", e.g. "600/1m" (window ≥ 1s)' });
    return z.NEVER;
  }
  return { limit, windowMs };
});

const AdminLimitEnv = z.object({
  /** `off` disables the admin limits (a deployment behind its own gateway limits, for example). */
  STAGGER_ADMIN_LIMITS: z.enum(['on', 'off']).default('on'),
  STAGGER_ADMIN_LIMIT_READS: BudgetText.prefault(ADMIN_LIMIT_DEFAULTS.STAGGER_ADMIN_LIMIT_READS),
  STAGGER_ADMIN_LIMIT_WRITES: BudgetText.prefault(ADMIN_LIMIT_DEFAULTS.STAGGER_ADMIN_LIMIT_WRITES),
  STAGGER_ADMIN_LIMIT_RUN_NOW: BudgetText.prefault(ADMIN_LIMIT_DEFAULTS.STAGGER_ADMIN_LIMIT_RUN_NOW),
});

/** Every variable the admin limits read (config/environment.cjs lists them; a test compares). */
export const ADMIN_LIMIT_VARIABLES: readonly string[] = Object.keys(AdminLimitEnv.shape);

/** The admin limits from the environment (the one place they are read); errors name the variable. */
export function adminLimitSettings(
  env: Record<string, string | undefined> = process.env,
): AdminLimitSettings {
  // An empty variable (serverless.yml passes unset ones as '') means the default.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = AdminLimitEnv.safeParse(set);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`configuration invalid: ${names.join('; ')}`);
  }
  const e = parsed.data;
  return {
    enabled: e.STAGGER_ADMIN_LIMITS === 'on',
    budgets: {
      reads: e.STAGGER_ADMIN_LIMIT_READS,
      writes: e.STAGGER_ADMIN_LIMIT_WRITES,
      runNow: e.STAGGER_ADMIN_LIMIT_RUN_NOW,
    },
  };
}

/** Which budget a route spends: run-now has its own; any other GET reads; everything else writes. */
export function limitClassOf(route: { operationId: string; method: string }): AdminLimitClass {
  if (route.operationId === 'runNow') return 'runNow';
  return route.method === 'GET' ? 'reads' : 'writes';
}

export interface Caller {
  /** The admin key presented (hashed before use: a key never reaches Redis). */
  key: string;
  /** Source address as API Gateway saw it. */
  address: string;
}

export type LimitVerdict =
  { allowed: true } | { allowed: false; scope: 'key' | 'address'; limit: number; retryAfterMs: number };

export interface AdminLimiterOptions {
  /** Redis key prefix (keys.adminRateLimit of the deployment, so tenants and tests never share budgets). */
  prefix: string;
  /** Give up on Redis after this and let the request through; 0 = wait as long as Redis takes. */
  timeoutMs?: number;
  /** Remembers blocked identifiers in this Lambda instance, so a burst past the budget costs no Redis command. */
  ephemeralCache?: boolean;
  clock?: () => number;
}

export class AdminLimiter {
  private readonly limiters: Record<AdminLimitClass, Ratelimit>;
  private readonly clock: () => number;

  constructor(
    redis: Redis,
    readonly settings: AdminLimitSettings,
    opts: AdminLimiterOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    const make = (cls: AdminLimitClass) =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(settings.budgets[cls].limit, `${settings.budgets[cls].windowMs} ms`),
        prefix: `${opts.prefix}${cls}`,
        timeout: opts.timeoutMs ?? 1000,
        ephemeralCache: opts.ephemeralCache === false ? false : new Map(),
        analytics: false,
      });
    this.limiters = { reads: make('reads'), writes: make('writes'), runNow: make('runNow') };
  }

  /** Spends one request of `cls` from the caller's key budget and from its address budget. */
  async check(cls: AdminLimitClass, caller: Caller): Promise<LimitVerdict> {
    if (!this.settings.enabled) return { allowed: true };
    const rl = this.limiters[cls];
    const [byKey, byAddress] = await Promise.all([
      rl.limit(`k:${keyDigest(caller.key)}`),
      rl.limit(`a:${caller.address}`),
    ]);
    const denied = !byKey.success
      ? { r: byKey, scope: 'key' as const }
      : !byAddress.success
        ? { r: byAddress, scope: 'address' as const }
        : undefined;
    if (!denied) return { allowed: true };
    return {
      allowed: false,
      scope: denied.scope,
      limit: denied.r.limit,
      retryAfterMs: Math.max(1000, denied.r.reset - this.clock()),
    };
  }
}

function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 24);
}

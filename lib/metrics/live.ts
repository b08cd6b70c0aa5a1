// Reads what the metrics expose: the counters hash and the live gauges (scheduler, fan-out, limiter, dead letters) in two round trips.
import type { Redis } from '@upstash/redis';
import type { Catalog } from '../domain/catalog.js';
import { DEFAULT_SETTINGS, type SchedulerRedis } from '../scheduler/deps.js';
import { readStatus, type SchedulerStatus } from '../scheduler/status.js';
import type { Keys } from '../store/keys.js';
import type { LiveGauges } from './families.js';
import { parseMetricsHash, type MetricsHash } from './fields.js';

export type MetricsRedis = SchedulerRedis & Pick<Redis, 'zcount' | 'zcard'>;

export interface LimitState {
  name: string;
  limit: number;
  windowMs: number;
  /** Admissions in the current window (window + guard, as the worker counts). */
  used: number;
  remaining: number;
  /** Next free deferral slot of the limit (epoch ms), when in the future: deferred jobs come back from then on. */
  deferredUntil: number | null;
}

export interface MetricsReading {
  hash: MetricsHash;
  status: SchedulerStatus;
  limits: LimitState[];
  deadLetters: number;
  users: Record<string, number>;
}

export interface ReadOptions {
  catalog: Pick<Catalog, 'rateLimits'>;
  /** STAGGER_LIMIT_GUARD_MS: the worker's windows are this much longer than configured. */
  guardMs: number;
  now: number;
}

const counts = (raw: Record<string, unknown> | null): Record<string, number> =>
  Object.fromEntries(
    Object.entries(raw ?? {})
      .map(([k, v]) => [k, Number(v)])
      .filter(([, v]) => Number.isFinite(v)),
  );

/** Issued together, so auto-pipelining sends the first stage as one request; slot hashes follow in a second. */
export async function readMetrics(
  redis: MetricsRedis,
  keys: Keys,
  opts: ReadOptions,
): Promise<MetricsReading> {
  const limitDefs = Object.entries(opts.catalog.rateLimits).sort(([a], [b]) => (a < b ? -1 : 1));
  const [hash, status, used, horizons, deadLetters, users] = await Promise.all([
    redis.hgetall<Record<string, unknown>>(keys.metrics),
    readStatus({ redis, keys, settings: DEFAULT_SETTINGS }),
    Promise.all(
      limitDefs.map(([name, l]) =>
        // Reservations ahead of now (up to STAGGER_MAX_WAIT_MS) are not yet sent: only the window ending now counts.
        redis.zcount(keys.ratelimit(name), `(${opts.now - l.windowMs - opts.guardMs}`, opts.now),
      ),
    ),
    redis.hgetall<Record<string, unknown>>(keys.deferralHorizons),
    redis.zcard(keys.deadLetters),
    redis.hgetall<Record<string, unknown>>(keys.taskCounts),
  ]);
  const horizon = counts(horizons);
  return {
    hash: parseMetricsHash(hash),
    status,
    limits: limitDefs.map(([name, l], i) => {
      const n = used[i] ?? 0;
      const until = horizon[name];
      return {
        name,
        limit: l.limit,
        windowMs: l.windowMs,
        used: n,
        remaining: Math.max(0, l.limit - n),
        deferredUntil: until !== undefined && until > opts.now ? until : null,
      };
    }),
    deadLetters,
    users: counts(users),
  };
}

export function liveGauges(r: MetricsReading): LiveGauges {
  const lastTickAt = r.status.lastTick ? Date.parse(r.status.lastTick.at) : null;
  return {
    lastTickAt,
    lockHeld: r.status.lock.held,
    activeSlots: r.status.slots.length,
    pendingJobs: r.status.slots.reduce((sum, s) => sum + Math.max(0, s.total - s.count), 0),
    limits: r.limits,
    deadLetters: r.deadLetters,
    users: r.users,
  };
}

// Reachability checks of the two backing services, each bounded in time, run in parallel.
import type { Redis } from '@upstash/redis';

export type CheckStatus = 'ok' | 'unreachable';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { status: CheckStatus; latencyMs: number }>;
}

export type Probe = () => Promise<void>;

export function redisProbe(redis: Pick<Redis, 'ping'>): Probe {
  return async () => {
    const reply = await redis.ping();
    if (reply !== 'PONG') throw new Error('unexpected PING reply');
  };
}

/** QStash answers `GET /v2/keys` only with a valid token: proves reachability and credentials in one call. */
export function qstashProbe(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): Probe {
  return async () => {
    const res = await fetchImpl(new URL('/v2/keys', baseUrl), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`status ${res.status}`);
  };
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      () => (clearTimeout(t), resolve()),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

export async function checkHealth(probes: Record<string, Probe>, timeoutMs = 2500): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      const started = performance.now();
      const status: CheckStatus = await withTimeout(probe(), timeoutMs).then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      );
      return [name, { status, latencyMs: Math.round(performance.now() - started) }] as const;
    }),
  );
  const checks = Object.fromEntries(entries);
  return { ok: entries.every(([, c]) => c.status === 'ok'), checks };
}

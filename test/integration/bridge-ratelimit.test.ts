// Contract: the unmodified @upstash/ratelimit (Upstash-only script shebangs, EVALSHA with NOSCRIPT fallback) works through the bridge.
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'bridge-ratelimit-test-token';
const bridge = useBridge(TOKEN);

function client(enableAutoPipelining = true): Redis {
  return new Redis({ url: bridge.url, token: TOKEN, retry: false, enableAutoPipelining });
}

type Limiter = ConstructorParameters<typeof Ratelimit>[0]['limiter'];

// timeout 0 and no ephemeral cache: a broken backend must show up as a failure, not as "allowed on timeout".
function limiter(algorithm: Limiter, prefix: string, redis = client()): Ratelimit {
  return new Ratelimit({
    redis,
    limiter: algorithm,
    prefix,
    timeout: 0,
    ephemeralCache: false,
    analytics: false,
  });
}

/** Fixed windows are aligned to the epoch: start a burst well inside one so it cannot straddle two. */
async function awayFromWindowEdge(windowMs: number, marginMs = 1500): Promise<void> {
  const into = Date.now() % windowMs;
  if (into > windowMs - marginMs) await new Promise((r) => setTimeout(r, windowMs - into + 20));
}

const algorithms = [
  { name: 'fixedWindow', make: () => Ratelimit.fixedWindow(3, '10 s') },
  { name: 'slidingWindow', make: () => Ratelimit.slidingWindow(3, '10 s') },
  { name: 'tokenBucket', make: () => Ratelimit.tokenBucket(1, '10 s', 3) },
] as const;

describe.each(algorithms)('$name through the bridge', ({ make }) => {
  it('allows exactly the limit, then denies, with the right remaining counts', async () => {
    await awayFromWindowEdge(10_000);
    const rl = limiter(make(), uniquePrefix('rl'));
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await rl.limit('user-1'));
    expect(results.map((r) => r.success)).toEqual([true, true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
    for (const r of results) {
      expect(r.limit).toBe(3);
      expect(r.reason).not.toBe('timeout');
      expect(r.reason).toBeUndefined();
      expect(r.reset).toBeGreaterThan(Date.now());
    }
    // Another identifier has its own budget.
    const other = await rl.limit('user-2');
    expect(other).toMatchObject({ success: true, remaining: 2 });
  });

  it('getRemaining and resetUsedTokens run their own scripts', async () => {
    await awayFromWindowEdge(10_000);
    const rl = limiter(make(), uniquePrefix('rl'));
    await rl.limit('u');
    await rl.limit('u');
    expect((await rl.getRemaining('u')).remaining).toBe(1);
    await rl.resetUsedTokens('u');
    expect((await rl.getRemaining('u')).remaining).toBe(3);
    expect(await rl.limit('u')).toMatchObject({ success: true, remaining: 2 });
  });
});

describe('concurrency: limit 10 per 10 s is never exceeded', () => {
  const limit10 = [
    { name: 'fixedWindow', make: () => Ratelimit.fixedWindow(10, '10 s') },
    { name: 'slidingWindow', make: () => Ratelimit.slidingWindow(10, '10 s') },
    { name: 'tokenBucket', make: () => Ratelimit.tokenBucket(10, '10 s', 10) },
  ] as const;

  it.each(limit10)(
    '$name: 32 concurrent callers on one limiter get exactly 10 successes',
    async ({ make }) => {
      await awayFromWindowEdge(10_000);
      const rl = limiter(make(), uniquePrefix('burst'));
      const results = await Promise.all(Array.from({ length: 32 }, () => rl.limit('shared')));
      expect(results.filter((r) => r.success)).toHaveLength(10);
      expect(results.some((r) => r.reason === 'timeout')).toBe(false);
      expect(results.map((r) => r.remaining).sort((a, b) => a - b)).toEqual([
        ...Array(23).fill(0),
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
      ]);
    },
  );

  it.each(limit10)(
    '$name: 32 separate clients (one HTTP request each) share one budget of 10',
    async ({ make }) => {
      await awayFromWindowEdge(10_000);
      const prefix = uniquePrefix('burst');
      const callers = Array.from({ length: 32 }, () => limiter(make(), prefix, client(false)));
      const results = await Promise.all(callers.map((rl) => rl.limit('shared')));
      expect(results.filter((r) => r.success)).toHaveLength(10);
      expect(results.some((r) => r.reason === 'timeout')).toBe(false);
    },
  );
});

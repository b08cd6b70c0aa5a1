// The client's fetch: retries 429/503 (Retry-After first), repeats only idempotent requests after a network error, times out.
import { describe, expect, it } from 'vitest';
import { backoffMs, retryingFetch, type RetryPolicy } from '../../lib/client/retrying-fetch.js';

const policy: RetryPolicy = { timeoutMs: 1_000, retries: 2, retryBaseMs: 100 };

function scripted(answers: (number | Error)[]) {
  const calls: string[] = [];
  const sleeps: number[] = [];
  const fetcher = retryingFetch(
    policy,
    async (req) => {
      calls.push(`${req.method} ${await req.text()}`);
      const a = answers.shift();
      if (a instanceof Error) throw a;
      return new Response('{}', { status: a ?? 200, headers: a === 429 ? { 'retry-after': '2' } : {} });
    },
    async (ms) => {
      sleeps.push(ms);
    },
  );
  return { fetcher, calls, sleeps };
}

describe('retryingFetch', () => {
  it('retries 503 with exponential backoff and 429 after Retry-After, sending the body each time', async () => {
    const { fetcher, calls, sleeps } = scripted([503, 429, 200]);
    const res = await fetcher(new Request('http://x/v1/a', { method: 'POST', body: 'b' }));
    expect(res.status).toBe(200);
    expect(calls).toEqual(['POST b', 'POST b', 'POST b']);
    expect(sleeps).toEqual([100, 2000]);
  });

  it('gives the last answer once the retries are spent, and never retries other statuses', async () => {
    const spent = scripted([503, 503, 503, 200]);
    expect((await spent.fetcher(new Request('http://x/'))).status).toBe(503);
    expect(spent.calls).toHaveLength(3);
    const other = scripted([500, 200]);
    expect((await other.fetcher(new Request('http://x/'))).status).toBe(500);
    expect(other.calls).toHaveLength(1);
  });

  it('repeats a GET after a network error but not a POST, which may have reached the server', async () => {
    const get = scripted([new TypeError('fetch failed'), 200]);
    expect((await get.fetcher(new Request('http://x/'))).status).toBe(200);
    const post = scripted([new TypeError('fetch failed'), 200]);
    await expect(post.fetcher(new Request('http://x/', { method: 'POST' }))).rejects.toThrow('fetch failed');
    expect(post.calls).toHaveLength(1);
  });

  it('abandons an attempt after timeoutMs', async () => {
    // Held here as a socket would hold it: a request nothing refers to may be collected with its signal.
    const pending: Request[] = [];
    const hang = retryingFetch({ timeoutMs: 50, retries: 0, retryBaseMs: 1 }, (req) => {
      pending.push(req);
      return new Promise((_, reject) =>
        req.signal.addEventListener('abort', () => reject(req.signal.reason)),
      );
    });
    await expect(hang(new Request('http://x/'))).rejects.toThrow('timed out after 50 ms');
    expect(pending).toHaveLength(1);
  });

  it('caps backoff at 10 s and ignores a Retry-After that is not a number of seconds', () => {
    expect(backoffMs(policy, 10, null)).toBe(10_000);
    expect(backoffMs(policy, 1, 'Wed, 21 Oct 2015 07:28:00 GMT')).toBe(200);
    expect(backoffMs(policy, 0, '0')).toBe(0);
  });
});

// The job's HTTP call against a real server: what is retried, what is not, and where redirects may go.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTarget, retryAfterMs } from '../../lib/worker/call-target.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes = new Map<string, Handler>();
const seen: { method: string; path: string; body: string; key: string | undefined }[] = [];
let server: ReturnType<typeof createServer>;
let base: string;
let otherHost: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body,
        key: req.headers['idempotency-key'] as string | undefined,
      });
      (routes.get(req.url ?? '') ?? ((_q, s) => s.writeHead(200).end()))(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  otherHost = `http://localhost:${port}`; // same server, another host name
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const call = (path: string, opts: { timeoutMs?: number; method?: 'GET' | 'POST'; body?: string } = {}) =>
  callTarget(
    {
      method: opts.method ?? 'POST',
      url: `${base}${path}`,
      headers: { 'content-type': 'application/json' },
      ...(opts.body ? { body: opts.body } : {}),
    },
    { timeoutMs: opts.timeoutMs ?? 2000, headers: { 'Idempotency-Key': 'job-1' } },
  );
const status =
  (code: number, headers: Record<string, string> = {}, body = ''): Handler =>
  (_q, s) =>
    s.writeHead(code, headers).end(body);

describe('callTarget', () => {
  it.each([
    [200, 'succeeded'],
    [204, 'succeeded'],
    [408, 'retryable'],
    [425, 'retryable'],
    [429, 'retryable'],
    [500, 'retryable'],
    [503, 'retryable'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
  ])('classifies HTTP %i as %s', async (code, kind) => {
    routes.set(`/s${code}`, status(code, {}, code >= 400 ? `{"error":"code ${code}"}` : ''));
    const r = await call(`/s${code}`);
    expect([r.kind, r.status]).toEqual([kind, code]);
    if (r.kind !== 'succeeded') expect(r.error).toBe(`HTTP ${code}: {"error":"code ${code}"}`);
  });

  it('passes a 429 Retry-After on, so QStash waits as long as the target asked', async () => {
    routes.set('/slow-down', status(429, { 'retry-after': '7' }));
    expect(await call('/slow-down')).toMatchObject({ kind: 'retryable', retryAfterMs: 7000 });
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(
      60_000,
    );
    expect(retryAfterMs('999999', 0)).toBeUndefined();
  });

  it('cuts a slow target off at the timeout as a retryable failure', async () => {
    let answered = false;
    routes.set('/hang', (_q, s) =>
      setTimeout(() => {
        answered = true;
        s.writeHead(200).end();
      }, 1500),
    );
    const r = await call('/hang', { timeoutMs: 200 });
    expect(r).toMatchObject({ kind: 'retryable', status: 0, error: 'timed out after 200 ms' });
    // Cut off before the target answered: one process, one clock, so the 200 ms timer fires before the target's
    // 1500 ms one however slow the machine (a wall-clock bound on durationMs would not hold on a loaded one).
    expect(answered).toBe(false);
  });

  it('treats a refused connection as retryable', async () => {
    const r = await callTarget(
      { method: 'GET', url: 'http://127.0.0.1:1/x', headers: {} },
      { timeoutMs: 1000, headers: {} },
    );
    expect(r).toMatchObject({ kind: 'retryable', status: 0 });
    if (r.kind === 'retryable') expect(r.error).toMatch(/^network error/);
  });

  it('follows up to three redirects on the same host, keeping method and body on 307/308', async () => {
    routes.set('/r1', status(307, { location: '/r2' }));
    routes.set('/r2', status(308, { location: `${base}/r3` }));
    routes.set('/r3', status(302, { location: '/final' }));
    routes.set('/final', status(200));
    seen.length = 0;
    const r = await call('/r1', { body: '{"a":1}' });
    expect(r.kind).toBe('succeeded');
    expect(seen.map((s) => [s.method, s.path, s.body, s.key])).toEqual([
      ['POST', '/r1', '{"a":1}', 'job-1'],
      ['POST', '/r2', '{"a":1}', 'job-1'],
      ['POST', '/r3', '{"a":1}', 'job-1'],
      ['GET', '/final', '', 'job-1'], // a 302 after POST becomes a GET without body
    ]);
  });

  it('refuses a fourth redirect', async () => {
    for (let i = 1; i <= 4; i++) routes.set(`/loop${i}`, status(301, { location: `/loop${i + 1}` }));
    const r = await call('/loop1', { method: 'GET' });
    expect(r).toMatchObject({ kind: 'permanent', status: 301, error: 'more than 3 redirects' });
    expect(seen.filter((s) => s.path === '/loop5')).toHaveLength(0);
  });

  it('never follows a redirect to another host (the allowlist would not be checked there)', async () => {
    routes.set('/away', status(302, { location: `${otherHost}/stolen` }));
    routes.set('/scheme', status(302, { location: 'file:///etc/passwd' }));
    seen.length = 0;
    expect(await call('/away')).toMatchObject({
      kind: 'permanent',
      status: 302,
      error: 'HTTP 302 redirect to another host refused',
    });
    expect(await call('/scheme')).toMatchObject({ kind: 'permanent', status: 302 });
    expect(seen.map((s) => s.path)).toEqual(['/away', '/scheme']);
  });
});

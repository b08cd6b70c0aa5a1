// Drill target: counts applied calls per Idempotency-Key (a call is applied when answered 2xx), can fail a share of calls (half of them by timing out) and can hold its answers.
import { createServer } from 'node:http';

const port = Number(process.env['TARGET_PORT'] ?? 4100);
let failRate = 0;
/** Every successful answer waits this long (ms): calls stay in flight, so a fault can strike while they do. */
let delayMs = 0;
/** Longer than the drill tasks' timeout: the worker gives up first and retries. */
const HANG_MS = 2_500;
const applied = new Map<string, number>();
let calls = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.url === '/_counts' && req.method === 'GET') {
      return send(200, { calls, applied: Object.fromEntries(applied) });
    }
    if (req.url === '/_control' && req.method === 'POST') {
      const c = JSON.parse(body || '{}') as { failRate?: number; delayMs?: number; reset?: boolean };
      if (typeof c.failRate === 'number') failRate = c.failRate;
      if (typeof c.delayMs === 'number') delayMs = c.delayMs;
      if (c.reset) {
        applied.clear();
        calls = 0;
      }
      return send(200, { failRate, delayMs });
    }
    calls++;
    const key = String(req.headers['idempotency-key'] ?? '');
    if (failRate > 0 && Math.random() < failRate) {
      if (Math.random() < 0.5) {
        setTimeout(() => send(503, { error: 'slow and failed' }), HANG_MS);
        return;
      }
      return send(500, { error: 'injected failure' });
    }
    const answer = () => {
      if (key) applied.set(key, (applied.get(key) ?? 0) + 1);
      send(200, { ok: true });
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});

server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'drill target up', port })));

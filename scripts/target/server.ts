// A local HTTP target for demo tasks: answers every request, records arrivals, can fail on demand.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { keepAliveLongerThanClients } from '../lib/http-keep-alive.js';

export interface TargetHit {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TargetOptions {
  port?: number;
  host?: string;
  /** Decides the status of each request (default 200); tests use it to fail some paths N times. */
  respond?: (hit: TargetHit, countForPath: number) => number | Promise<number>;
  /** Keep at most this many hits in memory. */
  maxHits?: number;
}

export interface RunningTarget {
  readonly url: string;
  readonly port: number;
  readonly hits: TargetHit[];
  close(): Promise<void>;
}

export async function startTarget(opts: TargetOptions = {}): Promise<RunningTarget> {
  const hits: TargetHit[] = [];
  const perPath = new Map<string, number>();
  const maxHits = opts.maxHits ?? 1_000_000;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const hit: TargetHit = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const n = (perPath.get(hit.path) ?? 0) + 1;
    perPath.set(hit.path, n);
    if (hits.length < maxHits) hits.push(hit);
    const status = opts.respond ? await opts.respond(hit, n) : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: status < 400, path: hit.path }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  keepAliveLongerThanClients(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('target did not bind a TCP port');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    port: addr.port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// An HTTP proxy in front of the REST bridge or the broker that counts what Upstash would bill:
// Redis commands as clients send them (a pipeline of k counts k, a script counts 1), QStash messages published.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepAliveLongerThanClients } from '../../scripts/lib/http-keep-alive.js';

export interface RestCounts {
  /** HTTP requests seen. */
  requests: number;
  /** Redis: commands sent, as billed per command. QStash: messages published (publish, enqueue, each batch entry). */
  units: number;
  /** Per Redis command name (upper case) or QStash route. */
  byName: Record<string, number>;
}

export interface CountingProxy {
  readonly url: string;
  counts(): RestCounts;
  reset(): void;
  close(): Promise<void>;
}

type Counter = (method: string, path: string, body: Buffer) => Array<[string, number]>;

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Upstash Redis REST: `POST /` one command, `/pipeline` and `/multi-exec` a list, `/<cmd>/<args>` path style. */
export const countRedisCommands: Counter = (_method, path, body) => {
  const clean = path.split('?')[0]!.replace(/\/+$/, '');
  if (clean === '/pipeline' || clean === '/multi-exec') {
    const list = parseJson(body);
    if (!Array.isArray(list)) return [];
    return list.map((cmd) => [Array.isArray(cmd) ? String(cmd[0]).toUpperCase() : '?', 1]);
  }
  if (clean === '') {
    const cmd = parseJson(body);
    return [[Array.isArray(cmd) ? String(cmd[0]).toUpperCase() : '?', 1]];
  }
  return [[decodeURIComponent(clean.split('/')[1] ?? '?').toUpperCase(), 1]];
};

/** QStash: a published message is billed; a batch bills each entry; other API calls are counted apart (units 0). */
export const countQStashMessages: Counter = (method, path, body) => {
  const clean = path.split('?')[0]!;
  if (method === 'POST' && clean === '/v2/batch') {
    const list = parseJson(body);
    return [['batch', Array.isArray(list) ? list.length : 0]];
  }
  if (method === 'POST' && /^\/v2\/(publish|enqueue)\//.test(clean))
    return [[clean.startsWith('/v2/publish/') ? 'publish' : 'enqueue', 1]];
  return [[`api ${method} ${clean.split('/').slice(0, 3).join('/')}`, 0]];
};

export async function startCountingProxy(upstreamUrl: string, count: Counter): Promise<CountingProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let counts: RestCounts = { requests: 0, units: 0, byName: {} };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    counts.requests++;
    for (const [name, units] of count(req.method ?? 'GET', req.url ?? '/', body)) {
      counts.units += units;
      counts.byName[name] = (counts.byName[name] ?? 0) + Math.max(units, 1);
    }
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    const out = request(
      { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
  });
  keepAliveLongerThanClients(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts, byName: { ...counts.byName } }),
    reset() {
      counts = { requests: 0, units: 0, byName: {} };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

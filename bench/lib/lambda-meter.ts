// The project's httpApi functions served in-process like test/helpers/lambda-http.ts (same routes from
// serverless.yml, same handlers), with every invocation counted and its handler wall time measured per function,
// and each function's memory size read from serverless.yml: what Lambda bills (requests and GB-seconds).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parse } from 'yaml';
import { z } from 'zod';
import { keepAliveLongerThanClients } from '../../scripts/lib/http-keep-alive.js';
import { fakeContext, readRoutes, type RunningLambdaHttp } from '../../test/helpers/lambda-http.js';
import { billedGbSeconds } from './prices.js';

type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ServerlessMemory = z.object({
  provider: z.object({ memorySize: z.number().int().positive().optional() }).passthrough(),
  functions: z.record(
    z.string(),
    z.object({ memorySize: z.number().int().positive().optional() }).passthrough(),
  ),
});

/** Each function's memory size in MB: its own `memorySize`, else the provider's, else Lambda's default 128. */
export function memorySizes(root = process.cwd()): Record<string, number> {
  const doc = ServerlessMemory.parse(parse(readFileSync(resolve(root, 'serverless.yml'), 'utf8')));
  const fallback = doc.provider.memorySize ?? 128;
  return Object.fromEntries(
    Object.entries(doc.functions).map(([name, fn]) => [name, fn.memorySize ?? fallback]),
  );
}

export interface FunctionUsage {
  invocations: number;
  /** Sum of handler wall times, ms. */
  durationMs: number;
  /** Sum over invocations of ceil(ms) × memory, as Lambda bills. */
  gbSeconds: number;
  memoryMb: number;
  /** Invocations that arrived over HTTP (API Gateway requests); the EventBridge tick does not. */
  httpRequests: number;
}

/** Counts invocations and billed duration per function name. */
export class LambdaMeter {
  private readonly byFunction = new Map<string, FunctionUsage>();
  constructor(readonly memoryMb: Record<string, number> = memorySizes()) {}

  record(functionName: string, durationMs: number, viaHttp: boolean): void {
    const memoryMb = this.memoryMb[functionName] ?? 128;
    const u = this.byFunction.get(functionName) ?? {
      invocations: 0,
      durationMs: 0,
      gbSeconds: 0,
      memoryMb,
      httpRequests: 0,
    };
    u.invocations++;
    u.durationMs += durationMs;
    u.gbSeconds += billedGbSeconds(durationMs, memoryMb);
    if (viaHttp) u.httpRequests++;
    this.byFunction.set(functionName, u);
  }

  /** Runs one invocation of `functionName` directly (the scheduler tick) and records it. */
  async time<T>(functionName: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.record(functionName, performance.now() - started, false);
    }
  }

  usage(): Record<string, FunctionUsage> {
    return Object.fromEntries([...this.byFunction].map(([k, v]) => [k, { ...v }]));
  }

  totals(): Omit<FunctionUsage, 'memoryMb'> {
    const t = { invocations: 0, durationMs: 0, gbSeconds: 0, httpRequests: 0 };
    for (const u of this.byFunction.values()) {
      t.invocations += u.invocations;
      t.durationMs += u.durationMs;
      t.gbSeconds += u.gbSeconds;
      t.httpRequests += u.httpRequests;
    }
    return t;
  }

  reset(): void {
    this.byFunction.clear();
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  body: string,
  routeKey: string,
  pathParameters: Record<string, string>,
) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    body: body === '' ? undefined : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
}

/** Serves the httpApi functions over real HTTP in this process, metering each handler call into `meter`. */
export async function startMeteredLambdaHttp(
  meter: LambdaMeter,
  root = process.cwd(),
): Promise<RunningLambdaHttp> {
  const routes = readRoutes(root);
  const modules = new Map<string, Promise<LambdaHandler>>();
  const load = (handler: string) => {
    let m = modules.get(handler);
    if (!m) {
      const dot = handler.lastIndexOf('.');
      const file = pathToFileURL(resolve(root, `${handler.slice(0, dot)}.ts`)).href;
      m = import(file).then((mod: Record<string, LambdaHandler>) => mod[handler.slice(dot + 1)]!);
      modules.set(handler, m);
    }
    return m;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = URL.parse(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`);
      const method = req.method ?? 'GET';
      let match: RegExpExecArray | null = null;
      const route =
        url &&
        routes.find(
          (r) => (r.method === method || r.method === '*') && (match = r.matcher.exec(url.pathname)),
        );
      const body = await readBody(req);
      if (!url || !route || !match) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      const found: RegExpExecArray = match;
      const params: Record<string, string> = {};
      route.params.forEach((p, i) => {
        params[p] = decodeURIComponent(found[i + 1]!);
      });
      const fn = await load(route.handler);
      const event = toEvent(req, url, body, `${route.method} ${route.path}`, params);
      const started = performance.now();
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await fn(event, fakeContext(route.functionName, route.timeoutS));
      } finally {
        meter.record(route.functionName, performance.now() - started, true);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
    })().catch((err: unknown) => {
      console.error('lambda-meter: handler threw', err);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"message":"Internal Server Error"}');
    });
  });
  keepAliveLongerThanClients(server);
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(0, '127.0.0.1', () => r());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no TCP port');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

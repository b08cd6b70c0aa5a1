// Serves the project's httpApi functions over real HTTP in-process, with routes read from serverless.yml:
// the same handlers and routes as serverless-offline, started in milliseconds (tests, benchmarks).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parse } from 'yaml';
import { keepAliveLongerThanClients } from '../../scripts/lib/http-keep-alive.js';

export interface Route {
  functionName: string;
  method: string;
  path: string;
  handler: string;
  timeoutS: number;
  matcher: RegExp;
  params: string[];
}

type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface ServerlessYaml {
  provider?: { timeout?: number };
  functions?: Record<
    string,
    { handler: string; timeout?: number; events?: { httpApi?: { method: string; path: string } }[] }
  >;
}

function compile(path: string): { matcher: RegExp; params: string[] } {
  const params: string[] = [];
  const pattern = path
    .split('/')
    .map((seg) => {
      const m = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      params.push(m[1]!);
      return m[2] === '+' ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { matcher: new RegExp(`^${pattern}$`), params };
}

export function readRoutes(root = process.cwd()): Route[] {
  const doc = parse(readFileSync(resolve(root, 'serverless.yml'), 'utf8')) as ServerlessYaml;
  const routes: Route[] = [];
  for (const [functionName, fn] of Object.entries(doc.functions ?? {})) {
    for (const ev of fn.events ?? []) {
      if (!ev.httpApi) continue;
      routes.push({
        functionName,
        method: ev.httpApi.method.toUpperCase(),
        path: ev.httpApi.path,
        handler: fn.handler,
        timeoutS: fn.timeout ?? doc.provider?.timeout ?? 6,
        ...compile(ev.httpApi.path),
      });
    }
  }
  // Literal segments win over parameters, as in API Gateway.
  return routes.sort(
    (a, b) => b.path.replace(/\{[^}]+\}/g, '').length - a.path.replace(/\{[^}]+\}/g, '').length,
  );
}

export function fakeContext(functionName: string, timeoutS: number): Context {
  const deadline = Date.now() + timeoutS * 1000;
  return Object.freeze({
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  });
}

function decodable(match: RegExpExecArray): boolean {
  try {
    match.slice(1).forEach((part) => decodeURIComponent(part));
    return true;
  } catch {
    return false;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function toEvent(req: IncomingMessage, url: URL, body: string, route: Route, match: RegExpExecArray) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const pathParameters: Record<string, string> = {};
  route.params.forEach((p, i) => {
    pathParameters[p] = decodeURIComponent(match[i + 1]!);
  });
  const requestId = randomUUID();
  const event = {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: route.params.length ? pathParameters : undefined,
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
      requestId,
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
  return event;
}

export interface RunningLambdaHttp {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface LambdaHttpOptions {
  port?: number;
  host?: string;
  root?: string;
  /** Called after each handler invocation with the function's name and the handler's wall time (ms). */
  onInvocation?: (functionName: string, durationMs: number) => void;
}

export async function startLambdaHttp(opts: LambdaHttpOptions = {}) {
  const root = opts.root ?? process.cwd();
  const routes = readRoutes(root);
  const modules = new Map<string, Promise<LambdaHandler>>();
  const load = (handler: string) => {
    let m = modules.get(handler);
    if (!m) {
      const dot = handler.lastIndexOf('.');
      const file = pathToFileURL(resolve(root, `${handler.slice(0, dot)}.ts`)).href;
      const name = handler.slice(dot + 1);
      m = import(file).then((mod: Record<string, LambdaHandler>) => mod[name]!);
      modules.set(handler, m);
    }
    return m;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      // Concatenated, not resolved against a base: a request path such as "//" is a path, not a host.
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
      if (!decodable(match)) {
        // API Gateway refuses a malformed percent-encoding before any function runs.
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"Bad Request"}');
        return;
      }
      const fn = await load(route.handler);
      const event = toEvent(req, url, body, route, match);
      const started = performance.now();
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await fn(event, fakeContext(route.functionName, route.timeoutS));
      } finally {
        opts.onInvocation?.(route.functionName, performance.now() - started);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
    })().catch((err: unknown) => {
      console.error('lambda-http: handler threw', err);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"message":"Internal Server Error"}');
    });
  });
  keepAliveLongerThanClients(server);
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => r());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no TCP port');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  } satisfies RunningLambdaHttp;
}

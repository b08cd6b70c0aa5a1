// Local Upstash Redis REST bridge: node:http in front of a real redis-server, for the unmodified @upstash clients.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { CommandRunner, RedisUnavailableError } from './runner.js';
import {
  BridgeRequestError,
  parseBatchBody,
  parseCommandBody,
  parsePathCommand,
  toJson,
  type JsonValue,
} from './protocol.js';
import { keepAliveLongerThanClients } from '../lib/http-keep-alive.js';

export interface BridgeOptions {
  redisUrl: string;
  token: string;
  /** 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest accepted request body in bytes; default 10 MB. */
  maxBodyBytes?: number;
}

export interface RunningBridge {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
// Upstash's own wording for a missing or wrong REST token.
const UNAUTHORIZED = 'WRONGPASS invalid or missing auth token';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time check of `Authorization: Bearer <token>` or the `_token` query parameter. */
function authorized(req: IncomingMessage, query: URLSearchParams, expected: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const given = match?.[1] ?? query.get('_token');
  if (given === null || given === undefined) return false;
  return timingSafeEqual(digest(given.trim()), expected);
}

/** Reads the whole body; past the limit it keeps draining (so the client can read our 413) but stores nothing. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * 4) req.destroy();
    });
    req.on('end', () => {
      if (size > limit) reject(new BridgeRequestError(413, `ERR request body is larger than ${limit} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    // A client that goes away mid-body (or one cut off above) never sends 'end'.
    req.on('close', () => {
      if (!req.complete) reject(new BridgeRequestError(400, 'ERR request body was cut off'));
    });
  });
}

function send(res: ServerResponse, status: number, body: JsonValue): void {
  const text = toJson(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function route(
  req: IncomingMessage,
  url: URL,
  body: string,
  runner: CommandRunner,
): Promise<[number, JsonValue]> {
  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '/pipeline' || path === '/multi-exec') {
    if (req.method !== 'POST') throw new BridgeRequestError(405, `ERR ${path} only accepts POST`);
    const commands = parseBatchBody(body);
    const outcomes =
      path === '/pipeline'
        ? await runner.pipeline(commands, base64)
        : await runner.multiExec(commands, base64);
    return [200, outcomes];
  }
  let command;
  if (path === '') {
    if (req.method !== 'POST')
      throw new BridgeRequestError(405, 'ERR POST a JSON command array, e.g. ["GET","key"]');
    command = parseCommandBody(body);
  } else {
    command = parsePathCommand(path, url.searchParams, body);
  }
  const outcome = await runner.single(command, base64);
  return ['error' in outcome ? 400 : 200, outcome];
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  runner: CommandRunner,
  token: Buffer,
  limit: number,
) {
  try {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (!authorized(req, url.searchParams, token)) {
      req.resume();
      send(res, 401, { error: UNAUTHORIZED });
      return;
    }
    const body = await readBody(req, limit);
    const [status, answer] = await route(req, url, body, runner);
    send(res, status, answer);
  } catch (err) {
    if (err instanceof BridgeRequestError) {
      send(res, err.status, { error: err.message });
      return;
    }
    const message = err instanceof RedisUnavailableError ? err.message : 'ERR internal bridge error';
    console.error(JSON.stringify({ level: 'error', msg: 'bridge request failed', error: String(err) }));
    if (!res.headersSent) send(res, 500, { error: message });
    else res.destroy();
  }
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startBridge(opts: BridgeOptions): Promise<RunningBridge> {
  if (opts.token.length === 0) throw new Error('the bridge needs a non-empty token');
  // protocol 2: Redis itself answers in RESP2, the shape Upstash serves (RESP3 nests ZRANGE WITHSCORES
  // pairs and turns Lua false into 0). stringNumbers: integers arrive as digit strings, bulk strings as
  // Buffers, so the two stay apart and 64-bit integers keep every digit.
  const redis = new Redis(opts.redisUrl, {
    protocol: 2,
    stringNumbers: true,
    lazyConnect: true,
    enableAutoPipelining: false,
    maxRetriesPerRequest: 3,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    // Reconnects are automatic; a command that fails meanwhile is answered with a 500.
    lastError = err;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const why = lastError?.message ?? (err as Error).message;
    throw new Error(`the bridge could not connect to Redis: ${why}`, { cause: err });
  }
  const runner = new CommandRunner(redis);
  const token = digest(opts.token);
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const server = createServer((req, res) => {
    void handle(req, res, runner, token, limit);
  });
  const host = opts.host ?? '127.0.0.1';
  let address: AddressInfo;
  try {
    keepAliveLongerThanClients(server);
    address = await listen(server, opts.port ?? 0, host);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

// HTTP face of the broker: bearer auth, body limits, QStash's /v2 paths mapped onto BrokerApi, errors as `{ error }`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiReply, BrokerApi } from './api.js';
import { HttpError } from './errors.js';

export interface RoutesOptions {
  token: string;
  keys: { current: string; next: string };
  maxBodyBytes: number;
  onError: (err: unknown) => void;
}

/** QStash features this broker does not offer: answered 501 rather than a confusing 404. */
const UNSUPPORTED =
  /^\/v2\/(schedules|topics|queues|events|logs|flowControl|globalParallelism|workflows|keys\/rotate)(\/|$)/;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `body larger than ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: ApiReply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const json = JSON.stringify(reply.body);
  res
    .writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
    })
    .end(json);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Header pairs with their original case, from rawHeaders. */
function headerPairs(req: IncomingMessage): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

function callerIp(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress?.replace(/^::ffff:/, '');
}

/** Splits the raw request target, keeping the destination's own query untouched. */
function splitTarget(raw: string): { path: string; query: string } {
  const q = raw.indexOf('?');
  return q < 0 ? { path: raw, query: '' } : { path: raw.slice(0, q), query: raw.slice(q + 1) };
}

export function createRequestHandler(
  api: BrokerApi,
  opts: RoutesOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  async function route(req: IncomingMessage): Promise<ApiReply> {
    const { path, query } = splitTarget(req.url ?? '/');
    let params = new URLSearchParams(query);
    const method = req.method ?? 'GET';
    if (path === '/health' || path === '/') return { status: 200, body: { ok: true } };

    const auth = req.headers.authorization;
    const queryToken = params.get('qstash_token');
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : queryToken;
    if (token === null || token === undefined || !sameSecret(token, opts.token))
      throw new HttpError(401, 'Unauthorized');
    let destinationQuery = query;
    if (queryToken !== null) {
      params.delete('qstash_token');
      destinationQuery = params.toString();
      params = new URLSearchParams(destinationQuery);
    }

    const publish = /^\/v2\/publish\/(.+)$/.exec(path);
    const enqueue = /^\/v2\/enqueue\/([^/]+)\/(.+)$/.exec(path);
    if ((publish || enqueue) && method === 'POST') {
      const rawDest = (publish ? publish[1] : enqueue![2])!;
      const destination = destinationQuery ? `${rawDest}?${destinationQuery}` : rawDest;
      const body = await readBody(req, opts.maxBodyBytes);
      const ip = callerIp(req);
      return api.publish({
        destination,
        headers: headerPairs(req),
        body,
        ...(ip === undefined ? {} : { callerIp: ip }),
        ...(enqueue ? { queueName: decodeURIComponent(enqueue[1]!) } : {}),
      });
    }
    if (path === '/v2/batch' && method === 'POST')
      return api.batch(await readBody(req, opts.maxBodyBytes), callerIp(req));
    if (path === '/v2/keys' && method === 'GET')
      return { status: 200, body: { current: opts.keys.current, next: opts.keys.next } };

    const message = /^\/v2\/messages\/([^/]+)$/.exec(path)?.[1];
    if (message !== undefined) {
      const id = decodeURIComponent(message);
      if (method === 'GET') return api.getMessage(id);
      if (method === 'DELETE') return api.cancelMessage(id);
    }
    if (path === '/v2/messages' && method === 'DELETE') return api.cancelMessages(params);

    if (path === '/v2/dlq' && method === 'GET') return api.listDeadLetters(params);
    if (path === '/v2/dlq' && method === 'DELETE') return api.deleteDeadLetters(params);
    if (path === '/v2/dlq/retry' && method === 'POST') return api.retryDeadLetters(params);
    const dlqRetry = /^\/v2\/dlq\/retry\/([^/]+)$/.exec(path)?.[1];
    if (dlqRetry !== undefined && method === 'POST') return api.retryDeadLetter(decodeURIComponent(dlqRetry));
    const dlq = /^\/v2\/dlq\/([^/]+)$/.exec(path)?.[1];
    if (dlq !== undefined) {
      if (method === 'GET') return api.getDeadLetter(decodeURIComponent(dlq));
      if (method === 'DELETE') return api.deleteDeadLetter(decodeURIComponent(dlq));
    }

    if (UNSUPPORTED.test(path))
      throw new HttpError(501, `${path} is not supported by the local QStash broker`);
    throw new HttpError(404, `no route for ${method} ${path}`);
  }

  return (req, res) => {
    route(req)
      .then((reply) => send(res, reply))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          send(res, { status: err.status, body: { error: err.message } });
          return;
        }
        opts.onError(err);
        send(res, { status: 500, body: { error: 'internal broker error' } });
      });
  };
}

// A destination server for broker checks: records every request (time, headers, raw body) and fails on command.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepAliveLongerThanClients } from '../../scripts/lib/http-keep-alive.js';

export interface RecordedRequest {
  /** Unix ms when the request arrived. */
  at: number;
  method: string;
  /** Path with query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CannedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RecordingTarget {
  /** Base URL, e.g. http://127.0.0.1:port */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Requests whose path (without query) is `path`. */
  received(path: string): RecordedRequest[];
  /** The next `times` requests to `path` get `response` (default 500), later ones the standing answer. */
  failNext(path: string, times: number, response?: CannedResponse): void;
  /** Standing answer for `path` (default 200 "ok"). */
  respond(path: string, response: CannedResponse): void;
  /**
   * Holds the answers to requests on `path` (they are recorded at once) until `release()`: how many wait is the
   * number of deliveries in flight at once, a count no timing can change.
   */
  hold(path: string): { waiting(): number; release(): void };
  /** Polls `check` until true; rejects with `what` after `timeoutMs`. */
  waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startRecordingTarget(): Promise<RecordingTarget> {
  const requests: RecordedRequest[] = [];
  const failures = new Map<string, { left: number; response: CannedResponse }>();
  const standing = new Map<string, CannedResponse>();
  const pathOf = (url: string) => url.split('?')[0] ?? url;
  const held = new Map<string, (() => void)[] | undefined>();

  const server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      requests.push({
        at,
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const path = pathOf(url);
      const failure = failures.get(path);
      let answer = standing.get(path) ?? { status: 200, body: 'ok' };
      if (failure && failure.left > 0) {
        failure.left--;
        answer = failure.response;
      }
      const send = () => res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      const queue = held.get(path);
      if (queue) queue.push(send);
      else send();
    });
  });
  keepAliveLongerThanClients(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    received: (path) => requests.filter((r) => pathOf(r.url) === path),
    failNext(path, times, response = { status: 500, body: 'failing on purpose' }) {
      failures.set(path, { left: times, response });
    },
    respond(path, response) {
      standing.set(path, response);
    },
    hold(path) {
      const queue: (() => void)[] = [];
      held.set(path, queue);
      return {
        waiting: () => queue.length,
        release() {
          held.delete(path);
          for (const send of queue.splice(0)) send();
        },
      };
    },
    waitFor: waitUntil,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

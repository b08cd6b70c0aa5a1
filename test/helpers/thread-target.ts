// A target server on its own thread (own event loop): arrival times are not delayed by the busy test process,
// as a real target's would not be. Records (path, arrival ms, headers subset); answers 200.
import { Worker } from 'node:worker_threads';

export interface ThreadHit {
  path: string;
  at: number;
  headers: Record<string, string>;
}

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const hits = [];
const server = http.createServer((req, res) => {
  const at = Date.now();
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-')) headers[k] = String(v);
  hits.push({ path: req.url, at, headers });
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'hits') parentPort.postMessage({ hits });
  if (m === 'close') server.close(() => parentPort.postMessage({ closed: true }));
});
`;

export interface ThreadTarget {
  url: string;
  hits(): Promise<ThreadHit[]>;
  close(): Promise<void>;
}

export async function startThreadTarget(): Promise<ThreadTarget> {
  const worker = new Worker(SOURCE, { eval: true });
  const next = <T>(key: string) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (key in m) {
          worker.off('message', on);
          resolve(m[key] as T);
        }
      };
      worker.on('message', on);
    });
  const port = await next<number>('port');
  return {
    url: `http://127.0.0.1:${port}`,
    async hits() {
      const p = next<ThreadHit[]>('hits');
      worker.postMessage('hits');
      return p;
    },
    async close() {
      const p = next<boolean>('closed');
      worker.postMessage('close');
      await p;
      await worker.terminate();
    },
  };
}

// The broker's outgoing HTTP call (node:http/https): exact headers, a hard timeout, a capped response body.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

export interface OutboundResponse {
  status: number;
  /** Header names as the server wrote them. */
  header: Record<string, string[]>;
  body: Buffer;
}

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Keep-alive agents owned by one broker, destroyed when it closes. */
export class OutboundAgents {
  readonly http = new HttpAgent({ keepAlive: true });
  readonly https = new HttpsAgent({ keepAlive: true });
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

const MAX_KEPT_BODY_BYTES = 256 * 1024;

export function sendHttp(req: OutboundRequest, agents: OutboundAgents): Promise<OutboundResponse> {
  const url = new URL(req.url);
  const isHttps = url.protocol === 'https:';
  const send = isHttps ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { ...req.headers };
  if (req.body.length > 0 || !['GET', 'HEAD'].includes(req.method))
    headers['Content-Length'] = String(req.body.length);
  return new Promise((resolve, reject) => {
    const r = send(
      url,
      { method: req.method, headers, agent: isHttps ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept >= MAX_KEPT_BODY_BYTES) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          const header: Record<string, string[]> = {};
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
            (header[res.rawHeaders[i]!] ??= []).push(res.rawHeaders[i + 1]!);
          resolve({
            status: res.statusCode ?? 0,
            header,
            body: Buffer.concat(chunks).subarray(0, MAX_KEPT_BODY_BYTES),
          });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(
      () => r.destroy(new TimeoutError(`timed out after ${req.timeoutMs}ms`)),
      req.timeoutMs,
    );
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    r.on('error', fail);
    r.end(req.body);
  });
}

/** Case-insensitive lookup in a header map. */
export function headerValue(header: Record<string, string[]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(header)) if (k.toLowerCase() === lower) return v[0];
  return undefined;
}

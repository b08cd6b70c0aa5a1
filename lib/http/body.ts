// The edge's one body reader (before): the body as text, base64 decoded, refused above the route kind's size limit.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../errors.js';
import type { EdgeMiddleware } from './event.js';

/**
 * Largest body per route kind. `json` (admin and operator routes): far above any valid request, far below what
 * would cost memory. `qstash` (signed deliveries): 1 MiB, QStash's message maximum on its free plan and the
 * local broker's; our own messages are under 2 KiB, a failure callback carries the failed response's body too.
 */
export const BODY_LIMITS = { json: 16 * 1024, qstash: 1024 * 1024 } as const;

/**
 * The body as text. API Gateway always sends a string; serverless-offline hands a falsy JSON body (`false`, `0`)
 * over parsed, and `null` or `""` as no body at all (with the request's content-length still set).
 */
export function bodyText(event: APIGatewayProxyEventV2): string {
  const raw = event.body as unknown;
  if (typeof raw === 'string')
    return event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (raw !== undefined && raw !== null) return JSON.stringify(raw);
  return Number(event.headers?.['content-length'] ?? 0) > 0 ? 'null' : '';
}

/** before: `request.event.text` set, or 413 when the body is larger than `maxBytes`. */
export function bodyReader(maxBytes: number): EdgeMiddleware {
  return {
    before: (request) => {
      const text = bodyText(request.event.event);
      if (Buffer.byteLength(text, 'utf8') > maxBytes) {
        throw new PayloadTooLargeError(`body larger than ${maxBytes} bytes`);
      }
      request.event.text = text;
    },
  };
}

// The edge of QStash-called functions: signature on the raw body and our own URL first, then the handler; verdicts to HTTP.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { AuthError, ValidationError } from '../errors.js';
import { toHttpApiEvent, type ApiGatewayEvent } from '../http/event.js';
import { errorResult, requestIdOf } from '../http/handler.js';
import { json, type HttpResult } from '../http/response.js';
import { logger } from '../log.js';
import { internalUrl } from '../publishing/qstash-publisher.js';
import { runtime } from '../runtime.js';
import { parseOrThrow } from '../validation.js';
import type { Verdict } from './run-delivery.js';

/** QStash's documented opt-out of retries: this status with `Upstash-NonRetryable-Error: true`. */
export const NON_RETRYABLE_STATUS = 489;
const NON_RETRYABLE_HEADERS = { 'Upstash-NonRetryable-Error': 'true' };
/** Seconds of clock difference tolerated on the JWT's nbf/exp. */
const CLOCK_TOLERANCE_S = 5;

export interface SignedRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  readonly requestId: string;
  /** The raw body the signature covers. */
  readonly body: string;
  header(name: string): string | undefined;
}

function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const h = event.headers ?? {};
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** A signed body as JSON, validated; a bad one is a 4xx QStash must not retry (it would fail the same way). */
export function parseSignedJson<S extends z.ZodType>(body: string, schema: S): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ValidationError([{ path: 'body', message: 'not valid JSON' }]);
  }
  return parseOrThrow(schema, value, 'body');
}

export function signedHandler(path: string, fn: (req: SignedRequest) => Promise<HttpResult>) {
  return middy<ApiGatewayEvent, HttpResult>().handler(async (raw, context) => {
    const event = toHttpApiEvent(raw);
    const requestId = requestIdOf(event);
    let result: HttpResult;
    try {
      const { config, receiver } = runtime();
      const raw = event.body ?? '';
      const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      const signature = headerOf(event, 'upstash-signature');
      if (!signature) throw new AuthError('missing QStash signature');
      const url = internalUrl(config.STAGGER_PUBLIC_URL, path);
      const valid = await receiver
        .verify({ signature, body, url, clockTolerance: CLOCK_TOLERANCE_S })
        .catch((err: unknown) => {
          logger.warn(
            { requestId, path, reason: err instanceof Error ? err.message : String(err) },
            'QStash signature refused',
          );
          return false;
        });
      if (!valid) throw new AuthError('invalid QStash signature');
      result = await fn({
        event,
        context,
        requestId,
        body,
        header: (name) => headerOf(event, name.toLowerCase()),
      });
    } catch (err) {
      result = errorResult(err, requestId);
      if (err instanceof ValidationError) {
        result.statusCode = NON_RETRYABLE_STATUS;
        result.headers = { ...result.headers, ...NON_RETRYABLE_HEADERS };
      }
    }
    result.headers = { ...result.headers, 'x-request-id': requestId };
    return result;
  });
}

/** ack: 200. retry: 503 (QStash retries; Retry-After when we know better). stop: 489, non-retryable. */
export function verdictResult(v: Verdict): HttpResult {
  switch (v.kind) {
    case 'ack':
      return json(200, { outcome: v.outcome, ...v.detail });
    case 'retry': {
      const headers: Record<string, string> =
        v.retryAfterMs === undefined ? {} : { 'Retry-After': String(Math.ceil(v.retryAfterMs / 1000)) };
      return json(
        503,
        { outcome: 'retry', reason: v.reason, ...(v.status === undefined ? {} : { status: v.status }) },
        headers,
      );
    }
    case 'stop':
      return json(
        NON_RETRYABLE_STATUS,
        { outcome: 'failed', reason: v.reason, ...(v.status === undefined ? {} : { status: v.status }) },
        NON_RETRYABLE_HEADERS,
      );
  }
}

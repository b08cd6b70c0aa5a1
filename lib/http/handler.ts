// Builds middy handlers for HTTP functions: request id, one error mapping, auth, then the thin handler.
import middy from '@middy/core';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, RateLimitedError, ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { parseOrThrow } from '../validation.js';
import { requireAdminKey } from './auth.js';
import { toHttpApiEvent, type ApiGatewayEvent } from './event.js';
import { json, type HttpResult } from './response.js';

export interface HttpRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  readonly requestId: string;
}

export interface HandlerOptions {
  /** `admin`: Bearer key from `adminKeys()` checked before anything else. */
  auth: 'admin' | 'none';
  adminKeys?: () => readonly string[];
}

const MAX_BODY_BYTES = 256 * 1024;

/** serverless-offline's HTTP API events carry this fixed placeholder as every request's id. */
const PLACEHOLDER_REQUEST_ID = /^offlineContext_/;

/** API Gateway's request id, or a fresh one where there is none (or only serverless-offline's placeholder). */
export function requestIdOf(event: APIGatewayProxyEventV2 | undefined): string {
  const id = event?.requestContext?.requestId;
  return id && !PLACEHOLDER_REQUEST_ID.test(id) ? id : randomUUID();
}

/** Maps any error to the one error shape; only 4xx messages are shown, everything else is a generic 500. */
export function errorResult(err: unknown, requestId: string): HttpResult {
  if (err instanceof AppError && err.status < 500) {
    const body: Record<string, unknown> = { code: err.code, message: err.message, requestId };
    if (err.details !== undefined) body['details'] = err.details;
    const headers =
      err instanceof RateLimitedError
        ? { 'Retry-After': String(Math.ceil(err.retryAfterMs / 1000)) }
        : undefined;
    return json(err.status, { error: body }, headers);
  }
  const status = err instanceof AppError ? err.status : 500;
  logger.error({ requestId, err: describe(err) }, 'request failed');
  const code = status === 503 ? 'unavailable' : 'internal_error';
  return json(status, { error: { code, message: 'internal error', requestId } });
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { value: String(err) };
}

export function httpHandler(options: HandlerOptions, fn: (req: HttpRequest) => Promise<HttpResult>) {
  return middy<ApiGatewayEvent, HttpResult>().handler(async (raw, context) => {
    const event = toHttpApiEvent(raw);
    const requestId = requestIdOf(event);
    try {
      if (options.auth === 'admin') requireAdminKey(event.headers, options.adminKeys?.() ?? []);
      const result = await fn({ event, context, requestId });
      result.headers = { ...result.headers, 'x-request-id': requestId };
      return result;
    } catch (err) {
      const result = errorResult(err, requestId);
      result.headers = { ...result.headers, 'x-request-id': requestId };
      return result;
    }
  });
}

/** The request body as JSON, validated; a missing or malformed body is a 400 on `body`. */
export function parseBody<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.output<S> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new ValidationError([{ path: 'body', message: `larger than ${MAX_BODY_BYTES} bytes` }]);
  }
  let value: unknown;
  try {
    value = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ValidationError([{ path: 'body', message: 'not valid JSON' }]);
  }
  return parseOrThrow(schema, value, 'body');
}

export function parsePath<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.output<S> {
  return parseOrThrow(schema, event.pathParameters ?? {}, 'path');
}

export function parseQuery<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.output<S> {
  return parseOrThrow(schema, event.queryStringParameters ?? {}, 'query');
}

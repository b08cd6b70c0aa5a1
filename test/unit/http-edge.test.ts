// The HTTP edge: constant-time key check, bearer parsing, one error shape that never leaks internals.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { ConfigError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { bearerToken, keyMatches } from '../../lib/http/auth.js';
import { errorResult } from '../../lib/http/errors.js';
import { requestIdOf } from '../../lib/http/event.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

describe('admin key check', () => {
  it('accepts any configured key and refuses others, including prefixes of a key', () => {
    const keys = ['first-key-0123456789', 'second-key-0123456789'];
    expect(keyMatches('second-key-0123456789', keys)).toBe(true);
    expect(keyMatches('first-key-0123456789', keys)).toBe(true);
    expect(keyMatches('first-key-012345678', keys)).toBe(false);
    expect(keyMatches('', keys)).toBe(false);
    expect(keyMatches('first-key-0123456789', [])).toBe(false);
  });

  it('reads only well-formed Bearer headers', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer a b' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });
});

describe('error mapping', () => {
  it('shows 4xx messages and details with the request id', () => {
    const r = errorResult(new ValidationError([{ path: 'body.zone', message: 'bad zone' }]), 'req-1');
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body as string)).toEqual({
      error: {
        code: 'validation_failed',
        message: 'invalid body.zone',
        requestId: 'req-1',
        details: [{ path: 'body.zone', message: 'bad zone' }],
      },
    });
    expect(errorResult(new NotFoundError('user u1 not found'), 'r').statusCode).toBe(404);
  });

  it('hides the message and stack of anything that is not a 4xx', () => {
    const err = new Error('connection to redis://secret@host failed');
    const r = errorResult(err, 'req-2');
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toContain('secret');
    expect(r.body).not.toContain('stack');
    expect(JSON.parse(r.body as string)).toEqual({
      error: { code: 'internal_error', message: 'internal error', requestId: 'req-2' },
    });
  });
});

describe('configuration', () => {
  const good = {
    UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079',
    UPSTASH_REDIS_REST_TOKEN: 't',
    QSTASH_URL: 'http://127.0.0.1:8080',
    QSTASH_TOKEN: 'q',
    QSTASH_CURRENT_SIGNING_KEY: 'c',
    QSTASH_NEXT_SIGNING_KEY: 'n',
    STAGGER_ADMIN_API_KEYS: 'a-long-enough-admin-key, another-long-admin-key',
    STAGGER_PUBLIC_URL: 'http://127.0.0.1:3000',
  };

  it('parses a complete environment with defaults', () => {
    const c = loadConfig(good);
    expect(c.STAGE).toBe('local');
    expect(c.STAGGER_KEY_PREFIX).toBe('stagger:');
    expect(c.STAGGER_ADMIN_API_KEYS).toEqual(['a-long-enough-admin-key', 'another-long-admin-key']);
  });

  it('names missing or short variables and never echoes a value', () => {
    const env = { ...good, QSTASH_TOKEN: undefined, STAGGER_ADMIN_API_KEYS: 'short-secret' };
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const msg = (caught as Error).message;
    expect(msg).toContain('QSTASH_TOKEN');
    expect(msg).toContain('STAGGER_ADMIN_API_KEYS');
    expect(msg).not.toContain('short-secret');
  });
});

describe('request ids', () => {
  const eventWith = (requestId: string | undefined) =>
    ({ requestContext: { requestId } }) as unknown as APIGatewayProxyEventV2;

  it("keeps API Gateway's id", () => {
    expect(requestIdOf(eventWith('Ab1cDEf2GhIjK3='))).toBe('Ab1cDEf2GhIjK3=');
  });

  it("replaces serverless-offline's fixed placeholder (and a missing id) with a fresh id per request", () => {
    const ids = [
      eventWith('offlineContext_resourceId'),
      eventWith('offlineContext_resourceId'),
      eventWith(undefined),
    ].map(requestIdOf);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  });
});

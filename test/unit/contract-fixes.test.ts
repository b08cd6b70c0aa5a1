// What the OpenAPI document promises is what the handlers accept (fixes for what schemathesis found).
import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { KNOWN_ZONES, TimeZone } from '../../lib/admin/schemas.js';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { allowedMethods } from '../../lib/api/fallback.js';
import { buildOpenApi } from '../../lib/api/openapi.js';
import { parseRouteInput } from '../../lib/http/input.js';
import { ALL_ROUTES } from '../../lib/api/routes.js';
import { JobId, parseJobId } from '../../lib/domain/ids.js';
import type { ValidationError } from '../../lib/errors.js';
import { DEAD_LETTER_CURSOR, decodeCursor } from '../../lib/dead-letters/dead-letter-store.js';
import { DeadLetterQuery } from '../../lib/dead-letters/schemas.js';

const doc = buildOpenApi(ALL_ROUTES);
type Param = { name: string; schema: Record<string, unknown> };
const paramsOf = (path: string, method: string) =>
  (doc.paths[path]?.[method] as unknown as { parameters: Param[] }).parameters;

describe('job ids', () => {
  it('are documented with the pattern the handlers check, which is exactly parseJobId', () => {
    const schema = paramsOf('/v1/jobs/{jobId}', 'get').find((p) => p.name === 'jobId')!.schema;
    const pattern = new RegExp(schema['pattern'] as string);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: fc.constantFrom('a', ':', '0', '/', ' ', '\n', '\r', '\u2028') }),
        (s) => {
          const parsed = parseJobId(s) !== undefined;
          expect(JobId.safeParse(s).success).toBe(parsed);
          expect(pattern.test(s)).toBe(parsed);
        },
      ),
    );
    expect(JobId.safeParse('0').success).toBe(false);
  });
});

describe('dead-letter cursors', () => {
  it('are documented by a pattern, and every string of that pattern is a position', () => {
    const schema = paramsOf('/v1/dead-letters', 'get').find((p) => p.name === 'cursor')!.schema;
    expect(schema['pattern']).toBe(DEAD_LETTER_CURSOR.source);
    fc.assert(
      fc.property(fc.stringMatching(DEAD_LETTER_CURSOR), (c) => {
        expect(DeadLetterQuery.safeParse({ cursor: c }).success).toBe(true);
        expect(decodeCursor(c)).toMatchObject({ s: expect.any(Number), id: expect.any(String) });
      }),
    );
    expect(DeadLetterQuery.safeParse({ cursor: '\u0095&' }).success).toBe(false);
  });

  it('carry the position of the last item: score and id read back', () => {
    expect(
      decodeCursor(`1796033129519.${Buffer.from('daily:ada@x.io:2026-11-30').toString('base64url')}`),
    ).toEqual({
      s: 1796033129519,
      id: 'daily:ada@x.io:2026-11-30',
    });
  });
});

describe('time zones', () => {
  it('are documented as the listed zones, every one of which the handlers accept', () => {
    const body = (
      doc.paths['/v1/users/{userId}']?.['put'] as unknown as {
        requestBody: {
          content: { 'application/json': { schema: { properties: { zone: { enum: string[] } } } } };
        };
      }
    ).requestBody.content['application/json'].schema.properties.zone;
    expect(body.enum).toEqual([...KNOWN_ZONES]);
    expect(body.enum).toContain('UTC');
    expect(body.enum).toContain('Europe/London');
    for (const zone of KNOWN_ZONES) expect(TimeZone.safeParse(zone).success, zone).toBe(true);
    expect(TimeZone.safeParse('MCY-YujOj/WXruCL0/Jt').success).toBe(false);
  });
});

describe('request bodies a local runtime hands over parsed', () => {
  const event = (body: unknown, headers: Record<string, string> = {}) =>
    ({ body, headers, pathParameters: { userId: 'ada' } }) as unknown as APIGatewayProxyEventV2;
  const issuesOf = (e: APIGatewayProxyEventV2) => {
    try {
      parseRouteInput(ADMIN_ROUTES.putUser, e);
      return [];
    } catch (err) {
      return (err as ValidationError).issues.map((i) => i.path);
    }
  };

  it('are refused with a 400 on body, not a 500: false, 0, and null sent with a length', () => {
    expect(issuesOf(event(false))).toEqual(['body']);
    expect(issuesOf(event(0))).toEqual(['body']);
    expect(issuesOf(event(null, { 'content-length': '4' }))).toEqual(['body']);
    expect(issuesOf(event(undefined))).toEqual(['body']); // a required body missing
    expect(issuesOf(event('{"zone":"UTC"}'))).toEqual([]);
  });

  it('are empty only when they hold JSON whitespace: a lone vertical tab is not JSON', () => {
    const enable = (body: string) => {
      try {
        parseRouteInput(ADMIN_ROUTES.putUserTask, {
          body,
          pathParameters: { userId: 'ada', taskId: 'daily' },
        } as unknown as APIGatewayProxyEventV2);
        return [];
      } catch (err) {
        return (err as ValidationError).issues.map((i) => i.path);
      }
    };
    expect(enable(' \r\n\t')).toEqual([]);
    expect(enable('\u000b')).toEqual(['body']);
    expect(enable('\f')).toEqual(['body']);
  });
});

describe('the fallback route', () => {
  it('lists the methods of a documented path, and none for an unknown one', () => {
    expect(allowedMethods(ALL_ROUTES, '/health')).toEqual(['GET']);
    expect(allowedMethods(ALL_ROUTES, '/v1/users/ada')).toEqual(['DELETE', 'GET', 'PUT']);
    expect(allowedMethods(ALL_ROUTES, '/v1/users/')).toEqual([]);
    expect(allowedMethods(ALL_ROUTES, '/v1/nowhere')).toEqual([]);
  });
});

// The edge's zod validation (before): path, query and body parsed with the route's schemas; one 400 names every bad field.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.js';
import { issuesOf } from '../validation.js';
import { bodyText } from './body.js';
import type { EdgeMiddleware, EdgeRequest } from './event.js';

/** The schemas of a route (RouteSpec's input part); a route without `query` takes none. */
export interface InputSchemas {
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
}

const NOT_JSON = Symbol('not JSON');

/** Parses path, query and body with the route's schemas; one 400 names every bad field of all three. */
export function parseRouteInput(
  route: InputSchemas,
  event: APIGatewayProxyEventV2,
  text: string = bodyText(event),
): EdgeRequest['input'] {
  const issues: FieldIssue[] = [];
  const parse = (schema: z.ZodType | undefined, value: unknown, root: string): unknown => {
    if (!schema) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    issues.push(...issuesOf(result.error, root));
    return undefined;
  };
  const path = parse(route.pathParams, event.pathParameters ?? {}, 'path');
  const query = parse(route.query ?? z.strictObject({}), event.queryStringParameters ?? {}, 'query');
  let body: unknown;
  if (route.body) {
    let value: unknown = NOT_JSON;
    try {
      // Only JSON's own whitespace makes an empty body: a lone \v or \f is not JSON (String.trim would drop them).
      value = /^[ \t\n\r]*$/.test(text) ? undefined : (JSON.parse(text) as unknown);
    } catch {
      issues.push({ path: 'body', message: 'not valid JSON' });
    }
    if (value !== NOT_JSON) body = parse(route.body, value, 'body');
  } else if ((event.body ?? '') !== '') {
    issues.push({ path: 'body', message: 'this route takes no body' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return { path, query, body };
}

/** before: `request.event.input` parsed from the request (its body text read by the body middleware). */
export function routeInput(route: InputSchemas): EdgeMiddleware {
  return {
    before: (request) => {
      const { event, text } = request.event;
      request.event.input = parseRouteInput(route, event, text);
    },
  };
}

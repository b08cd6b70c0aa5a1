// What answers a request no route takes: the methods a path allows (405 with Allow), or nothing (404). Pure.
import type { RouteSpec } from './route.js';

/** The catch-all route of serverless.yml; not in the OpenAPI document (it documents no operation). */
export const FALLBACK_ROUTE = {
  method: '*',
  path: '/{proxy+}',
  handler: 'functions/fallback.handler',
  auth: 'none',
} as const;

/** Methods of the routes whose path template matches `path`, sorted; empty when no route has this path. */
export function allowedMethods(
  routes: readonly Pick<RouteSpec, 'method' | 'path'>[],
  path: string,
): string[] {
  const segments = path.split('/');
  const methods = new Set<string>();
  for (const r of routes) {
    const template = r.path.split('/');
    if (template.length !== segments.length) continue;
    if (template.every((t, i) => (/^\{[^}]+\}$/.test(t) ? segments[i] !== '' : t === segments[i]))) {
      methods.add(r.method);
    }
  }
  return [...methods].sort();
}

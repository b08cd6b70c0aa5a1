// The edge's admin key check (before): a Bearer key compared in constant time, before any other work of a route.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors.js';
import type { EdgeMiddleware } from './event.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** True when `presented` equals one of `keys`; every key is compared, in constant time per key. */
export function keyMatches(presented: string, keys: readonly string[]): boolean {
  const p = digest(presented);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(p, digest(k)) || ok;
  return ok;
}

export function bearerToken(headers: Record<string, string | undefined> | undefined): string | undefined {
  const raw = headers?.['authorization'];
  if (!raw) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(raw);
  return m?.[1];
}

/** before: 401 unless the request holds one of `keys()` (read per request: the keys come from the config). */
export function adminAuth(keys: () => readonly string[]): EdgeMiddleware {
  return {
    before: (request) => {
      const token = bearerToken(request.event.event.headers);
      if (token === undefined || !keyMatches(token, keys())) throw new AuthError();
    },
  };
}

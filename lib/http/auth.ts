// Bearer API-key check in constant time; runs before any other work of a handler.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors.js';

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
  const raw = headers?.['authorization'] ?? headers?.['Authorization'];
  if (!raw) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(raw);
  return m?.[1];
}

export function requireAdminKey(
  headers: Record<string, string | undefined> | undefined,
  keys: readonly string[],
) {
  const token = bearerToken(headers);
  if (token === undefined || !keyMatches(token, keys)) throw new AuthError();
}

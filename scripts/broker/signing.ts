// Signs deliveries the way QStash does: an HS256 JWT in `Upstash-Signature`, keyed by the signing key string.
import { createHash, createHmac, randomBytes } from 'node:crypto';

const JWT_LIFETIME_S = 300;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** base64url of sha256(body), with `=` padding as Go's URLEncoding writes it (the Receiver ignores padding). */
export function bodyHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export interface SignInput {
  /** The destination exactly as published; the Receiver compares it with its own `url`. */
  url: string;
  body: Buffer;
  /** Unix ms. */
  now: number;
}

/** Claims: iss "Upstash", sub = url, iat = nbf = now, exp = now + 5 min, unique jti, body hash. */
export function signDelivery(signingKey: string, input: SignInput): string {
  const nowS = Math.floor(input.now / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: 'Upstash',
      sub: input.url,
      exp: nowS + JWT_LIFETIME_S,
      nbf: nowS,
      iat: nowS,
      jti: `jwt_${randomBytes(12).toString('hex')}`,
      body: bodyHash(input.body),
    }),
  );
  const signature = createHmac('sha256', signingKey).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

// Ids that sort by creation time as plain strings: 10 Crockford base32 characters of epoch ms, then randomness.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function sortableId(now: number, random: (n: number) => Uint8Array = (n) => randomBytes(n)): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let tail = '';
  for (const b of random(6)) tail += ALPHABET[b % 32]!;
  return time + tail;
}

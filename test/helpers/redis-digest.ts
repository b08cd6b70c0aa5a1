// Test helper: every key under a prefix with its type and full value, and a digest of it all (to prove "nothing written").
import { createHash } from 'node:crypto';
import type { Redis } from '@upstash/redis';

/** Pass a client created with `automaticDeserialization: false` so values come back as stored. */
export async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, { match: `${prefix}*`, count: 1000 });
    cursor = String(next);
    keys.push(...page.map(String));
  } while (cursor !== '0');
  keys.sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = await redis.get(key);
    else if (type === 'hash') out[key] = sortObject(pairs(await redis.hgetall(key)));
    else if (type === 'set') out[key] = (await redis.smembers(key)).map(String).sort();
    else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, { withScores: true });
    else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
    else out[key] = `<${type}>`;
  }
  return out;
}

export async function digest(redis: Redis, prefix: string): Promise<string> {
  return createHash('sha256')
    .update(JSON.stringify(await snapshot(redis, prefix)))
    .digest('hex');
}

// Without deserialization HGETALL answers a flat [field, value, ...] list.
function pairs(reply: unknown): Record<string, unknown> {
  if (!Array.isArray(reply)) return (reply as Record<string, unknown> | null) ?? {};
  const out: Record<string, unknown> = {};
  for (let i = 0; i < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

function sortObject(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

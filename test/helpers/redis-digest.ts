// Test helper: every key under a prefix with its type and full value, and a digest of it all (to prove "nothing written").
// The admin limiter's accounting (`<prefix>adminrl:`) is left out: a refused request rightly spends its budget.
import { createHash } from 'node:crypto';
import type { Redis } from '@upstash/redis';

/** Pass a client created with `automaticDeserialization: false` so values come back as stored. */
export async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, { match: `${prefix}*`, count: 1000 });
    cursor = String(next);
    keys.push(...page.map(String).filter((k) => !k.startsWith(`${prefix}adminrl:`)));
  } while (cursor !== '0');
  keys.sort();
  // Issued together so the client's auto-pipelining batches them: two round trips, not two per key.
  const types = await Promise.all(keys.map((key) => redis.type(key)));
  const values = await Promise.all(
    keys.map(async (key, i): Promise<unknown> => {
      const type = types[i];
      if (type === 'string') return redis.get(key);
      if (type === 'hash') return sortObject(pairs(await redis.hgetall(key)));
      if (type === 'set') return (await redis.smembers(key)).map(String).sort();
      if (type === 'zset') return redis.zrange(key, 0, -1, { withScores: true });
      if (type === 'list') return redis.lrange(key, 0, -1);
      return `<${type}>`;
    }),
  );
  const out: Record<string, unknown> = {};
  keys.forEach((key, i) => (out[key] = values[i]));
  return out;
}

// SCAN every key under the prefix and hash each one's type and content in a canonical order, in one
// round trip. (DUMP is not canonical: a mere read can rehash a set and reorder its DUMP.)
const DIGEST_LUA = `
local keys, cursor = {}, '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1] .. '*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if string.sub(k, 1, #ARGV[1] + 8) ~= ARGV[1] .. 'adminrl:' then keys[#keys + 1] = k end
  end
until cursor == '0'
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k).ok
  local v
  if t == 'string' then v = { redis.call('GET', k) }
  elseif t == 'hash' then
    local flat, fields = redis.call('HGETALL', k), {}
    for i = 1, #flat, 2 do fields[#fields + 1] = flat[i] .. '=' .. flat[i + 1] end
    table.sort(fields)
    v = fields
  elseif t == 'set' then v = redis.call('SMEMBERS', k); table.sort(v)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
  else v = { redis.call('DUMP', k) } end
  parts[#parts + 1] = k .. ':' .. t .. ':' .. #v .. ':' .. table.concat(v, '\\0')
end
return #keys .. ':' .. redis.sha1hex(table.concat(parts, '\\1'))
`;

/** `<key count>:<sha1>` of everything under the prefix; equal digests mean equal contents. */
export async function contentDigest(redis: Pick<Redis, 'eval'>, prefix: string): Promise<string> {
  return String(await redis.eval(DIGEST_LUA, [], [prefix]));
}

/** Digest of the snapshot (many round trips; contentDigest is the fast one). */
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

// Lua scripts as values (text, key count, pinned SHA-1) and how to run one: EVALSHA, falling back to EVAL on NOSCRIPT.
import { createHash } from 'node:crypto';
import type { Redis } from '@upstash/redis';

export interface LuaScript {
  /** `verbNoun`, as in the module name `verbNoun-<numKeys>.ts`. */
  readonly name: string;
  readonly numKeys: number;
  readonly text: string;
  readonly sha1: string;
}

/** The narrowest client a script needs: real @upstash/redis, a pipeline-free fake, or a test double. */
export type ScriptRedis = Pick<Redis, 'evalsha' | 'eval'>;

export function defineScript(name: string, numKeys: number, text: string): LuaScript {
  return { name, numKeys, text, sha1: createHash('sha1').update(text, 'utf8').digest('hex') };
}

export async function runScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.numKeys) {
    throw new Error(`${script.name} takes ${script.numKeys} keys, got ${keys.length}`);
  }
  return evalScript(redis, script, keys, args);
}

/** EVALSHA, then EVAL on NOSCRIPT, without checking the key count (callers check it their way). */
export async function evalScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const argv = args.map(String);
  try {
    return await redis.evalsha(script.sha1, [...keys], argv);
  } catch (err) {
    // A fresh or flushed server does not know the script yet: send it once; later calls hit the cache.
    if (!(err instanceof Error) || !/NOSCRIPT/i.test(err.message)) throw err;
    return await redis.eval(script.text, [...keys], argv);
  }
}

/**
 * A JSON reply of a read script. @upstash/redis parses JSON-looking strings itself unless
 * `automaticDeserialization` is off, so the reply may arrive parsed or as text.
 */
export function jsonReply(reply: unknown): unknown {
  return typeof reply === 'string' ? (JSON.parse(reply) as unknown) : reply;
}

/**
 * Lua helpers for the reverse indexes the scheduler reads, shared by the preference scripts.
 * Index keys are built from the prefix in ARGV[1], with the layout of lib/store/keys.ts:
 *   idx:<taskId>:<zoneGroup>  zset (score 0) of user ids
 *   idxzones:<taskId>         hash zoneGroup -> members in that zset (field dropped at 0)
 *   taskcounts                hash taskId -> members over all zone groups (field dropped at 0)
 * Counts move only when a ZADD/ZREM really changed the zset, which makes every script idempotent.
 */
export const INDEX_HELPERS = `
local prefix = ARGV[1]
local FIXED_ZONE_GROUP = '_'

local function groupOf(policy, zone)
  if policy == 'fixed' then return FIXED_ZONE_GROUP end
  return zone
end

local function decrementOrDrop(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
end

local function indexAdd(taskId, group, userId)
  if redis.call('ZADD', prefix .. 'idx:' .. taskId .. ':' .. group, 0, userId) == 1 then
    redis.call('HINCRBY', prefix .. 'idxzones:' .. taskId, group, 1)
    redis.call('HINCRBY', prefix .. 'taskcounts', taskId, 1)
  end
end

local function indexRemove(taskId, group, userId)
  if redis.call('ZREM', prefix .. 'idx:' .. taskId .. ':' .. group, userId) == 1 then
    decrementOrDrop(prefix .. 'idxzones:' .. taskId, group)
    decrementOrDrop(prefix .. 'taskcounts', taskId)
  end
end
`;

// The one way to run a Lua script (lib's and the broker's): EVALSHA with the pinned SHA-1, EVAL on NOSCRIPT.
// Scripts are the .lua files beside their callers; `npm run assets` writes them into scripts.generated.ts.

export interface LuaScript {
  /** `verbNoun`, as in the file name `verbNoun-<numKeys>.lua`. */
  readonly name: string;
  /** Fixed keys; a variadic script (header `KEYS[n..]`) takes these and any number after them. */
  readonly numKeys: number;
  readonly variadic: boolean;
  /** The text after `--- @include` expansion, as sent by EVAL. */
  readonly text: string;
  /** Pinned at build time; test/integration/lua-scripts checks it is what SCRIPT LOAD answers. */
  readonly sha1: string;
}

/** The narrowest client a script needs: @upstash/redis as is, ioredis through an adapter, or a test double. */
export interface ScriptRedis {
  evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

export async function runScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (script.variadic ? keys.length < script.numKeys : keys.length !== script.numKeys) {
    const least = script.variadic ? 'at least ' : '';
    throw new Error(`${script.name} takes ${least}${script.numKeys} keys, got ${keys.length}`);
  }
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

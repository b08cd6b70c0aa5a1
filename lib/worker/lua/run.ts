// Runs a script whose key count varies per call (fixed keys, then one per rate limit): EVALSHA, then EVAL on NOSCRIPT.
import type { LuaScript, ScriptRedis } from '../../store/lua/script.js';

export async function runVariadicScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length < script.numKeys) {
    throw new Error(`${script.name} takes at least ${script.numKeys} keys, got ${keys.length}`);
  }
  const argv = args.map(String);
  try {
    return await redis.evalsha(script.sha1, [...keys], argv);
  } catch (err) {
    if (!(err instanceof Error) || !/NOSCRIPT/i.test(err.message)) throw err;
    return await redis.eval(script.text, [...keys], argv);
  }
}

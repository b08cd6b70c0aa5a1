// Runs a script whose key count varies per call (fixed keys, then one per rate limit): EVALSHA, then EVAL on NOSCRIPT.
import { evalScript, type LuaScript, type ScriptRedis } from '../../store/lua/script.js';

export async function runVariadicScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length < script.numKeys) {
    throw new Error(`${script.name} takes at least ${script.numKeys} keys, got ${keys.length}`);
  }
  return evalScript(redis, script, keys, args);
}

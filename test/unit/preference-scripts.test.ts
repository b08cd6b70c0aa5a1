// The preference Lua scripts: each module is named `<verbNoun>-<numKeys>`, and its header documents exactly the keys it takes.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PREFERENCE_SCRIPTS } from '../../lib/store/preferences.js';
import { runScript, type ScriptRedis } from '../../lib/store/lua/script.js';

describe('preference scripts', () => {
  const files = readdirSync('lib/store/lua').filter((f) => /-\d+\.ts$/.test(f));

  it('has one module per script, named for the script and its key count', () => {
    expect(files.sort()).toEqual(PREFERENCE_SCRIPTS.map((s) => `${s.name}-${s.numKeys}.ts`).sort());
  });

  it('documents KEYS[1..numKeys] and uses no key beyond them', () => {
    for (const script of PREFERENCE_SCRIPTS) {
      const used = new Set([...script.text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
      expect(
        [...used].sort((a, b) => a - b),
        script.name,
      ).toEqual(Array.from({ length: script.numKeys }, (_, i) => i + 1));
      expect(script.text, script.name).toMatch(/Output:/);
      expect(script.text, script.name).not.toMatch(/redis\.call\('TIME'/); // time comes in ARGV
    }
  });

  it('sends EVALSHA first and the script text only when the server answers NOSCRIPT', async () => {
    const calls: string[] = [];
    let known = false;
    const fake: ScriptRedis = {
      evalsha: (async (sha: string) => {
        calls.push(`evalsha ${sha.slice(0, 8)}`);
        if (!known) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return 1;
      }) as ScriptRedis['evalsha'],
      eval: (async () => {
        calls.push('eval');
        known = true;
        return 1;
      }) as ScriptRedis['eval'],
    };
    const script = PREFERENCE_SCRIPTS[0]!;
    const keys = Array.from({ length: script.numKeys }, (_, i) => `k${i}`);
    await runScript(fake, script, keys, []);
    await runScript(fake, script, keys, []);
    const sha = script.sha1.slice(0, 8);
    expect(calls).toEqual([`evalsha ${sha}`, 'eval', `evalsha ${sha}`]);
    await expect(runScript(fake, script, ['only-one'], [])).rejects.toThrow(/takes \d+ keys/);
  });
});

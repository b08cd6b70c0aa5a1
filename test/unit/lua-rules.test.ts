// The rules every Lua script keeps, lib's and the broker's (one format, one runner); each exception is named and says why.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LATENESS_BOUNDS_MS } from '../../lib/metrics/buckets.js';
import { SCHEDULER_SCRIPTS } from '../../lib/scheduler/lua/scripts.generated.js';
import { runScript, type LuaScript, type ScriptRedis } from '../../lib/store/lua/script.js';
import { STORE_SCRIPTS } from '../../lib/store/lua/scripts.generated.js';
import { startJob, WORKER_SCRIPTS } from '../../lib/worker/lua/scripts.generated.js';
import { BROKER_SCRIPTS } from '../../scripts/broker/lua/scripts.generated.js';
import { LUA_GROUPS, SCRIPT_FILE } from '../../scripts/assets/render.js';

const GROUPS: Record<string, readonly LuaScript[]> = {
  SCHEDULER_SCRIPTS,
  STORE_SCRIPTS,
  WORKER_SCRIPTS,
  BROKER_SCRIPTS,
};
const ALL = Object.values(GROUPS).flat();

/**
 * Scripts that build key names inside Lua from a key-prefix argument their header declares. They read ids first
 * (users in a zset page, a user's task policies) and then touch keys derived from them: passing those keys in KEYS
 * would cost a round trip per page and a race between the read and the write. It is safe because every deployment
 * is one Redis node (one Upstash database, or redis-server locally; never Redis Cluster, where undeclared keys could
 * live on another shard): a script runs atomically over any key there, and replicas receive its effects as commands.
 * The key-count contract (`-<n>` in the file name, checked by the runner) still holds for what the caller passes; the
 * derived keys share the prefix the caller passes, laid out in lib/store/keys.ts.
 * The scheduler and worker scripts stay on declared keys only, as do the other broker scripts.
 */
const BUILDS_KEYS = new Set([
  'upsertUser', // index entries of each enabled task (indexHelpers)
  'deleteUser',
  'enableTask',
  'disableTask',
  'listUsers', // each listed user's hash and task count
  'readTaskStats', // one task's zone groups, named by an argument
  'claimDue', // the broker's message hashes, for ids read from the due zset
]);

/**
 * Scripts that may read the server clock. Only the start scripts, startJob and startBatch (which share the code that
 * reads it, startOne): admission time must follow execution order, so a worker slow to arrive cannot slip an entry
 * into a window that has moved on (a caller's clock cannot say that). It is called through pcall and never below
 * ARGV's `now`, and Redis >= 5 replicates a script's effects, not the script, so a non-deterministic command before
 * writes is allowed. readClock reads it and nothing else, to place a long batch's reservations on the worker's own
 * clock. Every other script takes time in ARGV: testable with a fake clock, and the same on every replay.
 */
const READS_CLOCK = new Set(['startJob', 'startBatch', 'readClock']);

const headerOf = (s: LuaScript) => s.text.slice(0, s.text.indexOf(']]'));
const codeOf = (s: LuaScript) => s.text.slice(s.text.indexOf(']]') + 2);
const indexes = (code: string, of: 'KEYS' | 'ARGV') =>
  new Set([...code.matchAll(new RegExp(`${of}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const each = ALL.map((s) => [s.name, s] as const);

describe('Lua scripts', () => {
  it.each(LUA_GROUPS)(
    '$dir holds one file per script, named verbNoun-<numKeys>.lua, and the fragments they include',
    ({ dir, list }) => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
      expect(files.filter((f) => SCRIPT_FILE.test(f)).sort()).toEqual(
        GROUPS[list]!.map((s) => `${s.name}-${s.numKeys}.lua`).sort(),
      );
      const sources = files.map((f) => readFileSync(`${dir}/${f}`, 'utf8')).join('\n');
      for (const fragment of files.filter((f) => !SCRIPT_FILE.test(f))) {
        expect(sources, `${dir}/${fragment} is included somewhere`).toContain(
          `--- @include "${fragment.replace(/\.lua$/, '')}"`,
        );
      }
    },
  );

  it.each(each)('%s documents KEYS, ARGV and the output', (_name, script) => {
    expect(script.text.startsWith('--[[\n'), 'opens with its header').toBe(true);
    const header = headerOf(script);
    expect(header).toMatch(/Input:[\s\S]*Output/);
    for (const i of range(script.numKeys)) expect(header).toContain(`KEYS[${i}]`);
    for (const i of indexes(codeOf(script), 'ARGV')) expect(header).toContain(`ARGV[${i}]`);
    // A variadic script says so where its extra keys start; the runner then accepts numKeys or more.
    expect(header.includes(`KEYS[${script.numKeys + 1}..]`)).toBe(script.variadic);
    expect(/KEYS\[\d+\.\.\]/.test(header)).toBe(script.variadic);
  });

  it.each(each)('%s uses exactly the keys it declares', (_name, script) => {
    const code = codeOf(script);
    expect([...indexes(code, 'KEYS')].sort((a, b) => a - b)).toEqual(range(script.numKeys));
    // Keys past the fixed ones are reached only by a loop to #KEYS, and only by a variadic script.
    expect(/#KEYS/.test(code)).toBe(script.variadic);
  });

  it.each(each)('%s builds key names only when listed in BUILDS_KEYS', (_name, script) => {
    const code = codeOf(script);
    const prefixArg = /ARGV\[(\d+)\][^\n]*key prefix/.exec(headerOf(script))?.[1];
    const builds =
      /\bprefix\s*\.\./.test(code) ||
      (prefixArg !== undefined && new RegExp(`ARGV\\[${prefixArg}\\]\\s*\\.\\.`).test(code)) ||
      /redis\.call\(\s*['"]\w+['"]\s*,\s*[^,)]*\.\./.test(code);
    expect(builds).toBe(BUILDS_KEYS.has(script.name));
    if (builds) expect(prefixArg, 'declares the key prefix it builds from').toBeDefined();
  });

  it.each(each)('%s reads the clock only when listed in READS_CLOCK', (_name, script) => {
    expect(/['"]TIME['"]/.test(codeOf(script))).toBe(READS_CLOCK.has(script.name));
  });

  it('every exception names exactly one real script', () => {
    for (const name of [...BUILDS_KEYS, ...READS_CLOCK]) {
      expect(
        ALL.filter((s) => s.name === name),
        name,
      ).toHaveLength(1);
    }
  });

  it('startJob buckets lateness with exactly the bounds the metrics renderer reads', () => {
    const table = /local LATENESS_BOUNDS = \{([^}]*)\}/.exec(startJob.text)?.[1] ?? '';
    expect(table.split(',').map(Number)).toEqual([...LATENESS_BOUNDS_MS]);
  });
});

describe('runScript', () => {
  function fakeRedis(calls: string[]): ScriptRedis {
    let known = false;
    return {
      evalsha: async (sha: string) => {
        calls.push(`evalsha ${sha.slice(0, 8)}`);
        if (!known) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return 1;
      },
      eval: async () => {
        calls.push('eval');
        known = true;
        return 1;
      },
    };
  }

  it('sends EVALSHA first and the script text only when the server answers NOSCRIPT', async () => {
    const calls: string[] = [];
    const fake = fakeRedis(calls);
    const script = STORE_SCRIPTS[0]!;
    const keys = Array.from({ length: script.numKeys }, (_, i) => `k${i}`);
    await runScript(fake, script, keys, []);
    await runScript(fake, script, keys, []);
    const sha = script.sha1.slice(0, 8);
    expect(calls).toEqual([`evalsha ${sha}`, 'eval', `evalsha ${sha}`]);
    await expect(runScript(fake, script, ['only-one'], [])).rejects.toThrow(/takes \d+ keys/);
  });

  it('holds a variadic script to at least its fixed keys', async () => {
    const fake = fakeRedis([]);
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);
    await expect(runScript(fake, startJob, keys(6), [])).rejects.toThrow(/takes at least 7 keys/);
    await expect(runScript(fake, startJob, keys(7), [])).resolves.toBe(1);
    await expect(runScript(fake, startJob, keys(10), [])).resolves.toBe(1);
  });
});

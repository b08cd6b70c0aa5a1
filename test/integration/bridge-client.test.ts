// Contract: the unmodified @upstash/redis client works against the local REST bridge in front of a real redis-server.
import { createHash } from 'node:crypto';
import { Redis, type RedisConfigNodejs } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'bridge-client-test-token';
const bridge = useBridge(TOKEN);

function client(opts: Partial<RedisConfigNodejs> = {}): Redis {
  return new Redis({ url: bridge.url, token: TOKEN, retry: false, ...opts });
}

// Auto-pipelining (the default) sends single commands through /pipeline; without it they go to POST /.
const modes: { mode: string; opts: Partial<RedisConfigNodejs> }[] = [
  { mode: 'auto-pipelined', opts: {} },
  { mode: 'direct POST /', opts: { enableAutoPipelining: false } },
];

describe.each(modes)('data types through the bridge ($mode)', ({ opts }) => {
  it('strings: set, get, incr, nil, expiry', async () => {
    const r = client(opts);
    const p = uniquePrefix('str');
    expect(await r.set(`${p}a`, 'hello')).toBe('OK');
    expect(await r.get(`${p}a`)).toBe('hello');
    expect(await r.get(`${p}missing`)).toBeNull();
    expect(await r.incr(`${p}n`)).toBe(1);
    expect(await r.incrby(`${p}n`, 41)).toBe(42);
    expect(await r.set(`${p}x`, 'v', { ex: 100 })).toBe('OK');
    const ttl = await r.ttl(`${p}x`);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await r.mget(`${p}a`, `${p}missing`)).toEqual(['hello', null]);
  });

  it('hashes: hset, hget, hgetall', async () => {
    const r = client(opts);
    const k = `${uniquePrefix('hash')}h`;
    expect(await r.hset(k, { name: 'ada', visits: 3, note: 'ünï ✓' })).toBe(3);
    expect(await r.hget(k, 'name')).toBe('ada');
    expect(await r.hgetall(k)).toEqual({ name: 'ada', visits: 3, note: 'ünï ✓' });
    expect(await r.hgetall(`${k}:none`)).toBeNull();
  });

  it('sorted sets: zadd, zrange with scores, zscore', async () => {
    const r = client(opts);
    const k = `${uniquePrefix('zset')}z`;
    expect(
      await r.zadd(k, { score: 2.5, member: 'b' }, { score: 1, member: 'a' }, { score: 10, member: 'c' }),
    ).toBe(3);
    expect(await r.zrange(k, 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await r.zrange(k, 0, -1, { withScores: true })).toEqual(['a', 1, 'b', 2.5, 'c', 10]);
    expect(await r.zscore(k, 'b')).toBe(2.5);
    expect(await r.zrange(k, 2, 5, { byScore: true })).toEqual(['b']);
  });

  it('sets and lists', async () => {
    const r = client(opts);
    const p = uniquePrefix('coll');
    expect(await r.sadd(`${p}s`, 'x', 'y', 'x')).toBe(2);
    expect((await r.smembers(`${p}s`)).sort()).toEqual(['x', 'y']);
    expect(await r.sismember(`${p}s`, 'y')).toBe(1);
    expect(await r.rpush(`${p}l`, 'one', 'two', 'three')).toBe(3);
    expect(await r.lrange(`${p}l`, 0, -1)).toEqual(['one', 'two', 'three']);
    expect(await r.lpop(`${p}l`)).toBe('one');
    expect(await r.llen(`${p}l`)).toBe(2);
  });
});

describe('values that could be mangled on the way', () => {
  // "aGk=" is valid base64 for "hi": a bridge that skips encoding, or encodes twice, changes it.
  const tricky = [
    'aGk=',
    'OK',
    'héllo wörld ✓ 日本語 🚀',
    'tab\tnew\nline "q" \\ nul\u0000 \u0001\u007f',
    '{not json',
    ' spaced ',
  ];

  for (const responseEncoding of [undefined, false] as const) {
    const label = responseEncoding === false ? 'base64 off' : 'base64 on (default)';
    it(`round-trips unicode and binary-ish strings, top-level and nested (${label})`, async () => {
      const r = client({
        automaticDeserialization: false,
        ...(responseEncoding === false ? { responseEncoding } : {}),
      });
      const p = uniquePrefix('raw');
      for (const [i, value] of tricky.entries()) {
        await r.set(`${p}${i}`, value);
        expect(await r.get(`${p}${i}`)).toBe(value);
      }
      await r.rpush(`${p}list`, ...tricky);
      expect(await r.lrange(`${p}list`, 0, -1)).toEqual(tricky);
      await r.hset(`${p}hash`, { f: 'aGk=', ok: 'OK' });
      // Without automatic deserialization the client hands back Redis's flat field/value list.
      expect(await r.hgetall(`${p}hash`)).toEqual(['f', 'aGk=', 'ok', 'OK']);
      // Nested arrays: a Lua table inside a table, mixed with integers and a status reply.
      const nested = await r.eval('return {1, "aGk=", {2, "OK", {"ü"}}, redis.status_reply("OK")}', [], []);
      expect(nested).toEqual([1, 'aGk=', [2, 'OK', ['ü']], 'OK']);
    });
  }

  it('keeps JSON values as the client stored them (automatic deserialization on)', async () => {
    const r = client();
    const k = `${uniquePrefix('json')}doc`;
    await r.set(k, { a: 1, b: ['x', 'ÿ'], c: null });
    expect(await r.get(k)).toEqual({ a: 1, b: ['x', 'ÿ'], c: null });
  });
});

describe('pipeline and multi-exec', () => {
  it('pipeline returns each result in order and keeps errors per command', async () => {
    const r = client();
    const p = uniquePrefix('pipe');
    const results = await r
      .pipeline()
      .set(`${p}a`, 'text')
      .incr(`${p}a`)
      .get(`${p}a`)
      .zadd(`${p}z`, { score: 1, member: 'm' })
      .exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: 'OK', error: undefined });
    expect(results[1]?.error).toMatch(/^ERR value is not an integer/);
    expect(results[2]).toEqual({ result: 'text', error: undefined });
    expect(results[3]).toEqual({ result: 1, error: undefined });
  });

  it('pipeline without keepErrors throws naming the failing command', async () => {
    const r = client();
    const k = `${uniquePrefix('pipe')}a`;
    await expect(r.pipeline().set(k, 'x').incr(k).exec()).rejects.toThrow(
      /Command 2 \[ incr \] failed: ERR value is not an integer/,
    );
  });

  it('multi-exec runs all commands and reports exec-time errors per command', async () => {
    const r = client();
    const p = uniquePrefix('multi');
    const results = await r
      .multi()
      .set(`${p}n`, 5)
      .incr(`${p}n`)
      .lpush(`${p}n`, 'x')
      .get(`${p}n`)
      .exec({ keepErrors: true });
    expect(results.map((x) => x.result)).toEqual(['OK', 6, undefined, 6]);
    expect(results[2]?.error).toMatch(/^WRONGTYPE/);
  });

  it('multi-exec aborted at queue time (EXECABORT) throws and applies nothing', async () => {
    const r = client();
    const k = `${uniquePrefix('abort')}k`;
    // DEL without keys is a wrong-arity error while queueing, so EXEC discards the whole transaction.
    await expect(r.multi().set(k, 'must-not-exist').del().exec()).rejects.toThrow(/EXECABORT/);
    expect(await r.get(k)).toBeNull();
  });

  it('concurrent transactions never interleave', async () => {
    const r = client({ enableAutoPipelining: false });
    const k = `${uniquePrefix('atomic')}counter`;
    const runs = await Promise.all(
      Array.from({ length: 40 }, () => r.multi().incr(k).incr(k).incr(k).exec()),
    );
    for (const [a, b, c] of runs) {
      expect(b).toBe(a + 1);
      expect(c).toBe(a + 2);
    }
    expect(await r.get(k)).toBe(120);
  });
});

describe('scripts', () => {
  it('eval and evalsha of a plain script', async () => {
    const r = client();
    const k = `${uniquePrefix('lua')}k`;
    const script = 'redis.call("SET", KEYS[1], ARGV[1]); return {redis.call("GET", KEYS[1]), 7}';
    expect(await r.eval(script, [k], ['v1'])).toEqual(['v1', 7]);
    const sha = await r.scriptLoad(script);
    expect(await r.evalsha(sha, [k], ['v2'])).toEqual(['v2', 7]);
  });

  it('createScript with an Upstash shebang: NOSCRIPT falls back to EVAL, then EVALSHA of the client SHA works', async () => {
    const r = client();
    const p = uniquePrefix('shebang');
    const script = r.createScript<[string, number]>(
      `#!lua flags=allow-key-locking\n-- ${p}\nreturn {ARGV[1], redis.call("INCR", KEYS[1])}`,
    );
    // The bridge has never seen this script: EVALSHA answers NOSCRIPT and the client retries with EVAL.
    expect(await script.exec([`${p}n`], ['a'])).toEqual(['a', 1]);
    // The client's SHA (of the original text) must now resolve to the rewritten script.
    expect(await r.evalsha(script.sha1, [`${p}n`], ['b'])).toEqual(['b', 2]);
    expect(await script.evalsha([`${p}n`], ['c'])).toEqual(['c', 3]);
  });

  it('scriptLoad of a shebang script returns the client SHA; evalsha and scriptExists accept it', async () => {
    const r = client();
    const p = uniquePrefix('load');
    const text = `#!lua flags=allow-key-locking\n-- ${p}\nreturn ARGV[1] .. "!"`;
    const clientSha = createHash('sha1').update(text, 'utf8').digest('hex');
    const loaded = await r.scriptLoad(text);
    expect(loaded).toBe(clientSha);
    expect(await r.scriptExists(loaded, 'f'.repeat(40))).toEqual([1, 0]);
    expect(await r.evalsha(loaded, [], ['hey'])).toBe('hey!');
  });

  it('evalsha of an unknown SHA surfaces NOSCRIPT', async () => {
    const r = client();
    await expect(r.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it('read-only scripts run through EVAL_RO / EVALSHA_RO', async () => {
    const r = client();
    const k = `${uniquePrefix('ro')}k`;
    await r.set(k, 'stored');
    const script = r.createScript<string, true>(`-- ${k}\nreturn redis.call("GET", KEYS[1])`, {
      readonly: true,
    });
    expect(await script.exec([k], [])).toBe('stored');
    expect(await script.exec([k], [])).toBe('stored');
    await expect(r.evalRo('return redis.call("SET", KEYS[1], "x")', [k], [])).rejects.toThrow(
      /Write commands are not allowed/,
    );
  });
});

describe('auth and refusals through the client', () => {
  it('a wrong token makes every call throw', async () => {
    const r = new Redis({ url: bridge.url, token: 'wrong-token', retry: false });
    await expect(r.get('anything')).rejects.toThrow(/WRONGPASS invalid or missing auth token/);
    await expect(r.pipeline().get('a').exec()).rejects.toThrow(/WRONGPASS/);
  });

  it('a refused command throws with its name', async () => {
    const r = client({ enableAutoPipelining: false });
    await expect(r.exec(['BLPOP', 'k', '0'])).rejects.toThrow(/BLPOP/);
  });
});

// Contract: the bridge's raw HTTP answers match Upstash's REST shapes (auth, encoding, errors, refusals, limits).
import { describe, expect, it } from 'vitest';
import { useBridge } from '../helpers/bridge.js';
import { uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'bridge-http-test-token';
const bridge = useBridge(TOKEN);

interface Call {
  path?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  base64?: boolean;
  token?: string | null;
  method?: string;
}

async function call({ path = '', body, rawBody, base64 = false, token = TOKEN, method = 'POST' }: Call) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (base64) headers['upstash-encoding'] = 'base64';
  const res = await fetch(`${bridge.url}${path}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: rawBody ?? JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as unknown };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('auth', () => {
  it('refuses a missing or wrong token with 401 and an Upstash-style error', async () => {
    for (const token of [null, 'wrong', `${TOKEN}x`, '']) {
      const res = await call({ body: ['PING'], token });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: 'WRONGPASS invalid or missing auth token' });
    }
  });

  it('refuses before running anything', async () => {
    const k = `${uniquePrefix('auth')}k`;
    expect((await call({ body: ['SET', k, 'x'], token: 'wrong' })).status).toBe(401);
    expect((await call({ body: ['EXISTS', k] })).json).toEqual({ result: 0 });
  });

  it('accepts the _token query parameter', async () => {
    const res = await call({ path: `/ping?_token=${TOKEN}`, token: null, method: 'GET' });
    expect(res).toMatchObject({ status: 200, json: { result: 'PONG' } });
  });
});

describe('encoding', () => {
  it('base64 encodes every string at any depth, except a top-level OK; integers and nil stay as they are', async () => {
    const p = uniquePrefix('enc');
    expect((await call({ body: ['SET', `${p}s`, 'héllo'], base64: true })).json).toEqual({ result: 'OK' });
    expect((await call({ body: ['GET', `${p}s`], base64: true })).json).toEqual({ result: b64('héllo') });
    expect((await call({ body: ['GET', `${p}none`], base64: true })).json).toEqual({ result: null });
    expect((await call({ body: ['INCR', `${p}n`], base64: true })).json).toEqual({ result: 1 });
    await call({ body: ['RPUSH', `${p}l`, 'OK', 'aGk='] });
    expect((await call({ body: ['LRANGE', `${p}l`, 0, -1], base64: true })).json).toEqual({
      result: [b64('OK'), b64('aGk=')],
    });
    const nested = await call({ body: ['EVAL', 'return {1, {"x", {2, "OK"}}, false}', 0], base64: true });
    expect(nested.json).toEqual({ result: [1, [b64('x'), [2, b64('OK')]], null] });
  });

  it('without the header sends plain strings', async () => {
    const p = uniquePrefix('plain');
    await call({ body: ['HSET', `${p}h`, 'f', 'aGk=', 'g', 'ü'] });
    expect((await call({ body: ['HGETALL', `${p}h`] })).json).toEqual({ result: ['f', 'aGk=', 'g', 'ü'] });
    expect((await call({ body: ['ZADD', `${p}z`, 1.5, 'm'] })).json).toEqual({ result: 1 });
    expect((await call({ body: ['ZRANGE', `${p}z`, 0, -1, 'WITHSCORES'] })).json).toEqual({
      result: ['m', '1.5'],
    });
  });

  it('writes 64-bit integers with every digit', async () => {
    const k = `${uniquePrefix('big')}n`;
    const res = await call({ body: ['INCRBY', k, '9007199254740993'] });
    expect(res.text).toBe('{"result":9007199254740993}');
  });
});

describe('errors', () => {
  it('a Redis error is HTTP 400 {"error": "ERR ..."}', async () => {
    const res = await call({ body: ['GET'] });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: "ERR wrong number of arguments for 'get' command" });
  });

  it('errors are never base64 encoded', async () => {
    const res = await call({ body: ['NOSUCHCOMMAND', 'x'], base64: true });
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^ERR unknown command 'NOSUCHCOMMAND'/);
  });

  it('bad JSON and wrong body shapes are 400s, and the bridge keeps serving', async () => {
    const bad: Call[] = [
      { rawBody: '{not json' },
      { body: { cmd: 'GET' } },
      { body: [] },
      { body: ['SET', 'k', { nested: true }] },
      { body: ['SET', 'k', null] },
      { path: '/pipeline', body: [] },
      { path: '/pipeline', body: ['GET', 'k'] },
      { path: '/multi-exec', body: [[]] },
      { path: '/pipeline', rawBody: '' },
    ];
    for (const c of bad) {
      const res = await call(c);
      expect(res.status, JSON.stringify(c)).toBe(400);
      expect((res.json as { error: string }).error).toMatch(/^ERR /);
    }
    expect((await call({ body: ['PING'] })).json).toEqual({ result: 'PONG' });
  });

  it('a body over 10 MB is refused with 413', async () => {
    const big = JSON.stringify(['SET', 'k', 'x'.repeat(10 * 1024 * 1024)]);
    const res = await call({ rawBody: big });
    expect(res.status).toBe(413);
    expect((res.json as { error: string }).error).toMatch(/larger than/);
  });
});

describe('refused commands', () => {
  const refused: [string, ...(string | number)[]][] = [
    ['BLPOP', 'k', '0'],
    ['BRPOP', 'k', '0'],
    ['BZPOPMIN', 'k', '0'],
    ['SELECT', '1'],
    ['WATCH', 'k'],
    ['MULTI'],
    ['EXEC'],
    ['SUBSCRIBE', 'ch'],
    ['MONITOR'],
    ['SHUTDOWN'],
    ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'],
  ];

  it.each(refused)('%s is a 400 naming the command', async (...command) => {
    const res = await call({ body: command });
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toContain(`'${String(command[0]).toUpperCase()}`);
  });

  it('XREAD without BLOCK still works (a key may be called "block")', async () => {
    const k = `${uniquePrefix('xs')}block`;
    await call({ body: ['XADD', k, '1-1', 'f', 'v'] });
    const res = await call({ body: ['XREAD', 'COUNT', 1, 'STREAMS', k, '0'] });
    expect(res.json).toEqual({ result: [[k, [['1-1', ['f', 'v']]]]] });
  });

  it('in a pipeline only the refused command fails', async () => {
    const k = `${uniquePrefix('pipe')}k`;
    const res = await call({
      path: '/pipeline',
      body: [
        ['SET', k, '1'],
        ['BLPOP', k, '0'],
        ['GET', k],
      ],
    });
    expect(res.status).toBe(200);
    const [first, second, third] = res.json as { result?: unknown; error?: string }[];
    expect(first).toEqual({ result: 'OK' });
    expect(second?.error).toMatch(/'BLPOP'/);
    expect(third).toEqual({ result: '1' });
  });

  it('in a transaction a refused command fails the whole request and nothing runs', async () => {
    const k = `${uniquePrefix('tx')}k`;
    const res = await call({
      path: '/multi-exec',
      body: [
        ['SET', k, '1'],
        ['SELECT', '2'],
      ],
    });
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/'SELECT'/);
    expect((await call({ body: ['EXISTS', k] })).json).toEqual({ result: 0 });
  });
});

describe('pipeline and multi-exec shapes', () => {
  it('/multi-exec answers an array of {result}|{error}', async () => {
    const k = `${uniquePrefix('tx')}k`;
    const res = await call({
      path: '/multi-exec',
      body: [
        ['SET', k, 'a'],
        ['INCR', k],
        ['GET', k],
      ],
      base64: true,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual([
      { result: 'OK' },
      { error: 'ERR value is not an integer or out of range' },
      { result: b64('a') },
    ]);
  });

  it('/multi-exec aborted while queueing is a 400 EXECABORT and applies nothing', async () => {
    const k = `${uniquePrefix('tx')}k`;
    const res = await call({ path: '/multi-exec', body: [['SET', k, 'a'], ['GET']] });
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^EXECABORT/);
    expect((await call({ body: ['EXISTS', k] })).json).toEqual({ result: 0 });
  });
});

describe('path form', () => {
  it('GET /set/k/v, GET /get/k, query options and a POST body as the last argument', async () => {
    const k = `${uniquePrefix('path')}k`;
    const enc = encodeURIComponent(k);
    expect((await call({ path: `/set/${enc}/v%2Fslash?EX=100`, method: 'GET' })).json).toEqual({
      result: 'OK',
    });
    expect((await call({ path: `/get/${enc}`, method: 'GET' })).json).toEqual({ result: 'v/slash' });
    const ttl = (await call({ path: `/ttl/${enc}`, method: 'GET' })).json as { result: number };
    expect(ttl.result).toBeGreaterThan(90);
    expect((await call({ path: `/set/${enc}`, rawBody: 'from body' })).json).toEqual({ result: 'OK' });
    expect((await call({ path: `/get/${enc}`, method: 'GET', base64: true })).json).toEqual({
      result: b64('from body'),
    });
  });
});

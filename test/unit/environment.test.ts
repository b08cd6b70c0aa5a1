// The one list of environment variables (config/environment.cjs) against what the code reads, what serverless.yml
// passes to the functions, the README's table, and the checks a deployed stage applies at deploy and at cold start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environment, isKnown, stageProblems, VARIABLES, variablesTable } from '../../config/environment.cjs';
import { CONFIG_VARIABLES, loadConfig } from '../../lib/config.js';
import { ADMIN_LIMIT_VARIABLES } from '../../lib/http/admin-limits.js';
import { ConfigError } from '../../lib/errors.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|cjs|js)$/.test(name) ? [path] : [];
  });
}

/** Every variable name the code reads, with the file that reads it. */
function variablesReadByCode(): Map<string, string> {
  const reads = new Map<string, string>();
  const patterns = [
    /process\.env\.([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_])/g,
    /\benv\[['"]([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_])['"]\]/g,
    /\benv\.([A-Z][A-Z0-9_]+[A-Z0-9])(?![A-Z0-9_])/g,
    /\b(?:intEnv|port)\(['"]([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_])['"]/g,
    /\benv:([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_])/g,
    /export const ENV_[A-Z_]+ = '([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_])'/g,
  ];
  const files = [
    ...filesUnder('lib'),
    ...filesUnder('functions'),
    ...filesUnder('scripts'),
    ...filesUnder('config'),
  ];
  for (const file of [...files, 'serverless.yml']) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) reads.set(m[1]!, file);
  }
  for (const name of CONFIG_VARIABLES) reads.set(name, 'lib/config.ts');
  for (const name of ADMIN_LIMIT_VARIABLES) reads.set(name, 'lib/http/admin-limits.ts');
  return reads;
}

describe('the variable list', () => {
  const reads = variablesReadByCode();

  it('holds every variable the code reads', () => {
    const unknown = [...reads].filter(([name]) => !isKnown(name)).map(([name, file]) => `${name} (${file})`);
    expect(unknown).toEqual([]);
    // The scan itself finds reads in each place it looks (a broken pattern would pass the check above vacuously).
    for (const name of [
      'BRIDGE_PORT',
      'DEV_DATA_DIR',
      'STAGGER_FANOUT_BUDGET_MS',
      'STAGGER_ALLOWED_HOSTS',
      'AWS_REGION',
    ])
      expect(reads.has(name), name).toBe(true);
  });

  it('lists nothing the code does not read', () => {
    const stale = VARIABLES.filter((v) => !v.name.includes('<') && !reads.has(v.name)).map((v) => v.name);
    expect(stale).toEqual([]);
    // The one pattern: read by prefix where the catalog overrides are parsed.
    expect(readFileSync('lib/domain/catalog-env.ts', 'utf8')).toContain(
      "ENV_RATE_LIMIT_PREFIX = 'STAGGER_RATE_LIMIT_'",
    );
  });

  it("is the README's table, row for row", () => {
    const readme = readFileSync('README.md', 'utf8');
    const m = /<!-- variables:begin -->\n([\s\S]*?)\n<!-- variables:end -->/.exec(readme);
    expect(
      m,
      'README.md needs the variables table between its markers (npm run docs:variables)',
    ).not.toBeNull();
    expect(m![1]).toBe(variablesTable());
  });

  it('names only params that serverless.yml defines for both stages, and uses each', () => {
    const sls = parse(readFileSync('serverless.yml', 'utf8')) as {
      params: Record<string, Record<string, unknown>>;
      provider: { environment: unknown };
    };
    expect(sls.provider.environment).toBe('${file(./config/environment.cjs):environment}');
    const used = VARIABLES.flatMap((v) => (v.param ? [v.param] : []));
    for (const stage of ['local', 'prod'])
      expect(Object.keys(sls.params[stage]!).sort()).toEqual([...used].sort());
  });
});

describe("serverless.yml's function environment", () => {
  const resolveVariable = async (address: string) => `<${address}>`;
  const withEnv = async <T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> => {
    const saved = { ...process.env };
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      return await fn();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  };
  const prodShell = {
    STAGGER_TARGET_BASE_URL: 'https://api.example.com',
    STAGGER_ALLOWED_HOSTS: 'api.example.com',
  };

  it('passes every function variable and secret, each set override, and every STAGGER_RATE_LIMIT_<KEY>', async () => {
    const env = await withEnv(
      {
        ...prodShell,
        STAGGER_LIMIT_GUARD_MS: '400',
        STAGGER_RATE_LIMIT_GLOBAL: '200/1s',
        STAGGER_RATE_LIMIT_SYNC: '5/1s',
        STAGGER_FANOUT_PAGE_SIZE: undefined,
      },
      () => environment({ options: { stage: 'prod' }, resolveVariable }),
    );
    expect(env['STAGE']).toBe('prod');
    for (const v of VARIABLES.filter((x) => x.param)) expect(env[v.name], v.name).toBe(`<param:${v.param}>`);
    expect(env['STAGGER_TARGET_BASE_URL']).toBe('https://api.example.com');
    expect(env['STAGGER_LIMIT_GUARD_MS']).toBe('400');
    expect(env['STAGGER_RATE_LIMIT_GLOBAL']).toBe('200/1s');
    expect(env['STAGGER_RATE_LIMIT_SYNC']).toBe('5/1s');
    // Unset: left out, so the code's default applies (an empty string would read as 0).
    expect('STAGGER_FANOUT_PAGE_SIZE' in env).toBe(false);
  });

  it.each([
    [{ STAGGER_TARGET_BASE_URL: undefined }, /^STAGGER_TARGET_BASE_URL is unset/],
    [
      { STAGGER_TARGET_BASE_URL: 'http://127.0.0.1:4000' },
      /^STAGGER_TARGET_BASE_URL points at a loopback address/,
    ],
    [
      { STAGGER_TARGET_BASE_URL: 'http://localhost:4000' },
      /^STAGGER_TARGET_BASE_URL points at a loopback address/,
    ],
    [{ STAGGER_TARGET_BASE_URL: 'not a url' }, /^STAGGER_TARGET_BASE_URL is not an http\(s\) URL/],
    [{ STAGGER_ALLOWED_HOSTS: '' }, /^STAGGER_ALLOWED_HOSTS is unset/],
    [
      { STAGGER_ALLOWED_HOSTS: 'other.example.com' },
      /^STAGGER_ALLOWED_HOSTS does not include api\.example\.com/,
    ],
  ])('refuses prod with %o, in one line naming the variable', async (change, message) => {
    const attempt = withEnv({ ...prodShell, ...change }, () =>
      environment({ options: { stage: 'prod' }, resolveVariable }),
    );
    const error = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(message);
    expect(error.stack).not.toContain('\n');
  });

  it('allows a loopback or unset target on the local stage', async () => {
    const env = await withEnv(
      { STAGGER_TARGET_BASE_URL: 'http://127.0.0.1:4000', STAGGER_ALLOWED_HOSTS: undefined },
      () => environment({ options: { stage: 'local' }, resolveVariable }),
    );
    expect(env['STAGGER_TARGET_BASE_URL']).toBe('http://127.0.0.1:4000');
    expect(stageProblems('local', {})).toEqual([]);
  });
});

describe('configuration at cold start', () => {
  const good = {
    UPSTASH_REDIS_REST_URL: 'https://eu1-example.upstash.io',
    UPSTASH_REDIS_REST_TOKEN: 't',
    QSTASH_URL: 'https://qstash.upstash.io',
    QSTASH_TOKEN: 'q',
    QSTASH_CURRENT_SIGNING_KEY: 'c',
    QSTASH_NEXT_SIGNING_KEY: 'n',
    STAGGER_ADMIN_API_KEYS: 'a-long-enough-admin-key',
    STAGGER_PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com',
    STAGE: 'prod',
    STAGGER_TARGET_BASE_URL: 'https://api.example.com',
    STAGGER_ALLOWED_HOSTS: 'api.example.com',
  };
  const messageOf = (env: Record<string, string | undefined>): string => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return 'started';
  };

  it('starts prod with a reachable target and every secret key', () => {
    expect(messageOf(good)).toBe('started');
  });

  it('refuses prod with an unset or loopback target, or no allowlist, naming the variable', () => {
    expect(messageOf({ ...good, STAGGER_TARGET_BASE_URL: undefined })).toMatch(
      /STAGGER_TARGET_BASE_URL is unset/,
    );
    expect(messageOf({ ...good, STAGGER_TARGET_BASE_URL: 'http://127.0.0.1:4000' })).toMatch(
      /STAGGER_TARGET_BASE_URL points at a loopback address/,
    );
    expect(messageOf({ ...good, STAGGER_ALLOWED_HOSTS: '' })).toMatch(/STAGGER_ALLOWED_HOSTS is unset/);
  });

  it('names a missing secret key as a key of the stage secret, without its value', () => {
    const message = messageOf({ ...good, QSTASH_NEXT_SIGNING_KEY: '', STAGGER_ADMIN_API_KEYS: 'short-one' });
    expect(message).toContain('QSTASH_NEXT_SIGNING_KEY (a key of the stagger/prod secret): unset');
    expect(message).toContain('STAGGER_ADMIN_API_KEYS (a key of the stagger/prod secret)');
    expect(message).not.toContain('short-one');
  });

  it('starts locally with the loopback demo target', () => {
    const local = {
      ...good,
      STAGE: 'local',
      STAGGER_TARGET_BASE_URL: 'http://127.0.0.1:4000',
      STAGGER_ALLOWED_HOSTS: '',
    };
    expect(messageOf(local)).toBe('started');
  });
});

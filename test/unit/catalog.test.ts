// The task catalog: the shipped and generated catalogs load, bad ones are refused field by field, targets stay on allowed hosts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogFile, loadCatalogFileSync } from '../../lib/catalog-file.js';
import { CatalogError, parseCatalog, zoneOf, type Catalog, type Task } from '../../lib/domain/catalog.js';
import { TargetError, renderTarget } from '../../lib/domain/target.js';
import { planSlot } from '../../lib/scheduler/plan.js';
import { schedulableTasks } from '../../lib/scheduler/tasks.js';
import { generateCatalogYaml } from '../../scripts/generate-catalog.js';

const SHIPPED = readFileSync('config/tasks.yaml', 'utf8');

/** The problems parseCatalog reports, as "path: message" lines. */
function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseCatalog(text, env);
  } catch (error) {
    if (error instanceof CatalogError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected the catalog to be refused');
}

const pathsOf = (text: string, env: Record<string, string> = {}) =>
  problemsOf(text, env).map((line) => line.split(': ')[0] ?? '');

const HEADER = `
version: 1
baseUrl: http://127.0.0.1:4000
allowedHosts: [127.0.0.1, localhost]
rateLimits:
  global: { limit: 10, window: 1s }
  mail: { limit: 5, window: 1s }
tasks:
`;

/** A valid task in YAML, with fields replaced or added by `extra` lines. */
function task(id: string, extra: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    id,
    description: 'A task',
    schedule: '{ every: day, at: "07:00" }',
    zone: '{ policy: user }',
    spread: '10m',
    target: '{ method: POST, url: "{{baseUrl}}/tasks/x", body: { userId: "{{userId}}" } }',
    ...extra,
  };
  return `  - ${Object.entries(fields)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n    ')}\n`;
}

describe('the shipped catalog', () => {
  const catalog = parseCatalog(SHIPPED, {});

  it('is valid as shipped, with ids that are unique (what `npm run dev` and a deploy load)', () => {
    expect(catalog.tasks.length).toBeGreaterThan(0);
    expect(new Set(catalog.tasks.map((t) => t.id)).size).toBe(catalog.tasks.length);
  });

  it('points every target at the local dev target by default', () => {
    for (const t of catalog.tasks)
      expect(t.target.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:4000/tasks/${t.id}(\\?|$)`));
  });

  it('mixes fixed and user zones', () => {
    const policies = new Set(catalog.tasks.map((t) => t.zone.policy));
    expect(policies).toEqual(new Set(['fixed', 'user']));
    const backup = catalog.tasks.find((t) => t.id === 'weekly_backup') as Task;
    expect(zoneOf(backup, 'Asia/Tokyo')).toBe('America/New_York');
    const report = catalog.tasks.find((t) => t.id === 'daily_user_report') as Task;
    expect(zoneOf(report, 'Asia/Tokyo')).toBe('Asia/Tokyo');
  });

  it('loads from its file, sync and async, as parsing its text does, with the environment applied', async () => {
    const env = { STAGGER_DISABLED_TASKS: catalog.tasks[0]!.id };
    const expected = parseCatalog(SHIPPED, env);
    expect(expected.tasks[0]!.enabled).toBe(false);
    expect(await loadCatalogFile('config/tasks.yaml', env)).toEqual(expected);
    expect(loadCatalogFileSync('config/tasks.yaml', env)).toEqual(expected);
  });
});

describe('defaults and normalised values', () => {
  const catalog = parseCatalog(HEADER + task('a'), {});
  const [a] = catalog.tasks as [Task];

  it('fills timeoutMs 10000, retries 3, no rate limits, enabled, catchUp latest', () => {
    expect([a.timeoutMs, a.retries, a.rateLimits, a.enabled, a.catchUp]).toEqual([
      10_000,
      3,
      [],
      true,
      'latest',
    ]);
  });

  it('turns durations into milliseconds and the offset into numbers', () => {
    expect(a.spreadMs).toBe(600_000);
    expect(catalog.rateLimits.mail).toEqual({ limit: 5, windowMs: 1000 });
    expect(a.schedule).toEqual({
      kind: 'every',
      every: 'day',
      at: '07:00',
      offset: { day: 0, hour: 7, minute: 0 },
    });
  });
});

describe('catchUp', () => {
  it('takes latest or none, and the scheduler plans with what the catalog says', () => {
    const catalog = parseCatalog(
      HEADER + task('a', { catchUp: 'none' }) + task('b', { catchUp: 'latest' }) + task('c'),
      {},
    );
    expect(catalog.tasks.map((t) => t.catchUp)).toEqual(['none', 'latest', 'latest']);
    const tasks = schedulableTasks(catalog);
    expect([...tasks.values()].map((t) => [t.id, t.catchUp])).toEqual([
      ['a', 'none'],
      ['b', 'latest'],
      ['c', 'latest'],
    ]);
  });

  it('refuses any other value, naming the field', () => {
    expect(problemsOf(HEADER + task('a', { catchUp: 'all' }))).toEqual([
      'tasks[0].catchUp: Invalid option: expected one of "latest"|"none"',
    ]);
  });

  it('skips a late period of a catchUp none task and runs the one of a catchUp latest task', () => {
    const text =
      HEADER +
      task('quiet', { schedule: '{ every: hour }', spread: '10m', catchUp: 'none' }) +
      task('eager', { schedule: '{ every: hour }', spread: '10m' });
    const tasks = schedulableTasks(parseCatalog(text, {}));
    const lastDueAt = Date.parse('2030-01-01T10:00:00Z');
    const now = Date.parse('2030-01-01T15:10:00Z');
    const plan = (id: string) => planSlot({ task: tasks.get(id)!, group: 'UTC', members: 3, lastDueAt }, now);
    expect(plan('quiet')).toMatchObject({
      kind: 'skip',
      reason: 'late-not-caught-up',
      periodKey: '2030-01-01T15',
    });
    expect(plan('eager')).toMatchObject({ kind: 'claim', backfilled: true, startAt: now });
  });
});

describe('a bad catalog', () => {
  it('lists every invalid field by path, across tasks, in one error', () => {
    const text = `${HEADER}${task('ok')}${task('Bad-Id', {
      schedule: '{ every: fortnight }',
      zone: '{ policy: fixed, tz: Mars/Olympus_Mons }',
      spread: 'ten minutes',
      retries: '11',
      timeoutMs: '900001',
      rateLimits: '[mail, nope]',
    })}${task('c', {
      schedule: '{ cron: "61 * * * *" }',
      target: '{ method: GET, url: "http://127.0.0.1/x", body: "hi" }',
      colour: 'blue',
    })}${task('d', { schedule: '{ every: week, at: "monday 3am" }', spread: '8d' })}`;
    expect(problemsOf(text)).toEqual([
      'tasks[1].id: Expected lower-case letters, digits and _, starting with a letter (max 64)',
      'tasks[1].schedule.every: Invalid option: expected one of "hour"|"day"|"week"|"month"',
      'tasks[1].zone.tz: Unknown IANA time zone "Mars/Olympus_Mons"',
      'tasks[1].spread: Invalid duration "ten minutes": expected e.g. "500ms", "10s", "15m", "2h", "1d"',
      'tasks[1].timeoutMs: Too big: expected number to be <=900000',
      'tasks[1].retries: Too big: expected number to be <=10',
      'tasks[1].rateLimits[1]: Unknown rate limit key "nope"',
      'tasks[2].schedule.cron: Invalid cron "61 * * * *": Invalid value for minute: 61',
      'tasks[2].target.body: A GET target cannot have a body',
      'tasks[2]: Unrecognized key: "colour"',
      'tasks[3].schedule.at: Invalid offset "monday 3am" for every: week: expected e.g. "mon 03:15"',
    ]);
  });

  it('reports the field path for a twelfth task, not just "invalid"', () => {
    const tasks = Array.from({ length: 12 }, (_, i) => task(`t${i}`)).join('');
    expect(pathsOf(HEADER + tasks + task('t12', { schedule: '{ every: minute }' }))).toEqual([
      'tasks[12].schedule.every',
    ]);
  });

  it('refuses a spread longer than the period, so runs cannot spill into the next one', () => {
    expect(problemsOf(HEADER + task('a', { schedule: '{ every: hour }', spread: '61m' }))).toEqual([
      'tasks[0].spread: Spread 61m is longer than the period (1h)',
    ]);
    expect(pathsOf(HEADER + task('a', { schedule: '{ cron: "*/15 * * * *" }', spread: '20m' }))).toEqual([
      'tasks[0].spread',
    ]);
  });

  it('reports every duplicate id with where it first appeared', () => {
    expect(problemsOf(HEADER + task('same') + task('other') + task('same') + task('same'))).toEqual([
      'tasks[2].id: Duplicate id "same" (first at tasks[0])',
      'tasks[3].id: Duplicate id "same" (first at tasks[0])',
    ]);
  });

  it('checks the top level: version, hosts, limits', () => {
    const text = `version: 2\nallowedHosts: []\nrateLimits: { Mail: { limit: 1, window: 1s }, mail: { limit: 0, window: 0s } }\ntasks: []\n`;
    expect(pathsOf(text)).toEqual([
      'version',
      'allowedHosts',
      'rateLimits.Mail',
      'rateLimits.mail.limit',
      'rateLimits.mail.window',
    ]);
  });

  it('reports broken YAML and duplicate YAML keys instead of guessing', () => {
    expect(pathsOf('version: 1\ntasks: [\n')[0]).toBe('(yaml)');
    expect(problemsOf('version: 1\nversion: 1\n')[0]).toMatch(/^\(yaml\): Map keys must be unique/);
  });
});

describe('target hosts', () => {
  it('refuses a target outside allowedHosts', () => {
    const text = HEADER + task('a', { target: '{ method: POST, url: "https://evil.example.com/x" }' });
    expect(problemsOf(text)).toEqual(['tasks[0].target.url: Host "evil.example.com" is not in allowedHosts']);
  });

  it('refuses a URL template whose placeholder sits in the host', () => {
    for (const url of ['http://{{host}}/x', 'http://127.0.0.1{{suffix}}/x', 'http://{{user}}@127.0.0.1/x']) {
      expect(pathsOf(HEADER + task('a', { target: `{ method: POST, url: "${url}" }` }))).toEqual([
        'tasks[0].target.url',
      ]);
    }
  });

  it('refuses {{baseUrl}} when no base URL is configured', () => {
    const text = HEADER.replace('baseUrl: http://127.0.0.1:4000\n', '') + task('a');
    expect(problemsOf(text)).toEqual([
      'tasks[0].target.url: {{baseUrl}} needs a top-level baseUrl or STAGGER_TARGET_BASE_URL',
    ]);
  });

  const catalog = parseCatalog(
    HEADER +
      task('a', {
        target:
          '{ method: POST, url: "{{baseUrl}}/tasks/a/{{userId}}?p={{periodKey}}", headers: { x-user: "{{userId}}" }, body: { userId: "{{userId}}", n: 1 } }',
      }),
    {},
  );
  const [a] = catalog.tasks as [Task];

  it('renders a call with params encoded in the URL and JSON-escaped in the body', () => {
    const call = renderTarget(a, { userId: 'u"1', periodKey: '2026-11-30' }, catalog);
    expect(call).toEqual({
      method: 'POST',
      url: 'http://127.0.0.1:4000/tasks/a/u%221?p=2026-11-30',
      headers: { 'x-user': 'u"1', 'content-type': 'application/json' },
      body: '{"userId":"u\\"1","n":1}',
    });
  });

  it.each(['evil.com', '@evil.com', '//evil.com/x', 'http://evil.com', '%2F%2Fevil.com', '../../x'])(
    'keeps a param value %j on the template host',
    (value) => {
      const call = renderTarget(a, { userId: value, periodKey: value }, catalog);
      expect(new URL(call.url).host).toBe('127.0.0.1:4000');
      expect(new URL(call.url).pathname.startsWith('/tasks/a/')).toBe(true);
    },
  );

  it('refuses a filled-in param that changes the host of an unvalidated template', () => {
    const forged: Pick<Catalog['tasks'][number], 'target'> = {
      target: { method: 'GET', url: 'http://127.0.0.1{{x}}/ok', headers: {} },
    };
    expect(() => renderTarget(forged, { x: '.evil.com' }, catalog)).toThrow(TargetError);
    const hostParam: typeof forged = { target: { method: 'GET', url: 'http://{{host}}/ok', headers: {} } };
    expect(() => renderTarget(hostParam, { host: '127.0.0.1' }, catalog)).toThrow(/host/);
  });

  it('refuses a host that is not allowed even when the template is fixed', () => {
    const fixed: Pick<Task, 'target'> = { target: { method: 'GET', url: 'http://10.0.0.1/x', headers: {} } };
    expect(() => renderTarget(fixed, {}, catalog)).toThrow(/not in allowedHosts/);
  });

  it('refuses missing params, dot segments and header injection', () => {
    expect(() => renderTarget(a, { userId: 'u1' }, catalog)).toThrow(/Missing template param "periodKey"/);
    expect(() => renderTarget(a, { userId: '..', periodKey: 'p' }, catalog)).toThrow(TargetError);
    const injected = { target: { ...a.target, url: 'http://127.0.0.1:4000/x' } };
    expect(() => renderTarget(injected, { userId: 'u\r\nx-admin: 1', periodKey: 'p' }, catalog)).toThrow(
      /control characters/,
    );
  });

  it('refuses, as a TargetError (never retried), a param that would make a header value fetch cannot send', () => {
    const headed: Pick<Task, 'target'> = {
      target: { method: 'GET', url: 'http://127.0.0.1:4000/x', headers: { 'x-ref': 'ref {{ref}}' } },
    };
    for (const bad of [
      'a\u0000b',
      'a\u007fb',
      'a\tb',
      'a\rb',
      'a\nb',
      'a\u0085b',
      'caf\u20ac',
      '\ud83d\ude00',
    ]) {
      expect(() => renderTarget(headed, { ref: bad }, catalog), JSON.stringify(bad)).toThrow(TargetError);
    }
    expect(renderTarget(headed, { ref: 'café ÿ ~' }, catalog).headers['x-ref']).toBe('ref café ÿ ~');
    const inUrl: Pick<Task, 'target'> = {
      target: { method: 'GET', url: 'http://127.0.0.1:4000/x/{{ref}}', headers: {} },
    };
    expect(() => renderTarget(inUrl, { ref: 'a\ud800' }, catalog)).toThrow(TargetError);
  });
});

describe('environment overrides', () => {
  it('replaces allowedHosts, and the shipped targets are then refused', () => {
    const paths = pathsOf(SHIPPED, { STAGGER_ALLOWED_HOSTS: 'api.example.com' });
    expect(paths).toHaveLength(10);
    expect(new Set(paths.map((p) => p.replace(/\d+/, 'i')))).toEqual(new Set(['tasks[i].target.url']));
  });

  it('points targets at the deployment host with STAGGER_TARGET_BASE_URL', () => {
    const catalog = parseCatalog(SHIPPED, {
      STAGGER_ALLOWED_HOSTS: 'api.example.com, 127.0.0.1',
      STAGGER_TARGET_BASE_URL: 'https://api.example.com/v1/',
    });
    expect(catalog.allowedHosts).toEqual(['api.example.com', '127.0.0.1']);
    expect(catalog.tasks[0]?.target.url).toBe('https://api.example.com/v1/tasks/hourly_data_sync');
  });

  it('sets rate limits by key, including a global one the file does not define', () => {
    const catalog = parseCatalog(SHIPPED, {
      STAGGER_RATE_LIMIT_GLOBAL: '7/2s',
      STAGGER_RATE_LIMIT_STORAGE: '1/1m',
    });
    expect(catalog.rateLimits.global).toEqual({ limit: 7, windowMs: 2000 });
    expect(catalog.rateLimits.storage).toEqual({ limit: 1, windowMs: 60_000 });
    expect(catalog.rateLimits.billing).toEqual({ limit: 5, windowMs: 1000 });
  });

  it('disables listed tasks', () => {
    const catalog = parseCatalog(SHIPPED, { STAGGER_DISABLED_TASKS: 'weekly_backup, monthly_cleanup' });
    expect(catalog.tasks.filter((t) => !t.enabled).map((t) => t.id)).toEqual([
      'weekly_backup',
      'monthly_cleanup',
    ]);
  });

  it('names the variable when an override is invalid', () => {
    expect(
      problemsOf(SHIPPED, {
        STAGGER_RATE_LIMIT_GLOBAL: 'lots',
        STAGGER_RATE_LIMIT_MAIL: '5/forever',
        STAGGER_TARGET_BASE_URL: 'ftp://x',
        STAGGER_DISABLED_TASKS: 'weekly_backpu',
      }),
    ).toEqual([
      'env.STAGGER_RATE_LIMIT_GLOBAL: Expected <limit>/<window>, e.g. "100/1s", got "lots"',
      'env.STAGGER_TARGET_BASE_URL: Expected an http(s) URL',
      'env.STAGGER_RATE_LIMIT_MAIL: Invalid duration "forever": expected e.g. "500ms", "10s", "15m", "2h", "1d"',
      'env.STAGGER_DISABLED_TASKS: Unknown task id "weekly_backpu"',
    ]);
  });

  it('ignores empty variables', () => {
    expect(
      parseCatalog(SHIPPED, { STAGGER_ALLOWED_HOSTS: '', STAGGER_DISABLED_TASKS: '' }).tasks,
    ).toHaveLength(10);
  });
});

describe('the generated catalog', () => {
  it('parses at 300 types with a mix of periods, zones and limits', () => {
    const catalog = parseCatalog(generateCatalogYaml(300, 42), {});
    expect(catalog.tasks).toHaveLength(300);
    const kinds = new Set(catalog.tasks.map((t) => (t.schedule.kind === 'cron' ? 'cron' : t.schedule.every)));
    expect(kinds).toEqual(new Set(['hour', 'day', 'week', 'month', 'cron']));
    expect(new Set(catalog.tasks.map((t) => t.zone.policy))).toEqual(new Set(['fixed', 'user']));
    expect(Object.keys(catalog.rateLimits).length).toBeGreaterThan(5);
  });

  it('is the same for the same seed and different for another', () => {
    expect(generateCatalogYaml(50, 3)).toBe(generateCatalogYaml(50, 3));
    expect(generateCatalogYaml(50, 3)).not.toBe(generateCatalogYaml(50, 4));
  });

  it('names the file when a catalog file is invalid', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stagger-catalog-')), 'bad.yaml');
    writeFileSync(file, 'version: 1\nallowedHosts: [localhost]\ntasks: [{ id: x }]\n');
    await expect(loadCatalogFile(file, {})).rejects.toThrow(`Invalid ${file}:`);
  });
});

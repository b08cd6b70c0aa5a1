// `npm run seed [-- --users N --catalog <file>]`: demo users (and optionally N load users) written through the
// preferences store against a running stack; idempotent, so running it twice leaves the same data.
import { Redis } from '@upstash/redis';
import { parseArgs } from 'node:util';
import { loadCatalogFile } from '../lib/catalog-file.js';
import { LOCAL_DEFAULTS } from './lib/local-defaults.js';
import type { Catalog, Task } from '../lib/domain/catalog.js';
import { keysFor } from '../lib/store/keys.js';
import { PreferencesStore, type UserInput } from '../lib/store/preferences.js';
import { STORE_SCRIPTS } from '../lib/store/lua/scripts.generated.js';

const USAGE = `Usage: npm run seed -- [--users N] [--catalog FILE] [--prefix P] [--batch N]
  --users N      also write N load users (load-0000001, ...), 1..10000000
  --catalog FILE task catalog to pick task types from (default: STAGGER_CATALOG_PATH or config/tasks.yaml)
  --prefix P     key prefix (default: STAGGER_KEY_PREFIX or "stagger:")
  --batch N      users per pipelined batch, 1..5000 (default 500)
Redis: UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN (default: the local bridge of npm run dev, on BRIDGE_PORT)`;

class UsageError extends Error {}

interface Options {
  users: number;
  catalogPath: string;
  prefix: string;
  batch: number;
}

function intFlag(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        users: { type: 'string' },
        catalog: { type: 'string' },
        prefix: { type: 'string' },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const prefix = values.prefix ?? env['STAGGER_KEY_PREFIX'] ?? 'stagger:';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(prefix))
    throw new UsageError(`--prefix must be 1-64 of A-Z a-z 0-9 : _ -, got "${prefix}"`);
  return {
    users: values.users === undefined ? 0 : intFlag('users', values.users, 0, 10_000_000),
    catalogPath: values.catalog ?? env['STAGGER_CATALOG_PATH'] ?? 'config/tasks.yaml',
    prefix,
    batch: intFlag('batch', values.batch, 500, 5000),
  };
}

/** The demo: each user has every enabled task type of one period unit, in its own zone. */
const DEMO_USERS = [
  { id: 'user1', zone: 'Europe/London', every: 'hour' },
  { id: 'user2', zone: 'America/New_York', every: 'day' },
  { id: 'user3', zone: 'Asia/Kolkata', every: 'week' },
  { id: 'user4', zone: 'Australia/Sydney', every: 'month' },
] as const;

const LOAD_ZONES = [
  'Europe/London',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Sydney',
  'UTC',
  'Europe/Berlin',
  'America/Los_Angeles',
  'Asia/Tokyo',
  'America/Sao_Paulo',
  'Africa/Lagos',
  'Asia/Kathmandu',
  'Pacific/Chatham',
];

/** Load user i: a zone, enabled except every 20th, and 1 to 3 task types, all derived from i (so reruns match). */
function loadUser(i: number, tasks: readonly Task[]): { user: UserInput; tasks: Task[] } {
  const picked = new Map<string, Task>();
  for (let j = 0; j < 1 + (i % 3); j++) {
    const t = tasks[(i * 7 + j * 13) % tasks.length];
    if (t) picked.set(t.id, t);
  }
  return {
    user: {
      id: `load-${String(i).padStart(7, '0')}`,
      zone: LOAD_ZONES[i % LOAD_ZONES.length]!,
      enabled: i % 20 !== 0,
      labels: { seed: 'load' },
    },
    tasks: [...picked.values()],
  };
}

interface Tally {
  users: Record<string, number>;
  tasks: Record<string, number>;
}

async function writeUser(store: PreferencesStore, user: UserInput, tasks: readonly Task[], tally: Tally) {
  const outcome = await store.upsertUser(user);
  tally.users[outcome] = (tally.users[outcome] ?? 0) + 1;
  await Promise.all(
    tasks.map(async (task) => {
      const result = await store
        .enableTask(user.id, task.id, {}, task.zone.policy)
        .catch((err: Error) => `refused (${err.message})`);
      tally.tasks[result] = (tally.tasks[result] ?? 0) + 1;
    }),
  );
}

function progress(done: number, total: number, startedMs: number) {
  const rate = Math.round(done / Math.max((performance.now() - startedMs) / 1000, 0.001));
  const width = 30;
  const filled = Math.round((done / total) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} users, ${rate}/s`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total || done % Math.max(1, Math.round(total / 10)) < 1)
    process.stderr.write(`${line}\n`);
}

async function seedLoad(store: PreferencesStore, catalog: Catalog, options: Options, tally: Tally) {
  const tasks = catalog.tasks.filter((t) => t.enabled);
  if (tasks.length === 0) throw new UsageError('the catalog has no enabled task types');
  const started = performance.now();
  const inFlight = 4; // batches at once: each batch is one pipelined request per step
  let next = 1;
  let done = 0;
  const worker = async () => {
    while (next <= options.users) {
      const from = next;
      const to = Math.min(options.users, from + options.batch - 1);
      next = to + 1;
      const batch = Array.from({ length: to - from + 1 }, (_, k) => loadUser(from + k, tasks));
      await Promise.all(batch.map((u) => writeUser(store, u.user, u.tasks, tally)));
      done += batch.length;
      progress(done, options.users, started);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `load users: ${options.users} in ${seconds.toFixed(1)} s (${Math.round(options.users / seconds)} users/s)`,
  );
}

async function seed(options: Options, env: NodeJS.ProcessEnv): Promise<Tally> {
  // The bridge of `npm run dev`, wherever BRIDGE_PORT moved it.
  const url =
    env['UPSTASH_REDIS_REST_URL'] ?? `http://127.0.0.1:${env['BRIDGE_PORT'] ?? LOCAL_DEFAULTS.bridgePort}`;
  const token = env['UPSTASH_REDIS_REST_TOKEN'] ?? LOCAL_DEFAULTS.redisToken;
  const catalog = await loadCatalogFile(options.catalogPath, env).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new UsageError(`--catalog: no file at ${options.catalogPath}`) : err;
  });
  // Auto-pipelining turns each Promise.all of a batch into one HTTP request.
  const redis = new Redis({
    url,
    token,
    enableAutoPipelining: true,
    retry: { retries: 3, backoff: (n) => 200 * 2 ** n },
  });
  try {
    await redis.ping();
  } catch (err) {
    throw new UsageError(
      `cannot reach Redis at ${url} (${(err as Error).message}); is \`npm run dev\` running?`,
    );
  }
  // Loaded once up front, so thousands of concurrent EVALSHAs never fall back to EVAL together.
  await Promise.all(STORE_SCRIPTS.map((s) => redis.scriptLoad(s.text)));
  const store = new PreferencesStore(redis, keysFor(options.prefix));
  const tally: Tally = { users: {}, tasks: {} };
  console.log(`seeding ${url} under "${options.prefix}" from ${options.catalogPath}`);
  for (const demo of DEMO_USERS) {
    const tasks = catalog.tasks.filter(
      (t) => t.enabled && t.schedule.kind === 'every' && t.schedule.every === demo.every,
    );
    await writeUser(
      store,
      { id: demo.id, zone: demo.zone, enabled: true, labels: { seed: 'demo' } },
      tasks,
      tally,
    );
    console.log(
      `  ${demo.id} (${demo.zone}): ${tasks.map((t) => t.id).join(', ') || '(no task types of this period)'}`,
    );
  }
  if (options.users > 0) await seedLoad(store, catalog, options, tally);
  console.log(`users: ${JSON.stringify(tally.users)}; task enables: ${JSON.stringify(tally.tasks)}`);
  return tally;
}

async function main() {
  try {
    const options = parseOptions(process.argv.slice(2), process.env);
    if (options === 'help') {
      console.log(USAGE);
      return;
    }
    await seed(options, process.env);
  } catch (err) {
    const usage = err instanceof UsageError;
    console.error(`seed: ${(err as Error).message}${usage ? `\n\n${USAGE}` : ''}`);
    process.exitCode = usage ? 2 : 1;
  }
}

await main();

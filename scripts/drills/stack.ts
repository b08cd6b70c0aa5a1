// The local stack for drills, one process group per part: redis-server (append-only, fsync always), bridge, broker, target, functions.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from '@upstash/redis';
import { LOCAL_DEFAULTS as D } from '../lib/local-defaults.js';
import { freePort } from '../lib/free-port.js';
import { Part, waitUntil } from './parts.js';

export interface DrillTask {
  id: string;
  retries: number;
}

/** Monthly tasks, one per drill: the minute cron of the functions never claims them (see drills.ts). */
export function drillCatalog(tasks: readonly DrillTask[]): string {
  const lines = [
    'version: 1',
    'baseUrl: http://127.0.0.1:4000',
    'allowedHosts: [127.0.0.1]',
    'rateLimits: {}',
    'tasks:',
  ];
  for (const t of tasks) {
    lines.push(
      `  - id: ${t.id}`,
      `    description: drill task ${t.id}`,
      "    schedule: { every: month, at: '01 00:00' }",
      '    zone: { policy: fixed, tz: UTC }',
      '    spread: 20s',
      '    target:',
      '      method: POST',
      "      url: '{{baseUrl}}/d/{{taskId}}/{{userId}}'",
      "      body: { period: '{{periodKey}}' }",
      '    timeoutMs: 1000',
      `    retries: ${t.retries}`,
      '    rateLimits: []',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function distinctPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export interface DrillStack {
  dir: string;
  api: string;
  targetUrl: string;
  redis: Redis;
  parts: { redis: Part; bridge: Part; broker: Part; target: Part; functions: Part };
  /** Env for a second scheduler process (tick-runner.ts) against this stack. */
  env: NodeJS.ProcessEnv;
  admin(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startDrillStack(opts: {
  tasks: readonly DrillTask[];
  brokerRetryBaseMs: number;
  fanoutPageSize: number;
}): Promise<DrillStack> {
  const dir = mkdtempSync(join(tmpdir(), 'stagger-drills-'));
  mkdirSync(join(dir, 'redis'));
  const catalogPath = join(dir, 'tasks.yaml');
  writeFileSync(catalogPath, drillCatalog(opts.tasks));
  const [redisPort, bridgePort, brokerPort, targetPort, httpPort, lambdaPort] = (await distinctPorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const tsx = resolve('node_modules/.bin/tsx');
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(STAGGER_|UPSTASH_|QSTASH_|OFFLINE_|BROKER_|REDIS_)/.test(k),
    ),
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const api = `http://127.0.0.1:${httpPort}`;
  const targetUrl = `http://127.0.0.1:${targetPort}`;
  const env: NodeJS.ProcessEnv = {
    ...base,
    LOG_LEVEL: 'warn',
    UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${bridgePort}`,
    UPSTASH_REDIS_REST_TOKEN: D.redisToken,
    QSTASH_URL: `http://127.0.0.1:${brokerPort}`,
    QSTASH_TOKEN: D.qstashToken,
    QSTASH_CURRENT_SIGNING_KEY: D.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: D.nextSigningKey,
    STAGGER_ADMIN_API_KEYS: D.adminApiKey,
    STAGGER_PUBLIC_URL: api,
    STAGGER_TARGET_BASE_URL: targetUrl,
    STAGGER_CATALOG_PATH: catalogPath,
    STAGGER_FANOUT_PAGE_SIZE: String(opts.fanoutPageSize),
    STAGGER_DLQ_SWEEP_MS: '1000',
  };
  const part = (name: string, command: string, args: string[], port: number, extra: NodeJS.ProcessEnv = {}) =>
    new Part({ name, command, args, port, env: { ...env, ...extra }, logDir: dir });
  const parts = {
    redis: part(
      'redis',
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--protected-mode',
        'no',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        join(dir, 'redis'),
      ],
      redisPort,
    ),
    bridge: part('bridge', tsx, ['scripts/bridge/main.ts'], bridgePort, {
      REDIS_URL: redisUrl,
      BRIDGE_PORT: String(bridgePort),
    }),
    broker: part('broker', tsx, ['scripts/broker/main.ts'], brokerPort, {
      REDIS_URL: redisUrl,
      BROKER_PORT: String(brokerPort),
      BROKER_RETRY_BASE_MS: String(opts.brokerRetryBaseMs),
      BROKER_CONCURRENCY: '8',
    }),
    target: part('target', tsx, ['scripts/drills/target.ts'], targetPort, {
      TARGET_PORT: String(targetPort),
    }),
    functions: part(
      'functions',
      resolve('node_modules/.bin/sls'),
      ['offline', 'start', '--stage', 'local'],
      httpPort,
      {
        OFFLINE_HOST: '127.0.0.1',
        OFFLINE_HTTP_PORT: String(httpPort),
        OFFLINE_LAMBDA_PORT: String(lambdaPort),
      },
    ),
  };
  for (const p of [parts.redis, parts.bridge, parts.broker, parts.target, parts.functions]) await p.start();
  await waitUntil(
    async () => (await fetch(`${api}/health`).catch(() => undefined))?.status === 200,
    90_000,
    'functions /health',
    500,
  );
  const redis = new Redis({
    url: env['UPSTASH_REDIS_REST_URL']!,
    token: D.redisToken,
    retry: { retries: 20, backoff: () => 250 },
  });
  return {
    dir,
    api,
    targetUrl,
    redis,
    parts,
    env,
    admin: (path, init = {}) =>
      fetch(`${api}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${D.adminApiKey}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      }),
    async stop() {
      for (const p of [parts.functions, parts.target, parts.broker, parts.bridge, parts.redis])
        await p.stop();
    },
  };
}

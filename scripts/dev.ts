// `npm run dev`: the whole local stack in one process tree: redis-server, the Upstash REST bridge,
// the QStash-compatible broker, a demo target and serverless-offline. Ctrl-C stops all of them.
// `npm run demo` (`--demo`): the same with the demo catalog, a target that fails some calls, seeded users and a tick.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { LOCAL_DEFAULTS as D } from './lib/local-defaults.js';
import { startBridge, type RunningBridge } from './bridge/server.js';
import { startBroker, type RunningBroker } from './broker/server.js';
import { adminClient, DEMO_CATALOG, DEMO_DATA_DIR, DEMO_TASK, demoRespond, startDemo } from './demo/demo.js';
import {
  ping,
  REDIS_MISSING_HINT,
  redisServerAvailable,
  startRedis,
  type RedisProcess,
} from './lib/redis-process.js';
import { startTarget, type RunningTarget } from './target/server.js';

const env = process.env;
const demo = process.argv.slice(2).includes('--demo');
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);

const ports = {
  redis: port('REDIS_PORT', D.redisPort),
  bridge: port('BRIDGE_PORT', D.bridgePort),
  broker: port('BROKER_PORT', D.brokerPort),
  target: port('TARGET_PORT', D.targetPort),
  http: port('OFFLINE_HTTP_PORT', D.offlinePort),
  lambda: port('OFFLINE_LAMBDA_PORT', D.offlineLambdaPort),
};

/** Interface the servers listen on: 127.0.0.1, or 0.0.0.0 inside a container. */
const host = env['DEV_HOST'] ?? '127.0.0.1';

const step = (msg: string) => console.log(`[dev] ${msg}`);

async function waitForHealth(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

async function main() {
  const t0 = performance.now();
  let redis: RedisProcess | undefined;
  let bridge: RunningBridge | undefined;
  let broker: RunningBroker | undefined;
  let target: RunningTarget | undefined;
  let offline: ChildProcess | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    step('stopping…');
    if (offline?.pid !== undefined && offline.exitCode === null) {
      const gone = new Promise((r) => offline?.once('exit', r));
      try {
        process.kill(-offline.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => offline?.pid && process.kill(-offline.pid, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    await target?.close();
    await broker?.close();
    await bridge?.close();
    await redis?.stop();
    step('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    let redisUrl = env['REDIS_URL'];
    if (redisUrl) {
      step(`using REDIS_URL ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}`);
    } else {
      if (!redisServerAvailable()) {
        console.error(REDIS_MISSING_HINT);
        process.exit(1);
      }
      if (await ping(ports.redis)) {
        throw new Error(
          `port ${ports.redis} already answers PING: stop that Redis, or set REDIS_PORT or REDIS_URL`,
        );
      }
      const dir = resolve(env['DEV_DATA_DIR'] ?? (demo ? DEMO_DATA_DIR : '.local/redis'));
      redis = await startRedis({ port: ports.redis, dir });
      redisUrl = redis.url;
      step(`redis-server on ${redis.url} (data in ${dir}, append-only file on)`);
    }
    bridge = await startBridge({ redisUrl, token: D.redisToken, port: ports.bridge, host });
    step(`Upstash Redis REST bridge on ${bridge.url}`);
    broker = await startBroker({
      redisUrl,
      token: D.qstashToken,
      currentSigningKey: D.currentSigningKey,
      nextSigningKey: D.nextSigningKey,
      port: ports.broker,
      host,
      retryBaseMs: Number(env['BROKER_RETRY_BASE_MS'] ?? 1000),
      ...(env['BROKER_CONCURRENCY'] ? { concurrency: Number(env['BROKER_CONCURRENCY']) } : {}),
    });
    step(`QStash-compatible broker on ${broker.url}`);
    target = await startTarget({ port: ports.target, host, ...(demo ? { respond: demoRespond } : {}) });
    step(
      `demo task target on ${target.url}${demo ? ' (fails demo-flaky once per job, demo-broken always)' : ''}`,
    );

    const publicUrl = `http://127.0.0.1:${ports.http}`;
    offline = spawn(resolve('node_modules/.bin/sls'), ['offline', 'start', '--stage', 'local'], {
      stdio: 'inherit',
      detached: true,
      env: {
        ...env,
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: D.redisToken,
        QSTASH_URL: broker.url,
        QSTASH_TOKEN: D.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: D.currentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: D.nextSigningKey,
        STAGGER_ADMIN_API_KEYS: env['STAGGER_ADMIN_API_KEYS'] ?? D.adminApiKey,
        STAGGER_PUBLIC_URL: publicUrl,
        STAGGER_TARGET_BASE_URL: env['STAGGER_TARGET_BASE_URL'] ?? target.url,
        ...(demo ? { STAGGER_CATALOG_PATH: env['STAGGER_CATALOG_PATH'] ?? DEMO_CATALOG } : {}),
        OFFLINE_HOST: host,
        OFFLINE_HTTP_PORT: String(ports.http),
        OFFLINE_LAMBDA_PORT: String(ports.lambda),
      },
    });
    offline.on('exit', (code) => {
      if (!stopping) {
        step(`serverless-offline exited (${code}); stopping the stack`);
        void stop(code ?? 1);
      }
    });
    await waitForHealth(`${publicUrl}/health`, 60_000, offline);
    const adminKey = (env['STAGGER_ADMIN_API_KEYS'] ?? D.adminApiKey).split(',')[0]!.trim();
    const demoStart = demo ? await startDemo(adminClient(publicUrl, adminKey)) : undefined;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      [
        '',
        `stagger local stack is up (${secs} s)`,
        `  API (serverless-offline)  ${publicUrl}        e.g. curl ${publicUrl}/health`,
        `  Lambda invoke port        http://127.0.0.1:${ports.lambda}`,
        `  dashboard                 ${publicUrl}/dashboard   metrics ${publicUrl}/metrics (admin key)`,
        `  Upstash Redis REST        ${bridge.url}   token ${D.redisToken}`,
        `  QStash broker             ${broker.url}   token ${D.qstashToken}`,
        `                            signing keys ${D.currentSigningKey} / ${D.nextSigningKey}`,
        `  redis-server              ${redisUrl}`,
        `  demo target               ${target.url}`,
        `  admin API key             ${env['STAGGER_ADMIN_API_KEYS'] ?? D.adminApiKey}`,
        ...(demoStart
          ? [
              `demo: ${demoStart.users} users run ${DEMO_TASK} every minute (catalog ${DEMO_CATALOG});`,
              `  the first tick published ${demoStart.published} jobs, spread over 20 s; demo-flaky succeeds on its retry,`,
              '  demo-broken ends in the dead letters after 3 attempts. Open the dashboard and paste the admin key.',
            ]
          : []),
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`[dev] ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
}

void main();

// The LocalStack suite's world: LocalStack on the host with stagger's executor, a redis-server with the Upstash REST
// bridge and the QStash-compatible broker (the functions reach them on 127.0.0.1), a recording target, the
// `stagger/localstack` secret, and `sls deploy` / `sls remove` of serverless.yml's `localstack` stage.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import type { DeliveryReport } from '../../scripts/broker/delivery.js';
import { startBroker, type RunningBroker } from '../../scripts/broker/server.js';
import { startLocalStack, type RunningLocalStack } from '../../scripts/localstack/localstack.js';
import { startRedis, type RedisProcess } from '../../scripts/lib/redis-process.js';
import { startTarget, type RunningTarget, type TargetHit } from '../../scripts/target/server.js';

const run = promisify(execFile);

export const STAGE = 'localstack';
export const REGION = 'eu-west-1';
export const STACK = `stagger-${STAGE}`;
export const SECRET_ID = `stagger/${STAGE}`;

export const KEYS = {
  redisToken: 'ls-redis-token-0123456789',
  qstashToken: 'ls-qstash-token-0123456789',
  currentSigningKey: 'sig_ls_current_0123456789',
  nextSigningKey: 'sig_ls_next_0123456789',
  adminKey: 'ls-admin-key-0123456789abcdef',
} as const;

export interface Harness {
  ls: RunningLocalStack;
  redis: RedisProcess;
  bridge: RunningBridge;
  broker: RunningBroker;
  target: RunningTarget;
  /** Every delivery attempt the broker made (destination, status), in order. */
  deliveries: DeliveryReport[];
  catalogPath: string;
  logDir: string;
  /** The AWS CLI (pinned in LocalStack's virtualenv) against LocalStack; parsed JSON output. */
  aws(...args: string[]): Promise<unknown>;
  /** `sls <command> --stage localstack` against LocalStack with `env` added; returns its output. */
  sls(command: 'deploy' | 'remove', env?: Record<string, string>): Promise<string>;
  /**
   * LocalStack deletes a REST API's stage with the deployment a redeploy replaces (AWS keeps it on the new one):
   * recreates it on the newest deployment. Returns whether it had to.
   */
  restoreStage(restApiId: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  catalog: (targetUrl: string) => string;
  respond: (hit: TargetHit) => number;
}

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const logDir = resolve(ROOT, '.local/localstack/suite');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const ls = await startLocalStack();
    started.push(ls);
    const redis = await startRedis();
    started.push(redis);
    const bridge = await startBridge({ redisUrl: redis.url, token: KEYS.redisToken, port: 0 });
    started.push({ stop: () => bridge.close() });
    const deliveries: DeliveryReport[] = [];
    const broker = await startBroker({
      redisUrl: redis.url,
      token: KEYS.qstashToken,
      currentSigningKey: KEYS.currentSigningKey,
      nextSigningKey: KEYS.nextSigningKey,
      port: 0,
      // Short backoff: a failing job reaches the dead letters in seconds, and a redeploy's brief errors are retried.
      retryBaseMs: 500,
      pollIntervalMs: 50,
      log: (e) => {
        if (e.event === 'delivery') deliveries.push(e as unknown as DeliveryReport);
      },
    });
    started.push({ stop: () => broker.close() });
    const target = await startTarget({ port: 0, respond: (hit) => opts.respond(hit) });
    started.push({ stop: () => target.close() });
    const ecr = await startEcrStub();
    started.push({ stop: () => new Promise<void>((r) => ecr.close(() => r())) });
    const catalogPath = resolve(logDir, 'tasks.yaml');
    writeFileSync(catalogPath, opts.catalog(target.url));

    const awsBin = resolve(dirname(ls.paths.LOCALSTACK_PYTHON), 'aws');
    const awsEnv = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ENDPOINT_URL: ls.url,
    };
    const aws = async (...args: string[]) => {
      const { stdout } = await run(awsBin, ['--output', 'json', ...args], { env: awsEnv, timeout: 60_000 });
      return stdout.trim() === '' ? undefined : (JSON.parse(stdout) as unknown);
    };
    let deploys = 0;
    const sls = async (command: 'deploy' | 'remove', env: Record<string, string> = {}) => {
      const log = resolve(logDir, `sls-${command}-${++deploys}.log`);
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        ...awsEnv,
        // LocalStack's community edition has no ECR; `sls remove` asks it whether an image repository exists.
        AWS_ENDPOINT_URL_ECR: `http://127.0.0.1:${(ecr.address() as AddressInfo).port}`,
        STAGGER_CATALOG_PATH: catalogPath,
        LOG_LEVEL: 'info',
        ...env,
      };
      // The public URL must come from the stage (the REST API's URL on LocalStack), not the caller's shell.
      delete childEnv['STAGGER_PUBLIC_URL'];
      try {
        const { stdout, stderr } = await run(
          resolve(ROOT, 'node_modules/.bin/sls'),
          [command, '--stage', STAGE, '--region', REGION],
          { cwd: ROOT, env: childEnv, timeout: 480_000, maxBuffer: 16 * 1024 * 1024 },
        );
        writeFileSync(log, stdout + stderr);
        return stdout + stderr;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        writeFileSync(log, `${e.stdout ?? ''}${e.stderr ?? ''}`);
        throw new Error(`sls ${command} failed (output in ${log}): ${e.message.split('\n')[0]}`, {
          cause: err,
        });
      }
    };

    await aws(
      'secretsmanager',
      'create-secret',
      '--name',
      SECRET_ID,
      '--secret-string',
      JSON.stringify({
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: KEYS.redisToken,
        QSTASH_URL: broker.url,
        QSTASH_TOKEN: KEYS.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: KEYS.currentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: KEYS.nextSigningKey,
        STAGGER_ADMIN_API_KEYS: KEYS.adminKey,
        STAGGER_METRICS_TOKENS: '',
      }),
    );
    const restoreStage = async (restApiId: string) => {
      const stages = (await aws('apigateway', 'get-stages', '--rest-api-id', restApiId)) as {
        item: { stageName: string }[];
      };
      if (stages.item.some((st) => st.stageName === STAGE)) return false;
      const deployments = (await aws('apigateway', 'get-deployments', '--rest-api-id', restApiId)) as {
        items: { id: string; createdDate: string | number }[];
      };
      const newest = [...deployments.items].sort(
        (a, b) => Number(new Date(b.createdDate)) - Number(new Date(a.createdDate)),
      )[0];
      if (!newest) throw new Error(`REST API ${restApiId} has no deployment`);
      await aws(
        'apigateway',
        'create-stage',
        '--rest-api-id',
        restApiId,
        '--stage-name',
        STAGE,
        '--deployment-id',
        newest.id,
      );
      return true;
    };
    return {
      ls,
      redis,
      bridge,
      broker,
      target,
      deliveries,
      catalogPath,
      logDir,
      aws,
      sls,
      restoreStage,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Answers every ECR call as AWS does for a repository that was never created (osls then skips the repository). */
async function startEcrStub(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res
        .writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'RepositoryNotFoundException',
        })
        .end(JSON.stringify({ __type: 'RepositoryNotFoundException', message: 'repository does not exist' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}

export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

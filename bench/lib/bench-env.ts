// The bench's own processes: two fresh redis-servers (the app's "Upstash Redis", and the local QStash broker's
// store, so each side's command counts stay apart), the REST bridge and brokers each in a process of their own
// (as the cloud services they stand in for), a recording target, and the project's HTTP functions in this process.
// Nothing here touches a Redis the bench did not start.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BrokerOptions } from '../../scripts/broker/server.js';
import { startLambdaHttp, type RunningLambdaHttp } from '../../test/helpers/lambda-http.js';
import { startRedis, type RedisProcess } from '../../scripts/lib/redis-process.js';
import { startTarget, type RunningTarget, type TargetOptions } from '../../scripts/target/server.js';
import { resetRuntime } from '../../lib/runtime.js';
import { startMeteredLambdaHttp, type LambdaMeter } from './lambda-meter.js';
import { ServiceProcess } from './services.js';

export const BENCH_KEYS = {
  redisToken: 'bench-redis-token',
  qstashToken: 'bench-qstash-token',
  currentSigningKey: 'sig_bench_current',
  nextSigningKey: 'sig_bench_next',
  adminKey: 'bench-admin-key-0123456789',
} as const;

export interface BrokerHandle {
  /** The broker's process: `url` direct, `proxyUrl` counting published messages (QStash's billing unit). */
  service: ServiceProcess;
  keyPrefix: string;
  close(): Promise<void>;
}

export class BenchEnv {
  private constructor(
    /** The app's Redis (behind the bridge): stagger's state, and BullMQ's queues. */
    readonly appRedis: RedisProcess,
    /** The local QStash broker's own store. */
    readonly brokerRedis: RedisProcess,
    /** Admin connections for INFO / CONFIG RESETSTAT / FLUSHALL, RESP2. */
    readonly appAdmin: Redis,
    readonly brokerAdmin: Redis,
    /** The REST bridge's process: `url` direct, `proxyUrl` counting Upstash commands as billed. */
    readonly bridge: ServiceProcess,
  ) {}

  static async start(): Promise<BenchEnv> {
    const appRedis = await startRedis();
    const brokerRedis = await startRedis();
    const appAdmin = new Redis(appRedis.url, { protocol: 2 });
    const brokerAdmin = new Redis(brokerRedis.url, { protocol: 2 });
    const bridge = await ServiceProcess.start({
      kind: 'bridge',
      options: { redisUrl: appRedis.url, token: BENCH_KEYS.redisToken, port: 0 },
    });
    return new BenchEnv(appRedis, brokerRedis, appAdmin, brokerAdmin, bridge);
  }

  /** A broker on the bench's broker Redis under a fresh key prefix; concurrency 0 makes it a store only. */
  async startBroker(opts: Partial<Omit<BrokerOptions, 'log'>> = {}): Promise<BrokerHandle> {
    const keyPrefix = opts.keyPrefix ?? `qstash:${randomBytes(4).toString('hex')}:`;
    const service = await ServiceProcess.start({
      kind: 'broker',
      options: {
        redisUrl: this.brokerRedis.url,
        token: BENCH_KEYS.qstashToken,
        currentSigningKey: BENCH_KEYS.currentSigningKey,
        nextSigningKey: BENCH_KEYS.nextSigningKey,
        port: 0,
        retryBaseMs: 200,
        pollIntervalMs: 20,
        ...opts,
        keyPrefix,
      },
    });
    return { service, keyPrefix, close: () => service.stop() };
  }

  startTarget(opts: TargetOptions = {}): Promise<RunningTarget> {
    return startTarget(opts);
  }

  /**
   * The project's HTTP functions in this process, configured like the test stack: QStash through the broker's
   * counting proxy, Upstash Redis through the bridge's (or straight to it without `countRedis`), targets at `targetUrl`.
   * With `meter`, every function invocation is counted and timed into it (Lambda requests and GB-seconds).
   */
  async startFunctions(
    broker: BrokerHandle,
    targetUrl: string,
    extraEnv: Record<string, string> = {},
    countRedis = true,
    meter?: LambdaMeter,
  ): Promise<{ api: RunningLambdaHttp; prefix: string; env: Record<string, string> }> {
    const api = meter ? await startMeteredLambdaHttp(meter) : await startLambdaHttp({ port: 0 });
    const prefix = `bench:${randomBytes(4).toString('hex')}:`;
    const env = this.stackEnv({
      redisUrl: countRedis ? this.bridge.proxyUrl : this.bridge.url,
      qstashUrl: broker.service.proxyUrl,
      publicUrl: api.url,
      prefix,
      targetUrl,
      ...extraEnv,
    });
    Object.assign(process.env, env);
    resetRuntime();
    return { api, prefix, env };
  }

  /** The environment the functions (and a scheduler child process) read. */
  stackEnv(
    o: { qstashUrl: string; redisUrl: string; publicUrl: string; prefix: string; targetUrl: string } & Record<
      string,
      string
    >,
  ): Record<string, string> {
    const { qstashUrl, publicUrl, prefix, targetUrl, redisUrl, ...extra } = o;
    return {
      STAGE: 'local',
      LOG_LEVEL: 'silent',
      UPSTASH_REDIS_REST_URL: redisUrl,
      UPSTASH_REDIS_REST_TOKEN: BENCH_KEYS.redisToken,
      QSTASH_URL: qstashUrl,
      QSTASH_TOKEN: BENCH_KEYS.qstashToken,
      QSTASH_CURRENT_SIGNING_KEY: BENCH_KEYS.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: BENCH_KEYS.nextSigningKey,
      STAGGER_ADMIN_API_KEYS: BENCH_KEYS.adminKey,
      STAGGER_PUBLIC_URL: publicUrl,
      STAGGER_KEY_PREFIX: prefix,
      STAGGER_TARGET_BASE_URL: targetUrl,
      STAGGER_ALLOWED_HOSTS: '127.0.0.1,localhost',
      ...extra,
    };
  }

  async stop(): Promise<void> {
    await this.bridge.stop();
    this.appAdmin.disconnect();
    this.brokerAdmin.disconnect();
    await this.brokerRedis.stop();
    await this.appRedis.stop();
  }
}

// The bench's own processes: two fresh redis-servers (the app's "Upstash Redis", and the local QStash broker's
// store, so each side's command counts stay apart), the REST bridge, brokers, a recording target, and the
// project's HTTP functions in-process. Nothing here touches a Redis the bench did not start.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startBridge, type RunningBridge } from '../../scripts/bridge/server.js';
import { startBroker, type BrokerOptions, type DeliveryReport, type RunningBroker } from '../../scripts/broker/server.js';
import { startLambdaHttp, type RunningLambdaHttp } from '../../scripts/lib/lambda-http.js';
import { startRedis, type RedisProcess } from '../../scripts/lib/redis-process.js';
import { startTarget, type RunningTarget, type TargetOptions } from '../../scripts/target/server.js';
import { countQStashMessages, countRedisCommands, startCountingProxy, type CountingProxy } from './counting-proxy.js';

export const BENCH_KEYS = {
  redisToken: 'bench-redis-token',
  qstashToken: 'bench-qstash-token',
  currentSigningKey: 'sig_bench_current',
  nextSigningKey: 'sig_bench_next',
  adminKey: 'bench-admin-key-0123456789',
} as const;

export interface BrokerHandle {
  broker: RunningBroker;
  /** Counts messages published through it (QStash's billing unit). */
  proxy: CountingProxy;
  keyPrefix: string;
  deliveries: DeliveryReport[];
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
    readonly bridge: RunningBridge,
    /** Counting proxy in front of the bridge (Upstash commands as billed). */
    readonly redisProxy: CountingProxy,
  ) {}

  static async start(): Promise<BenchEnv> {
    const appRedis = await startRedis();
    const brokerRedis = await startRedis();
    const appAdmin = new Redis(appRedis.url, { protocol: 2 });
    const brokerAdmin = new Redis(brokerRedis.url, { protocol: 2 });
    const bridge = await startBridge({ redisUrl: appRedis.url, token: BENCH_KEYS.redisToken, port: 0 });
    const redisProxy = await startCountingProxy(bridge.url, countRedisCommands);
    return new BenchEnv(appRedis, brokerRedis, appAdmin, brokerAdmin, bridge, redisProxy);
  }

  /** A broker on the bench's broker Redis under a fresh key prefix; concurrency 0 makes it a store only. */
  async startBroker(opts: Partial<BrokerOptions> = {}): Promise<BrokerHandle> {
    const keyPrefix = opts.keyPrefix ?? `qstash:${randomBytes(4).toString('hex')}:`;
    const deliveries: DeliveryReport[] = [];
    const broker = await startBroker({
      redisUrl: this.brokerRedis.url,
      token: BENCH_KEYS.qstashToken,
      currentSigningKey: BENCH_KEYS.currentSigningKey,
      nextSigningKey: BENCH_KEYS.nextSigningKey,
      port: 0,
      retryBaseMs: 200,
      pollIntervalMs: 20,
      ...opts,
      keyPrefix,
      log: (event) => {
        if (event.event === 'delivery') deliveries.push(event);
      },
    });
    const proxy = await startCountingProxy(broker.url, countQStashMessages);
    return {
      broker,
      proxy,
      keyPrefix,
      deliveries,
      async close() {
        await proxy.close();
        await broker.close();
      },
    };
  }

  startTarget(opts: TargetOptions = {}): Promise<RunningTarget> {
    return startTarget(opts);
  }

  /**
   * The project's HTTP functions in this process, configured like the test stack: Upstash Redis through the
   * counting proxy, QStash through the broker's counting proxy, targets at `targetUrl`.
   */
  async startFunctions(broker: BrokerHandle, targetUrl: string, extraEnv: Record<string, string> = {}): Promise<{
    api: RunningLambdaHttp;
    prefix: string;
    env: Record<string, string>;
  }> {
    const api = await startLambdaHttp({ port: 0 });
    const prefix = `bench:${randomBytes(4).toString('hex')}:`;
    const env = this.stackEnv({ qstashUrl: broker.proxy.url, publicUrl: api.url, prefix, targetUrl, ...extraEnv });
    Object.assign(process.env, env);
    const { resetRuntime } = await import('../../lib/runtime.js');
    resetRuntime();
    return { api, prefix, env };
  }

  /** The environment the functions (and a scheduler child process) read. */
  stackEnv(o: { qstashUrl: string; publicUrl: string; prefix: string; targetUrl: string; redisUrl?: string } & Record<string, string>): Record<string, string> {
    const { qstashUrl, publicUrl, prefix, targetUrl, redisUrl, ...extra } = o;
    return {
      STAGE: 'local',
      LOG_LEVEL: 'silent',
      UPSTASH_REDIS_REST_URL: redisUrl ?? this.redisProxy.url,
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
    await this.redisProxy.close();
    await this.bridge.close();
    this.appAdmin.disconnect();
    this.brokerAdmin.disconnect();
    await this.brokerRedis.stop();
    await this.appRedis.stop();
  }
}

// Local QStash-compatible broker: the real @upstash/qstash Client publishes to it, its deliveries pass the real Receiver.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { BrokerApi } from './api.js';
import { DeliveryLoop } from './delivery-loop.js';
import type { DeliveryReport } from './delivery.js';
import { createRequestHandler } from './http-routes.js';
import { OutboundAgents } from './outbound.js';
import { BrokerStore } from './store.js';
import { keepAliveLongerThanClients } from '../lib/http-keep-alive.js';

export type { DeliveryReport } from './delivery.js';

export interface BrokerOptions {
  redisUrl: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  /** 0 = a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `qstash:`. */
  keyPrefix?: string;
  /** Fast local backoff `retryBaseMs * 2^retried`; undefined = QStash's curve `min(1 day, e^(2.5 n)) s`. */
  retryBaseMs?: number;
  /** Deliveries under way at once, per broker. Default 32. */
  concurrency?: number;
  /** Default 100 ms. */
  pollIntervalMs?: number;
  /** Per-attempt ceiling; `Upstash-Timeout` can only shorten it. Default 30 s. */
  deliveryTimeoutMs?: number;
  /** How long a deduplication id or content hash is remembered. Default 10 min, as QStash documents. */
  dedupWindowMs?: number;
  /** Largest accepted publish body. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Structured events (start, each delivery outcome, errors); no bodies, no secrets. Default: silent. */
  log?: (event: BrokerLogEvent) => void;
}

export type BrokerLogEvent =
  | {
      event: 'broker.started';
      url: string;
      keyPrefix: string;
      owner: string;
      retry: string;
      concurrency: number;
    }
  | ({ event: 'delivery' } & DeliveryReport)
  | { event: 'broker.error'; where: string; error: string };

export interface RunningBroker {
  readonly url: string;
  readonly port: number;
  /** Stops taking requests and polling, waits for in-flight deliveries, disconnects. */
  close(): Promise<void>;
}

export const DEFAULT_KEY_PREFIX = 'qstash:';
export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.log ?? (() => {});
  const keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on('error', (err: unknown) => log({ event: 'broker.error', where: 'redis', error: errorText(err) }));
  await redis.connect();
  const store = new BrokerStore(redis, keyPrefix);

  const onError = (where: string) => (err: unknown) =>
    log({ event: 'broker.error', where, error: errorText(err) });
  const agents = new OutboundAgents();
  const loop = new DeliveryLoop(store, {
    agents,
    currentSigningKey: opts.currentSigningKey,
    deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 30_000,
    ...(opts.retryBaseMs === undefined ? {} : { retryBaseMs: opts.retryBaseMs }),
    concurrency: opts.concurrency ?? 32,
    pollIntervalMs: opts.pollIntervalMs ?? 100,
    onReport: (report) => log({ event: 'delivery', ...report }),
    onError: (where, err) => onError(where)(err),
  });
  const api = new BrokerApi(store, {
    dedupWindowMs: opts.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS,
    onStored: (dueAt) => {
      if (dueAt <= Date.now()) loop.nudge();
    },
  });
  const server = createServer(
    createRequestHandler(api, {
      token: opts.token,
      keys: { current: opts.currentSigningKey, next: opts.nextSigningKey },
      maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
      onError: onError('http'),
    }),
  );

  keepAliveLongerThanClients(server);
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    agents.destroy();
    redis.disconnect();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  loop.start();
  log({
    event: 'broker.started',
    url,
    keyPrefix,
    owner: loop.owner,
    retry: opts.retryBaseMs === undefined ? 'qstash-curve' : `${opts.retryBaseMs}ms*2^n`,
    concurrency: opts.concurrency ?? 32,
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await loop.stop();
        agents.destroy();
        await stopped;
        await redis.quit();
      })();
      return closing;
    },
  };
}

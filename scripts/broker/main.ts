// CLI for the local QStash broker: configured by env, logs one JSON line per start and per delivery outcome.
import { LOCAL_DEFAULTS as D } from '../lib/local-defaults.js';
import { startBroker, type BrokerLogEvent } from './server.js';

function intEnv(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** BROKER_RETRY_BASE_MS: a number (local default 1000), or "qstash" for QStash's own backoff curve. */
function retryBaseMs(): number | undefined {
  return process.env.BROKER_RETRY_BASE_MS === 'qstash' ? undefined : intEnv('BROKER_RETRY_BASE_MS', 1000);
}

function logLine(event: BrokerLogEvent | Record<string, unknown>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...event }));
}

async function main(): Promise<void> {
  const broker = await startBroker({
    redisUrl: process.env.REDIS_URL || `redis://127.0.0.1:${D.redisPort}`,
    port: intEnv('BROKER_PORT', D.brokerPort)!,
    host: process.env.BROKER_HOST || '127.0.0.1',
    token: process.env.QSTASH_TOKEN || D.qstashToken,
    currentSigningKey: process.env.QSTASH_CURRENT_SIGNING_KEY || D.currentSigningKey,
    nextSigningKey: process.env.QSTASH_NEXT_SIGNING_KEY || D.nextSigningKey,
    keyPrefix: process.env.BROKER_KEY_PREFIX || 'qstash:',
    retryBaseMs: retryBaseMs(),
    concurrency: intEnv('BROKER_CONCURRENCY', 32),
    log: logLine,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logLine({ event: 'broker.stopping', signal });
    broker.close().then(
      () => {
        logLine({ event: 'broker.stopped' });
        process.exit(0);
      },
      (err: unknown) => {
        logLine({
          event: 'broker.error',
          where: 'close',
          error: err instanceof Error ? err.message : String(err),
        });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  logLine({ event: 'broker.error', where: 'start', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});

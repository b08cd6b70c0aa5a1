// Wires the adapters (Redis, QStash) from configuration once per Lambda instance; tests can swap them.
import { Client as QStashClient } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { loadConfig, type Config } from './config.js';

export interface Runtime {
  readonly config: Config;
  readonly redis: Redis;
  readonly qstash: QStashClient;
}

export function createRuntime(config: Config): Runtime {
  return {
    config,
    redis: new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      // Lambda bills waiting: fail within ~1.5 s instead of the client's default ~4 s of retries.
      retry: { retries: 2, backoff: (n) => 250 * 2 ** n },
    }),
    qstash: new QStashClient({ baseUrl: config.QSTASH_URL, token: config.QSTASH_TOKEN }),
  };
}

let current: Runtime | undefined;

export function runtime(): Runtime {
  current ??= createRuntime(loadConfig());
  return current;
}

/** Forget the cached runtime so the next call reads the environment again (tests). */
export function resetRuntime(): void {
  current = undefined;
}

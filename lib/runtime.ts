// Wires the adapters (Redis, QStash) from configuration once per Lambda instance; tests can swap them.
import { Client as QStashClient } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { loadCatalogFileSync } from './catalog-file.js';
import { loadConfig, type Config } from './config.js';
import type { Catalog } from './domain/catalog.js';

export interface Runtime {
  readonly config: Config;
  readonly redis: Redis;
  readonly qstash: QStashClient;
  /** The task catalog from STAGGER_CATALOG_PATH with the STAGGER_* env overrides, parsed on first use. */
  readonly catalog: Catalog;
}

export function createRuntime(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): Runtime {
  let catalog: Catalog | undefined;
  return {
    config,
    get catalog() {
      catalog ??= loadCatalogFileSync(config.STAGGER_CATALOG_PATH, env);
      return catalog;
    },
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

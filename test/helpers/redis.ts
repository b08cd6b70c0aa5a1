// Test helper: an isolated redis-server on a free port, and unique key prefixes per test.
import { randomBytes } from 'node:crypto';
import { startRedis, type RedisProcess } from '../../scripts/lib/redis-process.js';

export type { RedisProcess };

/** Starts a redis-server of the test's own on a free port (never the machine's 6379). */
export function startTestRedis(): Promise<RedisProcess> {
  return startRedis();
}

/** A random key prefix so tests sharing one server never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `${label}:${randomBytes(6).toString('hex')}:`;
}

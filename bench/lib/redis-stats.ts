// Redis command counts from INFO commandstats on the bench's own redis-servers, reset with CONFIG RESETSTAT.
import type { Redis } from 'ioredis';

/** Calls per command name, e.g. { evalsha: 12, zadd: 400 }. Lua-internal calls are included (Redis counts them). */
export type CommandCounts = Record<string, number>;

/** Commands the bench itself sends to read or reset the counters; never charged to a side. */
const BENCH_OWN = new Set([
  'info',
  'config|resetstat',
  'config|get',
  'ping',
  'hello',
  'client|setinfo',
  'client|setname',
]);

export function parseCommandStats(info: string): CommandCounts {
  const counts: CommandCounts = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) counts[m[1]!] = Number(m[2]);
  }
  return counts;
}

export async function resetCommandStats(redis: Redis): Promise<void> {
  await redis.call('CONFIG', 'RESETSTAT');
}

export async function readCommandStats(redis: Redis): Promise<CommandCounts> {
  return parseCommandStats(String(await redis.call('INFO', 'commandstats')));
}

/** All calls except the bench's own bookkeeping. */
export function totalCalls(counts: CommandCounts): number {
  let total = 0;
  for (const [name, calls] of Object.entries(counts)) if (!BENCH_OWN.has(name)) total += calls;
  return total;
}

/** Script invocations (each is one request from a client, however many commands it runs inside). */
export function scriptCalls(counts: CommandCounts): number {
  return (
    (counts['eval'] ?? 0) + (counts['evalsha'] ?? 0) + (counts['eval_ro'] ?? 0) + (counts['evalsha_ro'] ?? 0)
  );
}

/** The top commands by calls, for notes: "zadd 2.0, hmset 1.0, ...", per job. */
export function topCommandsPerJob(counts: CommandCounts, jobs: number, top = 6): string {
  return Object.entries(counts)
    .filter(([name]) => !BENCH_OWN.has(name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, calls]) => `${name} ${(calls / jobs).toFixed(2)}`)
    .join(', ');
}

export async function redisServerVersion(redis: Redis): Promise<string> {
  const info = String(await redis.call('INFO', 'server'));
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

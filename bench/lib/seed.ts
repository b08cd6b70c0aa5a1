// Seeds users and enabled task types through the preferences store's own scripts, over ioredis for speed.
import type { Redis as IORedis } from 'ioredis';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore, type PreferencesRedis } from '../../lib/store/preferences.js';

/** The store's narrow Redis type, served by ioredis (same scripts and keys as over REST, one TCP hop less). */
export function scriptRedisOver(io: IORedis): PreferencesRedis {
  const adapter = {
    evalsha: (sha: string, keys: string[], args: unknown[]) =>
      io.evalsha(sha, keys.length, ...keys, ...args.map(String)),
    eval: (text: string, keys: string[], args: unknown[]) =>
      io.eval(text, keys.length, ...keys, ...args.map(String)),
    sadd: (key: string, ...members: unknown[]) => io.sadd(key, ...members.map(String)),
    srem: (key: string, ...members: unknown[]) => io.srem(key, ...members.map(String)),
  };
  return adapter as unknown as PreferencesRedis;
}

export interface SeedSpec {
  prefix: string;
  /** How many users to create: user(0) .. user(users - 1). */
  users: number;
  userId: (i: number) => string;
  zone: string;
  /** Task types and how many of the first users enable each. */
  enables: { taskId: string; users: number; policy: 'user' | 'fixed' }[];
}

/** Runs `count` calls of `one` with at most `width` in flight (ioredis pipelines what is in flight). */
async function inChunks(count: number, width: number, one: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += width) {
    const end = Math.min(count, start + width);
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < end; i++) batch.push(one(i));
    await Promise.all(batch);
  }
}

export async function seedPreferences(io: IORedis, spec: SeedSpec): Promise<void> {
  const store = new PreferencesStore(scriptRedisOver(io), keysFor(spec.prefix));
  await inChunks(spec.users, 2000, (i) =>
    store.upsertUser({ id: spec.userId(i), zone: spec.zone, enabled: true, labels: {} }),
  );
  for (const e of spec.enables) {
    await inChunks(e.users, 2000, (i) => store.enableTask(spec.userId(i), e.taskId, {}, e.policy));
  }
}

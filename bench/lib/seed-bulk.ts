// Bulk seed of an empty key prefix for scale runs: the keys the preference scripts write, with pipelined plain commands.
//
// The same keys and values as PreferencesStore.upsertUser then enableTask (the admin API and `npm run seed`),
// for users that are new, active, without labels and with empty params: users zset, user hash, the user's
// task params and zone policies, the task indexes and their counts. Commands go in pipelines of one chunk
// of users; the index counts move by what the index ZADDs really added, as the scripts do.
import type { Redis as IORedis } from 'ioredis';
import { FIXED_ZONE_GROUP } from '../../lib/domain/ids.js';
import { keysFor } from '../../lib/store/keys.js';

export interface BulkSeedSpec {
  prefix: string;
  users: number;
  userId: (i: number) => string;
  zone: string;
  /** Task types every user enables, each with its zone policy. */
  tasks: { taskId: string; policy: 'user' | 'fixed' }[];
  /** createdAt / updatedAt of every user (the stores' clock). */
  now: number;
  /** Users per pipeline. */
  chunk?: number;
  progress?: (done: number, total: number) => void;
}

export interface BulkSeedResult {
  users: number;
  indexed: number;
}

export async function seedBulk(io: IORedis, spec: BulkSeedSpec): Promise<BulkSeedResult> {
  const k = keysFor(spec.prefix);
  // Existing users would get a new createdAt and lose their params: the bulk path only fills an empty prefix.
  if ((await io.zcard(k.users)) > 0) throw new Error(`seedBulk: ${k.users} is not empty`);
  const chunk = spec.chunk ?? 5_000;
  const now = String(spec.now);
  const added = new Map<string, number>();
  for (let start = 0; start < spec.users; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, spec.users - start) }, (_, i) => spec.userId(start + i));
    const p = io.pipeline();
    for (const id of ids) {
      // Field order and values as upsertUser writes them (enableTask sets updatedAt to the same clock).
      p.hset(
        k.user(id),
        'zone',
        spec.zone,
        'enabled',
        '1',
        'labels',
        '{}',
        'updatedAt',
        now,
        'createdAt',
        now,
      );
      p.hset(k.userTasks(id), ...spec.tasks.flatMap((t) => [t.taskId, '{}']));
      p.hset(k.userTaskZones(id), ...spec.tasks.flatMap((t) => [t.taskId, t.policy]));
    }
    p.zadd(k.users, ...ids.flatMap((id) => ['0', id]));
    const indexes = spec.tasks.map((t) => ({
      taskId: t.taskId,
      group: t.policy === 'fixed' ? FIXED_ZONE_GROUP : spec.zone,
    }));
    for (const ix of indexes) p.zadd(k.taskIndex(ix.taskId, ix.group), ...ids.flatMap((id) => ['0', id]));
    const replies = (await p.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0] as Error;
    indexes.forEach((ix, i) => {
      const n = Number(replies[replies.length - indexes.length + i]?.[1] ?? 0);
      const key = `${ix.taskId}\n${ix.group}`;
      added.set(key, (added.get(key) ?? 0) + n);
    });
    spec.progress?.(start + ids.length, spec.users);
  }
  const counts = io.pipeline();
  let indexed = 0;
  for (const [key, n] of added) {
    if (n <= 0) continue;
    const [taskId, group] = key.split('\n') as [string, string];
    counts.hincrby(k.taskZones(taskId), group, n);
    counts.hincrby(k.taskCounts, taskId, n);
    indexed += n;
  }
  await counts.exec();
  return { users: spec.users, indexed };
}

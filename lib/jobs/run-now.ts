// Run-now: publishes a job for (user, task) outside its schedule, visible to the job reads before its first delivery.
import type { Redis } from '@upstash/redis';
import type { Catalog } from '../domain/catalog.js';
import { jobIdOf } from '../domain/ids.js';
import type { JobMessage } from '../domain/job.js';
import { NotFoundError } from '../errors.js';
import type { JobPublisher } from '../publishing/qstash-publisher.js';
import type { Keys } from '../store/keys.js';
import { sortableId } from '../util/sortable-id.js';
import { JOB_POLICY } from '../worker/job-store.js';

export type RunNowRedis = Pick<Redis, 'exists' | 'hexists' | 'hset' | 'pexpire'>;

/** Publishes a job for (user, task) now, outside the schedule, under its own id. */
export async function runNow(
  deps: { redis: RunNowRedis; keys: Keys; catalog: Catalog; publisher: JobPublisher; clock?: () => number },
  userId: string,
  taskId: string,
): Promise<{ jobId: string; messageId: string }> {
  const { redis, keys: k } = deps;
  const task = deps.catalog.tasks.find((t) => t.id === taskId);
  const [userExists, hasTask] = await Promise.all([
    redis.exists(k.user(userId)),
    redis.hexists(k.userTasks(userId), taskId),
  ]);
  if (userExists === 0) throw new NotFoundError(`user ${userId} not found`);
  if (!task || hasTask === 0) throw new NotFoundError(`user ${userId} has no task ${taskId}`);
  const now = (deps.clock ?? Date.now)();
  const periodKey = `manual-${sortableId(now)}`;
  const jobId = jobIdOf(taskId, userId, periodKey);
  const message: JobMessage = {
    v: 1,
    jobId,
    taskId,
    userId,
    periodKey,
    notBefore: now,
    origin: 'manual',
    backfilled: false,
    deferrals: 0,
  };
  // Visible to GET /v1/jobs/{id} before the first delivery.
  await redis.hset(k.job(jobId), {
    jobId,
    taskId,
    userId,
    periodKey,
    state: 'queued',
    origin: 'manual',
    notBefore: now,
    updatedAt: now,
  });
  await redis.pexpire(k.job(jobId), JOB_POLICY.retentionMs);
  const messageId = await deps.publisher.publish(message, { deduplicationId: jobId, retries: task.retries });
  return { jobId, messageId };
}

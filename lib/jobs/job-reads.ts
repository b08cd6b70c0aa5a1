// Operator reads of job state and run history: GET /v1/jobs/{jobId} and GET /v1/users/{userId}/runs.
import type { Redis } from '@upstash/redis';
import { z } from 'zod';
import { FIXED_ZONE_GROUP, parseJobId } from '../domain/ids.js';
import { NotFoundError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { RunEntry } from '../worker/job-store.js';
import type { JobView as JobViewSchema, RunView as RunViewSchema } from './schemas.js';

export type JobView = z.output<typeof JobViewSchema>;
export type RunView = z.output<typeof RunViewSchema>;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const num = z.coerce.number().optional().catch(undefined);
const str = z.preprocess(
  (v) => (v === undefined || v === null ? undefined : String(v)),
  z.string().optional(),
);
const StoredJob = z.object({
  state: z.coerce.string().catch('unknown'),
  attempts: z.coerce.number().catch(0),
  deferrals: z.coerce.number().catch(0),
  replays: z.coerce.number().catch(0),
  origin: str,
  notBefore: num,
  startedAt: num,
  finishedAt: num,
  leaseUntil: num,
  durationMs: num,
  lastStatus: num,
  lastError: str,
  skipReason: str,
  deadAt: num,
  replayedAt: num,
  retried: num,
});

const StoredRun = z.preprocess(
  (v) => (typeof v === 'string' ? JSON.parse(v) : v),
  z.object({
    jobId: z.string(),
    attempt: z.number(),
    outcome: z.enum(['succeeded', 'failed', 'dead']),
    status: z.number(),
    durationMs: z.number(),
    at: z.number(),
    origin: z.enum(['scheduled', 'manual', 'replay']),
    error: z.string().optional(),
  }),
);

export type JobReadsRedis = Pick<
  Redis,
  'hgetall' | 'hget' | 'hmget' | 'zscore' | 'lrange' | 'hkeys' | 'exists'
>;

const SlotWindow = z.object({
  state: z.enum(['fanning', 'done']),
  startAt: z.coerce.number(),
  windowMs: z.coerce.number(),
  backfilled: z.preprocess((v) => String(v) === '1', z.boolean()),
});

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export class JobReads {
  constructor(
    private readonly redis: JobReadsRedis,
    private readonly keys: Keys,
  ) {}

  async getJob(jobId: string): Promise<JobView> {
    const raw = await this.redis.hgetall<Record<string, unknown>>(this.keys.job(jobId));
    if (!raw || Object.keys(raw).length === 0) {
      const scheduled = await this.scheduledJob(jobId);
      if (scheduled) return scheduled;
      throw new NotFoundError(`job ${jobId} not found`);
    }
    const ids = parseJobId(jobId);
    const s = StoredJob.parse(raw);
    return defined({
      jobId,
      taskId: ids?.taskId ?? '',
      userId: ids?.userId ?? '',
      periodKey: ids?.periodKey ?? '',
      state: s.state,
      attempts: s.attempts,
      deferrals: s.deferrals,
      replays: s.replays,
      origin: s.origin,
      plannedAt: iso(s.notBefore),
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
      leaseUntil: s.state === 'running' ? iso(s.leaseUntil) : undefined,
      durationMs: s.durationMs,
      lastStatus: s.lastStatus,
      lastError: s.lastError,
      skipReason: s.skipReason,
      deadAt: iso(s.deadAt),
      replayedAt: iso(s.replayedAt),
      retried: s.retried,
    });
  }

  /**
   * A job fanned out (or about to be) but not delivered yet has no hash: the fan-out writes none per
   * job, to keep a job's cost at its publish. It exists when its slot (task, the user's zone group,
   * period) was claimed and the user is in the index the slot is fanned out from. Two round trips,
   * only on this path.
   */
  private async scheduledJob(jobId: string): Promise<JobView | undefined> {
    const ids = parseJobId(jobId);
    if (!ids) return undefined;
    const k = this.keys;
    const [policy, zone] = await Promise.all([
      this.redis.hget<unknown>(k.userTaskZones(ids.userId), ids.taskId),
      this.redis.hget<unknown>(k.user(ids.userId), 'zone'),
    ]);
    if (policy === null || policy === undefined) return undefined;
    // Indexed under the user's zone for user-zone tasks, under "_" for fixed-zone ones (lib/store/lua).
    const group = String(policy) === 'user' ? String(zone ?? '') : FIXED_ZONE_GROUP;
    if (group === '') return undefined;
    const [slotFields, member] = await Promise.all([
      this.redis.hmget<Record<string, unknown>>(
        k.slot(ids.taskId, group, ids.periodKey),
        'state',
        'startAt',
        'windowMs',
        'backfilled',
      ),
      this.redis.zscore(k.taskIndex(ids.taskId, group), ids.userId),
    ]);
    const slot = SlotWindow.safeParse(slotFields ?? {});
    if (!slot.success || member === null || member === undefined) return undefined;
    return {
      jobId,
      ...ids,
      state: 'scheduled',
      attempts: 0,
      deferrals: 0,
      replays: 0,
      origin: 'scheduled',
      window: {
        start: new Date(slot.data.startAt).toISOString(),
        end: new Date(slot.data.startAt + slot.data.windowMs).toISOString(),
      },
      backfilled: slot.data.backfilled,
    };
  }

  /**
   * Newest first. With a task, that (user, task) history; without, the newest runs over the
   * user's enabled tasks. NotFoundError when the user does not exist.
   */
  async listRuns(userId: string, taskId: string | undefined, limit: number): Promise<RunView[]> {
    const k = this.keys;
    const [exists, taskIds] = await Promise.all([
      this.redis.exists(k.user(userId)),
      taskId === undefined ? this.redis.hkeys(k.userTasks(userId)) : Promise.resolve([taskId]),
    ]);
    if (exists === 0) throw new NotFoundError(`user ${userId} not found`);
    const lists = await Promise.all(
      taskIds.map((t) => this.redis.lrange<unknown>(k.runs(userId, String(t)), 0, limit - 1)),
    );
    return lists
      .flat()
      .map((r): RunEntry => StoredRun.parse(r))
      .sort((a, b) => b.at - a.at)
      .slice(0, limit)
      .map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  }
}

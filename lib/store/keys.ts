// Every Redis key stagger writes, in one place, under a configurable prefix (tests and tenants never collide).
export type Keys = ReturnType<typeof keysFor>;

export function keysFor(prefix: string) {
  return {
    prefix,
    // preferences
    users: `${prefix}users`, // zset (score 0), members = user ids; paged BYLEX
    user: (userId: string) => `${prefix}user:${userId}`, // hash: zone, enabled, labels, createdAt, updatedAt
    userTasks: (userId: string) => `${prefix}utasks:${userId}`, // hash: taskId -> JSON params
    // hash: taskId -> zone policy (`user` | `fixed`) the user was indexed under, so moves and removals stay exact
    userTaskZones: (userId: string) => `${prefix}utzones:${userId}`,
    // zset (score 0) of enabled user ids; the preference scripts (lib/store/lua) build idx:/idxzones: keys the same way
    taskIndex: (taskId: string, zoneGroup: string) => `${prefix}idx:${taskId}:${zoneGroup}`,
    taskZones: (taskId: string) => `${prefix}idxzones:${taskId}`, // hash: zoneGroup -> member count
    taskCounts: `${prefix}taskcounts`, // hash: taskId -> users enabled
    pausedTasks: `${prefix}paused`, // set of task ids paused at runtime
    // scheduler
    schedulerLock: `${prefix}sched:lock`, // string: owner token, PX
    schedulerFence: `${prefix}sched:fence`, // counter: fencing number per lock grant and per continuation take-over
    schedulerStatus: `${prefix}sched:status`, // hash: last tick, holder
    dlqSweep: `${prefix}sched:dlqsweep`, // string, PX: set while a QStash-DLQ sweep is not due again (scheduler/dlq-reconcile.ts)
    // zset: slot key -> claimed at, every slot claimed in the last doneRetentionMs (its settlement is checked)
    recentSlots: `${prefix}slots:recent`,
    // hash: state (fanning|done), fence, cursor, count, total, dueAt, startAt, windowMs, backfilled, claimedAt, updatedAt
    slot: (taskId: string, zoneGroup: string, periodKey: string) =>
      `${prefix}slot:${taskId}:${zoneGroup}:${periodKey}`,
    // string "<dueAt ms>:<periodKey>" of the last period claimed: older periods never run again
    lastSlot: (taskId: string, zoneGroup: string) => `${prefix}lastslot:${taskId}:${zoneGroup}`,
    activeSlots: `${prefix}slots:active`, // zset: slot key -> claimed at
    // jobs
    job: (jobId: string) => `${prefix}job:${jobId}`, // hash: state, attempts, notBefore, last result
    runs: (userId: string, taskId: string) => `${prefix}runs:${userId}:${taskId}`, // capped list of JSON runs
    deadLetters: `${prefix}dlq`, // zset: dead-letter id -> time
    deadLetter: (id: string) => `${prefix}dlq:${id}`, // hash
    metrics: `${prefix}metrics`, // hash of counters and histogram buckets (field layout: lib/metrics/fields.ts)
    // hash of one (task, period): planned, started, succeeded, failed, dead, skipped, deferred, and
    // `s:<bucket start ms>` -> first starts in that bucket; expires a few periods later (lib/metrics/buckets.ts)
    periodStats: (taskId: string, periodKey: string) => `${prefix}pstats:${taskId}:${periodKey}`,
    ratelimit: (name: string) => `${prefix}rl:${name}`, // zset: sliding log of admissions (member job#attempt -> ms)
    // @upstash/ratelimit's keys of the admin API limits (lib/http/admin-limits.ts): <this><class>:<k:key hash | a:address>...
    adminRateLimit: `${prefix}adminrl:`,
    deferralHorizons: `${prefix}rl:_horizons`, // hash: limit name -> next free deferral slot (ms); `_` never starts a limit name
  };
}

// The metrics hash: field names the scripts write, and the parser that turns the hash back into counters and histograms.
//
// One Redis hash (keys.metrics) holds every counter, so each Lambda instance adds to the same totals and
// a scrape is one HGETALL. Fields (task ids match /^[a-z][a-z0-9_]*$/, so `_sched` and `limit` cannot clash):
//   <task>:<counter>            job counters (see TASK_COUNTERS)
//   <task>:lat:<le>|sum         lateness histogram (ms; buckets non-cumulative)
//   <task>:dur:<le>|sum         call duration histogram (ms)
//   limit:<name>:denied         deferrals caused by one rate limit
//   _sched:<counter>            scheduler counters (see SCHEDULER_COUNTERS)
//   _sched:tick:<le>|sum        tick duration histogram (ms)

/** Counters kept per task type, by field suffix. */
export const TASK_COUNTERS = [
  'planned', // slot totals at claim (claimSlot)
  'published', // jobs checkpointed as published (scheduler, per page)
  'pubdup', // publishes QStash answered as duplicates (scheduler, per page)
  'started', // attempts claimed (startJob)
  'succeeded', // attempts that succeeded (recordRun)
  'failed', // attempts that failed retryably (recordRun)
  'dead', // attempts that failed permanently (recordRun)
  'duplicate', // deliveries of a settled job (startJob)
  'busy', // deliveries while another attempt held the claim (startJob)
  'skipped', // jobs skipped: user or task gone, disabled, paused (startJob)
  'deferred', // deliveries deferred by a full rate limit (startJob)
  'late', // reservations given back after a late wake-up, then reserved again or deferred (releaseClaim)
  'replayed', // dead letters replayed (admin)
  'dlq_permanent', // dead-lettered at once: the target refused for good (recordRun)
  'dlq_retries_exhausted', // dead-lettered by QStash's failure callback (deadLetterJob)
] as const;
export type TaskCounter = (typeof TASK_COUNTERS)[number];

export const SCHEDULER_COUNTERS = ['claimed', 'resumed', 'done', 'failed'] as const;
export type SchedulerCounter = (typeof SCHEDULER_COUNTERS)[number];

export const SCHEDULER_FIELD = '_sched';
export const LATENESS = 'lat';
export const DURATION = 'dur';
export const TICK = 'tick';

export const metricField = {
  task: (taskId: string, counter: TaskCounter) => `${taskId}:${counter}`,
  taskBucket: (taskId: string, histogram: typeof LATENESS | typeof DURATION, le: string) =>
    `${taskId}:${histogram}:${le}`,
  scheduler: (counter: SchedulerCounter) => `${SCHEDULER_FIELD}:${counter}`,
  tickBucket: (le: string) => `${SCHEDULER_FIELD}:${TICK}:${le}`,
};

/** Non-cumulative bucket counts by label (a bound in ms, or `inf`), and the sum of observations (ms). */
export interface HistogramData {
  buckets: Record<string, number>;
  sumMs: number;
}

export interface TaskMetrics {
  counters: Partial<Record<TaskCounter, number>>;
  lateness?: HistogramData;
  duration?: HistogramData;
}

export interface MetricsHash {
  tasks: Map<string, TaskMetrics>;
  limits: Map<string, { denied: number }>;
  scheduler: { counters: Partial<Record<SchedulerCounter, number>>; tick?: HistogramData };
}

const isTaskCounter = (s: string): s is TaskCounter => (TASK_COUNTERS as readonly string[]).includes(s);
const isSchedulerCounter = (s: string): s is SchedulerCounter =>
  (SCHEDULER_COUNTERS as readonly string[]).includes(s);

function observe(h: HistogramData | undefined, label: string, value: number): HistogramData {
  const out = h ?? { buckets: {}, sumMs: 0 };
  if (label === 'sum') out.sumMs += value;
  else out.buckets[label] = (out.buckets[label] ?? 0) + value;
  return out;
}

/** Parses HGETALL of the metrics hash; fields of another shape (older layouts) are ignored. */
export function parseMetricsHash(raw: Record<string, unknown> | null | undefined): MetricsHash {
  const out: MetricsHash = { tasks: new Map(), limits: new Map(), scheduler: { counters: {} } };
  const task = (id: string) => {
    let t = out.tasks.get(id);
    if (!t) out.tasks.set(id, (t = { counters: {} }));
    return t;
  };
  for (const [field, rawValue] of Object.entries(raw ?? {})) {
    const value = Number(rawValue);
    if (!Number.isFinite(value)) continue;
    const parts = field.split(':');
    const [head, second, third] = parts;
    if (head === undefined || second === undefined) continue;
    if (head === SCHEDULER_FIELD) {
      if (second === TICK && third !== undefined && parts.length === 3)
        out.scheduler.tick = observe(out.scheduler.tick, third, value);
      else if (parts.length === 2 && isSchedulerCounter(second)) out.scheduler.counters[second] = value;
    } else if (head === 'limit' && parts.length === 3 && third === 'denied') {
      out.limits.set(second, { denied: value });
    } else if (parts.length === 2 && isTaskCounter(second)) {
      task(head).counters[second] = value;
    } else if (parts.length === 3 && third !== undefined && (second === LATENESS || second === DURATION)) {
      const t = task(head);
      if (second === LATENESS) t.lateness = observe(t.lateness, third, value);
      else t.duration = observe(t.duration, third, value);
    }
  }
  return out;
}

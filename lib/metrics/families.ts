// Which Prometheus metrics stagger exposes: the metrics hash and the live gauges as metric families. Pure.
import { DURATION_BOUNDS_MS, LATENESS_BOUNDS_MS, TICK_BOUNDS_MS } from './buckets.js';
import type { MetricsHash, TaskCounter, TaskMetrics } from './fields.js';
import { histogramSeconds, type HistogramSample, type MetricFamily, type Sample } from './prometheus.js';

/** Read at scrape time (not counted): what is true now. */
export interface LiveGauges {
  /** Epoch ms of the last completed tick, or null. */
  lastTickAt: number | null;
  lockHeld: boolean;
  activeSlots: number;
  /** Jobs still to publish in active slots (total minus published). */
  pendingJobs: number;
  limits: readonly { name: string; limit: number; windowMs: number; used: number; remaining: number }[];
  deadLetters: number;
  /** Users with each task type enabled. */
  users: Readonly<Record<string, number>>;
}

/** Every task counter family: name, help, the hash counter it reads and its fixed labels. */
const TASK_FAMILIES: readonly {
  name: string;
  help: string;
  series: readonly [TaskCounter, Record<string, string>][];
}[] = [
  {
    name: 'stagger_jobs_planned_total',
    help: 'Jobs planned: members of each slot when the scheduler claimed it.',
    series: [['planned', {}]],
  },
  {
    name: 'stagger_jobs_published_total',
    help: 'Jobs published to QStash, as checkpointed after each fan-out page.',
    series: [['published', {}]],
  },
  {
    name: 'stagger_jobs_deduplicated_total',
    help: 'Duplicates dropped: publishes QStash deduplicated (stage=publish), deliveries of a settled job (stage=delivery).',
    series: [
      ['pubdup', { stage: 'publish' }],
      ['duplicate', { stage: 'delivery' }],
    ],
  },
  {
    name: 'stagger_jobs_started_total',
    help: 'Attempts claimed and started by a worker.',
    series: [['started', {}]],
  },
  { name: 'stagger_jobs_succeeded_total', help: 'Attempts that succeeded.', series: [['succeeded', {}]] },
  {
    name: 'stagger_jobs_failed_total',
    help: 'Attempts that failed: retryable (QStash retries) or permanent (dead-lettered at once).',
    series: [
      ['failed', { kind: 'retryable' }],
      ['dead', { kind: 'permanent' }],
    ],
  },
  {
    name: 'stagger_jobs_deferred_total',
    help: 'Deliveries the rate limiter did not send at once: no instant within the wait budget (rate_limited, deferred) or a reservation missed by a late wake-up (late_send, reserved again).',
    series: [
      ['deferred', { reason: 'rate_limited' }],
      ['late', { reason: 'late_send' }],
    ],
  },
  {
    name: 'stagger_jobs_skipped_total',
    help: 'Jobs skipped: user or task gone, disabled or paused.',
    series: [['skipped', {}]],
  },
  {
    name: 'stagger_jobs_busy_total',
    help: 'Deliveries turned back while another attempt of the job was running.',
    series: [['busy', {}]],
  },
  {
    name: 'stagger_jobs_dead_lettered_total',
    help: 'Jobs that became dead letters: permanent failure, or retries exhausted (QStash failure callback).',
    series: [
      ['dlq_permanent', { reason: 'permanent' }],
      ['dlq_retries_exhausted', { reason: 'retries_exhausted' }],
    ],
  },
  {
    name: 'stagger_jobs_replayed_total',
    help: 'Dead letters replayed from the admin API.',
    series: [['replayed', {}]],
  },
];

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: 'gauge',
  samples,
});
const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: 'counter',
  samples,
});

/**
 * The exposition: every counter family for every task type in `taskIds` (zeros included, so rates
 * start at once) and any other task found in the hash; histograms only where observed.
 */
export function metricFamilies(
  hash: MetricsHash,
  live: LiveGauges,
  taskIds: readonly string[],
): MetricFamily[] {
  const ids = [...new Set([...taskIds, ...hash.tasks.keys()])].sort();
  const empty: TaskMetrics = { counters: {} };
  const task = (id: string) => hash.tasks.get(id) ?? empty;
  const families: MetricFamily[] = TASK_FAMILIES.map((f) =>
    counter(
      f.name,
      f.help,
      ids.flatMap((id) =>
        f.series.map(([c, labels]) => ({
          labels: { task: id, ...labels },
          value: task(id).counters[c] ?? 0,
        })),
      ),
    ),
  );
  const histograms = (
    pick: (t: TaskMetrics) => TaskMetrics['lateness'],
    bounds: readonly number[],
  ): HistogramSample[] =>
    ids
      .filter((id) => pick(task(id)) !== undefined)
      .map((id) => histogramSeconds(pick(task(id)), bounds, { task: id }));
  families.push(
    {
      name: 'stagger_job_lateness_seconds',
      help: 'First start of a job minus its planned notBefore (deferrals included; replays excluded).',
      type: 'histogram',
      samples: histograms((t) => t.lateness, LATENESS_BOUNDS_MS),
    },
    {
      name: 'stagger_job_duration_seconds',
      help: 'Duration of the HTTP call of each attempt.',
      type: 'histogram',
      samples: histograms((t) => t.duration, DURATION_BOUNDS_MS),
    },
    counter(
      'stagger_limiter_denied_total',
      'Deliveries a rate limit refused (the job was deferred), by the limit that refused.',
      [...new Set([...live.limits.map((l) => l.name), ...hash.limits.keys()])].sort().map((name) => ({
        labels: { limit: name },
        value: hash.limits.get(name)?.denied ?? 0,
      })),
    ),
    gauge(
      'stagger_limiter_capacity',
      'Admissions a rate limit allows per window.',
      live.limits.map((l) => ({ labels: { limit: l.name }, value: l.limit })),
    ),
    gauge(
      'stagger_limiter_remaining',
      'Admissions left in the current sliding window of each rate limit.',
      live.limits.map((l) => ({ labels: { limit: l.name }, value: l.remaining })),
    ),
  );

  const s = hash.scheduler.counters;
  families.push(
    {
      name: 'stagger_scheduler_tick_duration_seconds',
      help: 'Duration of scheduler ticks that held the lock (claim and fan-out until done or handed over).',
      type: 'histogram',
      samples: [histogramSeconds(hash.scheduler.tick, TICK_BOUNDS_MS)],
    },
    counter(
      'stagger_scheduler_slots_claimed_total',
      'Slots claimed by ticks: new (how=claimed) or taken over when abandoned (how=resumed).',
      [
        { labels: { how: 'claimed' }, value: s.claimed ?? 0 },
        { labels: { how: 'resumed' }, value: s.resumed ?? 0 },
      ],
    ),
    counter('stagger_scheduler_slots_done_total', 'Slots whose fan-out finished.', [{ value: s.done ?? 0 }]),
    counter(
      'stagger_scheduler_fanout_failures_total',
      'Slot fan-outs that failed in a tick (resumed later from their checkpoint).',
      [{ value: s.failed ?? 0 }],
    ),
    gauge(
      'stagger_scheduler_last_tick_timestamp_seconds',
      'When the last tick that held the lock ran (0 = never).',
      [{ value: live.lastTickAt === null ? 0 : live.lastTickAt / 1000 }],
    ),
    gauge('stagger_scheduler_lock_held', '1 while a scheduler tick holds the lock.', [
      { value: live.lockHeld ? 1 : 0 },
    ]),
    gauge('stagger_fanout_active_slots', 'Slots still fanning out.', [{ value: live.activeSlots }]),
    gauge('stagger_fanout_pending_jobs', 'Jobs of active slots not yet published.', [
      { value: live.pendingJobs },
    ]),
    gauge('stagger_dead_letters', 'Dead letters waiting in the list.', [{ value: live.deadLetters }]),
    gauge(
      'stagger_task_users',
      'Users with each task type enabled.',
      ids.map((id) => ({ labels: { task: id }, value: live.users[id] ?? 0 })),
    ),
  );
  return families;
}

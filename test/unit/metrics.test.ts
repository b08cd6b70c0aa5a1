// Metrics, pure parts: histogram bucketing, the metrics-hash layout, the Prometheus text (read back by a real parser).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bucketLabel,
  DURATION_BOUNDS_MS,
  LATENESS_BOUNDS_MS,
  periodStatsTtlMs,
  startsBucketMs,
} from '../../lib/metrics/buckets.js';
import { metricFamilies, type LiveGauges } from '../../lib/metrics/families.js';
import { metricField, parseMetricsHash } from '../../lib/metrics/fields.js';
import { renderFamilies } from '../../lib/metrics/prometheus.js';
import { tickWrites } from '../../lib/scheduler/tick-record.js';
import { readScrape } from '../helpers/prometheus.js';

const LIVE: LiveGauges = {
  lastTickAt: 1_800_000_000_000,
  lockHeld: false,
  activeSlots: 2,
  pendingJobs: 40,
  limits: [{ name: 'global', limit: 100, windowMs: 1000, used: 30, remaining: 70 }],
  deadLetters: 3,
  users: { ping: 5, pong: 1 },
};

describe('histogram buckets', () => {
  it('puts a value in the smallest bound at or above it, and past the last bound in inf', () => {
    expect(bucketLabel(DURATION_BOUNDS_MS, 0)).toBe('10');
    expect(bucketLabel(DURATION_BOUNDS_MS, 10)).toBe('10');
    expect(bucketLabel(DURATION_BOUNDS_MS, 11)).toBe('25');
    expect(bucketLabel(DURATION_BOUNDS_MS, 30_000)).toBe('30000');
    expect(bucketLabel(DURATION_BOUNDS_MS, 30_001)).toBe('inf');
  });

  it('is monotonic: a larger value never lands in an earlier bucket', () => {
    const order = [...LATENESS_BOUNDS_MS.map(String), 'inf'];
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(order.indexOf(bucketLabel(LATENESS_BOUNDS_MS, lo))).toBeLessThanOrEqual(
          order.indexOf(bucketLabel(LATENESS_BOUNDS_MS, hi)),
        );
      }),
    );
  });

  it('sizes start-time buckets in whole seconds, ~120 per spread window, and keeps period stats three periods (a day at least)', () => {
    expect(startsBucketMs(20_000)).toBe(1_000);
    expect(startsBucketMs(600_000)).toBe(5_000);
    expect(startsBucketMs(14_400_000)).toBe(120_000);
    expect(
      periodStatsTtlMs({ kind: 'every', every: 'hour', at: ':00', offset: { minute: 0 } } as never),
    ).toBe(86_400_000);
    expect(
      periodStatsTtlMs({
        kind: 'every',
        every: 'week',
        at: 'mon 00:00',
        offset: { weekday: 1, hour: 0, minute: 0 },
      } as never),
    ).toBe(3 * 7 * 86_400_000);
  });
});

describe('metrics hash', () => {
  it('reads counters, histograms, limiter and scheduler fields, and ignores other shapes', () => {
    const hash = parseMetricsHash({
      'ping:started': '4',
      'ping:succeeded': 3,
      'ping:lat:250': 2,
      'ping:lat:inf': 1,
      'ping:lat:sum': 90_500,
      'ping:dur:10': 3,
      'ping:dur:sum': 21,
      'limit:global:denied': 7,
      '_sched:claimed': 2,
      '_sched:tick:100': 1,
      '_sched:tick:sum': 64,
      'ping:unknown_counter': 9,
      'a:b:c:d': 1,
      'ping:started:extra': 1,
    });
    expect(hash.tasks.get('ping')).toEqual({
      counters: { started: 4, succeeded: 3 },
      lateness: { buckets: { '250': 2, inf: 1 }, sumMs: 90_500 },
      duration: { buckets: { '10': 3 }, sumMs: 21 },
    });
    expect(hash.limits.get('global')).toEqual({ denied: 7 });
    expect(hash.scheduler).toEqual({ counters: { claimed: 2 }, tick: { buckets: { '100': 1 }, sumMs: 64 } });
  });

  it('names fields so a task called "limit" cannot be read as a rate limit', () => {
    const hash = parseMetricsHash({
      [metricField.task('limit', 'started')]: 1,
      [metricField.taskBucket('limit', 'lat', '100')]: 1,
    });
    expect(hash.limits.size).toBe(0);
    expect(hash.tasks.get('limit')?.counters.started).toBe(1);
  });
});

describe('Prometheus text', () => {
  const hash = parseMetricsHash({
    'ping:planned': 5,
    'ping:published': 5,
    'ping:started': 6,
    'ping:succeeded': 4,
    'ping:failed': 1,
    'ping:dead': 1,
    'ping:dlq_permanent': 1,
    'ping:duplicate': 2,
    'ping:deferred': 3,
    'ping:dur:100': 5,
    'ping:dur:inf': 1,
    'ping:dur:sum': 40_250,
    'pong:lat:1000': 1,
    'pong:lat:sum': 900,
    'limit:global:denied': 3,
    '_sched:claimed': 1,
    '_sched:tick:250': 1,
    '_sched:tick:sum': 200,
  });
  const text = renderFamilies(metricFamilies(hash, LIVE, ['ping', 'pong', 'quiet']));
  const scrape = readScrape(text);

  it('is read back by a Prometheus text parser with the values put in', () => {
    expect(scrape.value('stagger_jobs_started_total', { task: 'ping' })).toBe(6);
    expect(scrape.value('stagger_jobs_failed_total', { task: 'ping', kind: 'retryable' })).toBe(1);
    expect(scrape.value('stagger_jobs_failed_total', { task: 'ping', kind: 'permanent' })).toBe(1);
    expect(scrape.value('stagger_jobs_dead_lettered_total', { task: 'ping', reason: 'permanent' })).toBe(1);
    expect(scrape.value('stagger_jobs_deduplicated_total', { task: 'ping', stage: 'delivery' })).toBe(2);
    expect(scrape.value('stagger_jobs_deferred_total', { task: 'ping', reason: 'rate_limited' })).toBe(3);
    expect(scrape.value('stagger_limiter_denied_total', { limit: 'global' })).toBe(3);
    expect(scrape.value('stagger_limiter_remaining', { limit: 'global' })).toBe(70);
    expect(scrape.value('stagger_scheduler_slots_claimed_total', { how: 'claimed' })).toBe(1);
    expect(scrape.value('stagger_fanout_pending_jobs')).toBe(40);
    expect(scrape.value('stagger_dead_letters')).toBe(3);
    expect(scrape.value('stagger_scheduler_last_tick_timestamp_seconds')).toBe(1_800_000_000);
    expect(scrape.families.get('stagger_jobs_started_total')?.type).toBe('COUNTER');
    expect(scrape.families.get('stagger_job_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('starts every catalog task at zero and leaves unobserved histograms out', () => {
    expect(scrape.value('stagger_jobs_started_total', { task: 'quiet' })).toBe(0);
    expect(scrape.value('stagger_task_users', { task: 'quiet' })).toBe(0);
    expect(scrape.histogram('stagger_job_duration_seconds', { task: 'quiet' })).toBeUndefined();
  });

  it('renders histograms cumulative in seconds with +Inf, _sum and _count', () => {
    expect(scrape.histogram('stagger_job_duration_seconds', { task: 'ping' })).toEqual({
      buckets: {
        '0.01': 0,
        '0.025': 0,
        '0.05': 0,
        '0.1': 5,
        '0.25': 5,
        '0.5': 5,
        '1': 5,
        '2.5': 5,
        '5': 5,
        '10': 5,
        '30': 5,
        '+Inf': 6,
      },
      count: 6,
      sum: 40.25,
    });
    expect(scrape.histogram('stagger_job_lateness_seconds', { task: 'pong' })).toMatchObject({
      count: 1,
      sum: 0.9,
    });
    expect(scrape.histogram('stagger_job_lateness_seconds', { task: 'pong' })?.buckets['1']).toBe(1);
    expect(scrape.histogram('stagger_scheduler_tick_duration_seconds')).toMatchObject({ count: 1, sum: 0.2 });
  });

  it('escapes label values and help text', () => {
    const odd = renderFamilies([
      { name: 'x_total', help: 'a\\b\nc', type: 'counter', samples: [{ labels: { v: 'q"\\\n' }, value: 1 }] },
    ]);
    expect(odd).toBe('# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{v="q\\"\\\\\\n"} 1\n');
    expect(readScrape(odd).families.get('x_total')?.metrics[0]?.labels).toEqual({ v: 'q"\\\n' });
  });

  it('refuses a metric or label name Prometheus would reject', () => {
    expect(() => renderFamilies([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(
      /metric name/,
    );
    expect(() =>
      renderFamilies([
        { name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'le-x': '1' }, value: 1 }] },
      ]),
    ).toThrow(/label name/);
  });
});

describe('tick writes', () => {
  it('counts the tick and its duration bucket (planned jobs are counted by the claim itself)', () => {
    const w = tickWrites({
      now: 0,
      fence: 1,
      durationMs: 180.4,
      claimed: 2,
      resumed: 1,
      failed: 0,
      summary: {},
    });
    expect(w.metrics).toEqual({
      '_sched:tick:250': 1,
      '_sched:tick:sum': 180,
      '_sched:claimed': 2,
      '_sched:resumed': 1,
    });
  });
});

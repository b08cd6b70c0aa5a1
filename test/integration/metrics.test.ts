// GET /metrics and GET /v1/overview after a known set of jobs: a tick fanning out 3 jobs, a success, a duplicate delivery,
// a retry, a permanent failure and its replay, a rate-limit deferral. Scraped and read back with a Prometheus text parser.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONTENT_TYPE } from '../../lib/metrics/prometheus.js';
import type { Overview } from '../../lib/dashboard/schemas.js';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import { SlotStore } from '../../lib/scheduler/slots.js';
import { DEFAULT_SETTINGS } from '../../lib/scheduler/deps.js';
import { keysFor } from '../../lib/store/keys.js';
import { readScrape, type Scrape } from '../helpers/prometheus.js';
import { writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, waitFor, type TestStack } from '../helpers/stack.js';
import { jobHash, jobMessage, publishJob, seedUser } from '../helpers/worker-fixtures.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
// Never due near now (late-first-seen): the tick leaves these to the jobs this test publishes itself.
const YEARLY = "{ cron: '0 0 1 1 *' }";
const behaviour = new Map<string, (n: number) => number>();
let stack: TestStack;
const keys = () => keysFor(stack.prefix);

beforeAll(async () => {
  const catalog = writeSchedulerCatalog({ global: '1000/1s', tight: '1/5m' }, [
    { id: 'minute', schedule: "{ cron: '* * * * *' }", spread: '2s' },
    { id: 'ping', schedule: YEARLY },
    { id: 'flaky', schedule: YEARLY },
    { id: 'gone', schedule: YEARLY },
    { id: 'tight', schedule: YEARLY, rateLimits: ['tight'] },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog.path, STAGGER_METRICS_TOKENS: METRICS_TOKEN },
    target: { respond: (hit, n) => behaviour.get(hit.path.split('/')[2] ?? '')?.(n) ?? 200 },
  });
  for (const user of ['u1', 'u2', 'u3']) await seedUser(stack, user, { minute: {} });
  await seedUser(stack, 'alice', { ping: {}, flaky: {}, gone: {}, tight: {} });
});

afterAll(async () => {
  await stack?.stop();
});

const state = async (jobId: string, want: string) =>
  waitFor(
    async () => ((await jobHash(stack, jobId))['state'] === want ? true : undefined),
    15_000,
    `${jobId} ${want}`,
  );

async function scrape(auth = 'test-admin-key-0123456789'): Promise<Scrape> {
  const res = await fetch(`${stack.api.url}/metrics`, { headers: { authorization: `Bearer ${auth}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
  const text = await res.text();
  // The last scrape stays for people to read (test/artifacts is git-ignored).
  mkdirSync('test/artifacts', { recursive: true });
  writeFileSync('test/artifacts/metrics.txt', text);
  return readScrape(text);
}

describe('metrics after a known set of jobs', () => {
  it('refuses a scrape without a key, and the metrics token anywhere but /metrics', async () => {
    expect((await fetch(`${stack.api.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${stack.api.url}/metrics`, { headers: { authorization: 'Bearer wrong-key-0123456789' } }))
        .status,
    ).toBe(401);
    expect(
      (await fetch(`${stack.api.url}/v1/overview`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(401);
    expect(
      (await fetch(`${stack.api.url}/metrics?x=1`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(400);
  });

  it('counts a tick, its fan-out and every kind of job outcome', async () => {
    // The tick: one slot of 3 jobs spread over 2 s.
    const tick = await stack.admin('/v1/scheduler/run', { method: 'POST' });
    expect(tick.status).toBe(200);
    const summary = (await tick.json()) as { claimed: number; published: number; slots: { slot: string }[] };
    expect([summary.claimed, summary.published]).toEqual([1, 3]);
    const periodKey = summary.slots[0]!.slot.split(':').slice(2).join(':');
    await Promise.all(['u1', 'u2', 'u3'].map((u) => state(`minute:${u}:${periodKey}`, 'succeeded')));

    // A success, then the same job delivered again.
    const ping = jobMessage('ping', 'alice', 'p1');
    await publishJob(stack, ping);
    await state(ping.jobId, 'succeeded');
    await publishJob(stack, ping, { dedupId: `${ping.jobId}:again` });
    await waitFor(async () =>
      (await scrape()).value('stagger_jobs_deduplicated_total', { task: 'ping', stage: 'delivery' }) === 1
        ? true
        : undefined,
    );

    // A retryable failure, then a success.
    behaviour.set('flaky', (n) => (n === 1 ? 500 : 200));
    const flaky = jobMessage('flaky', 'alice', 'p1');
    await publishJob(stack, flaky);
    await state(flaky.jobId, 'succeeded');

    // A permanent failure: dead-lettered at once (then QStash's failure callback, which changes nothing).
    behaviour.set('gone', () => 404);
    const gone = jobMessage('gone', 'alice', 'p1');
    await publishJob(stack, gone);
    await waitFor(async () =>
      (await stack.redis.hget(keys().deadLetter(gone.jobId), 'qstashMessageId')) ? true : undefined,
    );

    // Two jobs under a limit of 1 per 5 min: one runs, one is deferred for minutes.
    const tight = [jobMessage('tight', 'alice', 'p1'), jobMessage('tight', 'alice', 'p2')];
    await Promise.all(tight.map((m) => publishJob(stack, m)));
    await waitFor(async () => {
      const states = await Promise.all(tight.map(async (m) => (await jobHash(stack, m.jobId))['state']));
      return states.sort().join() === 'deferred,succeeded' ? true : undefined;
    });

    const s = await scrape(METRICS_TOKEN);
    const v = (name: string, labels: Record<string, string>) => s.value(name, labels);
    expect(v('stagger_jobs_planned_total', { task: 'minute' })).toBe(3);
    expect(v('stagger_jobs_published_total', { task: 'minute' })).toBe(3);
    expect(v('stagger_jobs_started_total', { task: 'minute' })).toBe(3);
    expect(v('stagger_jobs_succeeded_total', { task: 'minute' })).toBe(3);
    expect(s.histogram('stagger_job_lateness_seconds', { task: 'minute' })?.count).toBe(3);
    expect(s.histogram('stagger_job_duration_seconds', { task: 'minute' })?.count).toBe(3);

    expect(v('stagger_jobs_started_total', { task: 'ping' })).toBe(1);
    expect(v('stagger_jobs_succeeded_total', { task: 'ping' })).toBe(1);
    expect(v('stagger_jobs_deduplicated_total', { task: 'ping', stage: 'delivery' })).toBe(1);
    expect(v('stagger_jobs_published_total', { task: 'ping' })).toBe(0);

    expect(v('stagger_jobs_started_total', { task: 'flaky' })).toBe(2);
    expect(v('stagger_jobs_failed_total', { task: 'flaky', kind: 'retryable' })).toBe(1);
    expect(v('stagger_jobs_succeeded_total', { task: 'flaky' })).toBe(1);
    // Lateness once per job, duration once per attempt.
    expect(s.histogram('stagger_job_lateness_seconds', { task: 'flaky' })?.count).toBe(1);
    expect(s.histogram('stagger_job_duration_seconds', { task: 'flaky' })?.count).toBe(2);

    expect(v('stagger_jobs_failed_total', { task: 'gone', kind: 'permanent' })).toBe(1);
    expect(v('stagger_jobs_dead_lettered_total', { task: 'gone', reason: 'permanent' })).toBe(1);
    expect(v('stagger_jobs_dead_lettered_total', { task: 'gone', reason: 'retries_exhausted' })).toBe(0);
    expect(v('stagger_dead_letters', {})).toBe(1);

    expect(v('stagger_jobs_started_total', { task: 'tight' })).toBe(1);
    expect(v('stagger_jobs_deferred_total', { task: 'tight', reason: 'rate_limited' })).toBe(1);
    expect(v('stagger_limiter_denied_total', { limit: 'tight' })).toBe(1);
    expect(v('stagger_limiter_capacity', { limit: 'tight' })).toBe(1);
    expect(v('stagger_limiter_remaining', { limit: 'tight' })).toBe(0);
    expect(v('stagger_limiter_capacity', { limit: 'global' })).toBe(1000);

    expect(v('stagger_scheduler_slots_claimed_total', { how: 'claimed' })).toBe(1);
    expect(v('stagger_scheduler_slots_done_total', {})).toBe(1);
    expect(v('stagger_scheduler_fanout_failures_total', {})).toBe(0);
    expect(v('stagger_fanout_active_slots', {})).toBe(0);
    expect(v('stagger_scheduler_lock_held', {})).toBe(0);
    expect(s.histogram('stagger_scheduler_tick_duration_seconds')?.count).toBe(1);
    expect(
      Math.abs(v('stagger_scheduler_last_tick_timestamp_seconds', {})! - Date.now() / 1000),
    ).toBeLessThan(60);
    expect(v('stagger_task_users', { task: 'minute' })).toBe(3);

    // The overview agrees, and counts the period's outcomes.
    const overview = (await (await stack.admin('/v1/overview')).json()) as Overview;
    const minute = overview.taskTypes.find((t) => t.id === 'minute')!;
    expect(minute.users).toBe(3);
    expect(minute.lastPeriod).toMatchObject({
      key: periodKey,
      planned: 3,
      started: 3,
      succeeded: 3,
      failed: 0,
      dead: 0,
    });
    expect(minute.nextPeriod?.key).not.toBe(periodKey);
    expect(overview.chart).toMatchObject({
      taskId: 'minute',
      periodKey,
      planned: 3,
      windowMs: 2_000,
      barMs: 1_000,
    });
    expect(
      overview.chart!.counts.reduce((a, b) => a + b, 0) + overview.chart!.after + overview.chart!.outside,
    ).toBe(3);
    expect(overview.totals['started']).toBe(3 + 1 + 2 + 1 + 1);
    expect(overview.deadLetters.total).toBe(1);
    expect(overview.deadLetters.items.map((d) => d.id)).toEqual([gone.jobId]);
    expect(overview.limits.find((l) => l.name === 'tight')).toMatchObject({
      limit: 1,
      used: 1,
      remaining: 0,
    });
    expect(overview.limits.find((l) => l.name === 'tight')?.deferredUntil).not.toBeNull();

    // The replay, once the target is fixed.
    behaviour.set('gone', () => 200);
    expect(
      (await stack.admin(`/v1/dead-letters/${encodeURIComponent(gone.jobId)}/replay`, { method: 'POST' }))
        .status,
    ).toBe(202);
    await state(gone.jobId, 'succeeded');
    const after = await scrape();
    expect(after.value('stagger_jobs_replayed_total', { task: 'gone' })).toBe(1);
    expect(after.value('stagger_jobs_started_total', { task: 'gone' })).toBe(2);
    expect(after.value('stagger_jobs_succeeded_total', { task: 'gone' })).toBe(1);
    expect(after.value('stagger_dead_letters')).toBe(0);
    // A replay is not a late first start.
    expect(after.histogram('stagger_job_lateness_seconds', { task: 'gone' })?.count).toBe(1);
  });

  it('counts publishes QStash deduplicated, in the checkpoint that follows them', async () => {
    const prefix = `${stack.prefix}dedup:`;
    const k = keysFor(prefix);
    const publisher = new QStashPublisher(stack.qstash, stack.api.url);
    const jobs = [jobMessage('ping', 'zed', 'dedup-1', { notBefore: Date.now() + 3_600_000 })];
    expect(await publisher.publishJobs(jobs, 0)).toEqual({ deduplicated: 0 });
    expect(await publisher.publishJobs(jobs, 0)).toEqual({ deduplicated: 1 });

    const slots = new SlotStore(stack.redis, k, DEFAULT_SETTINGS);
    await stack.redis.zadd(k.taskIndex('ping', '_'), { score: 0, member: 'zed' });
    const plan = {
      kind: 'claim',
      taskId: 'ping',
      group: '_',
      tz: 'UTC',
      period: { key: 'P', startMs: 0, endMs: 1, dueAtMs: 1 },
      startAt: 1,
      windowMs: 1,
      total: 1,
      backfilled: false,
    } as const;
    const claimed = await slots.claim(plan, 1, 1_000, 60_000);
    expect(claimed.kind).toBe('claimed');
    await slots.advance(
      { taskId: 'ping', group: '_', periodKey: 'P', fence: 1 },
      { cursor: '', count: 0 },
      10,
      1_000,
    );
    await slots.advance(
      { taskId: 'ping', group: '_', periodKey: 'P', fence: 1 },
      { cursor: 'zed', count: 1 },
      10,
      1_000,
      1,
    );
    expect(await stack.redis.hgetall(k.metrics)).toEqual({
      'ping:planned': 1,
      'ping:published': 1,
      'ping:pubdup': 1,
      '_sched:done': 1,
    });
  });
});

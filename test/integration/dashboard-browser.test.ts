// The dashboard in a real headless Chromium against the local stack: it asks for the key, shows the numbers the admin API
// gives, charts a flat spread of starts, replays a dead letter to success, and leaves screenshots in test/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Overview } from '../../lib/dashboard/schemas.js';
import { binStarts } from '../../lib/dashboard/starts-chart.js';
import { DEFAULT_SETTINGS } from '../../lib/scheduler/deps.js';
import { SlotStore } from '../../lib/scheduler/slots.js';
import { latestDue } from '../../lib/domain/periods.js';
import { keysFor } from '../../lib/store/keys.js';
import { seedIndex, userIds, writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, TEST_KEYS, waitFor, type TestStack } from '../helpers/stack.js';
import { jobHash, jobMessage, publishJob, seedUser } from '../helpers/worker-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = 'test/artifacts';
const USERS = 120;
const YEARLY = "{ cron: '0 0 1 1 *' }";

let stack: TestStack;
let catalog: ReturnType<typeof writeSchedulerCatalog>;
let context: BrowserContext;
let page: Page;
let profile: string;
let targetFixed = false;
const broken = jobMessage('partner_sync', 'alice', '2026-01-01');

beforeAll(async () => {
  catalog = writeSchedulerCatalog({ global: '1000/1s', partner_api: '100/1h' }, [
    { id: 'minute_digest', schedule: "{ cron: '* * * * *' }", spread: '20s' },
    { id: 'partner_sync', schedule: YEARLY, rateLimits: ['partner_api'], retries: 0 },
    { id: 'daily_export', schedule: "{ every: day, at: '00:00' }", spread: '4h' },
    {
      id: 'weekly_summary',
      schedule: "{ every: week, at: 'mon 06:00' }",
      spread: '2h',
      zone: '{ policy: user }',
    },
    { id: 'monthly_invoice', schedule: "{ every: month, at: '1 08:00' }", spread: '6h' },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog.path },
    target: { respond: (hit) => (hit.path.startsWith('/t/partner_sync/') && !targetFixed ? 503 : 200) },
  });
  for (const u of userIds(USERS, 'user')) await seedUser(stack, u, { minute_digest: {} });
  await seedUser(stack, 'alice', { partner_sync: {} });
  mkdirSync(ARTIFACTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'stagger-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.stop();
});

async function api<T>(path: string): Promise<T> {
  const res = await stack.admin(path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

const text = async (selector: string) => (await page.locator(selector).first().textContent())?.trim() ?? '';
const int = (s: string) => Number(s.replace(/[^0-9]/g, ''));

/** Reloads the page's data and waits until it has rendered a newer overview than before. */
async function refreshed() {
  const before = await page.locator('body').getAttribute('data-loaded');
  await page.click('#refresh');
  await waitFor(
    async () => ((await page.locator('body').getAttribute('data-loaded')) !== before ? true : undefined),
    10_000,
    'a refresh',
  );
}

describe('dashboard in Chromium', () => {
  it('is served without data and asks for the key; a wrong key is refused', async () => {
    const res = await page.goto(`${stack.api.url}/dashboard`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isHidden('#main')).toBe(true);
    await page.fill('#key', 'not-the-admin-key-0123');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error', { hasText: '401' }).waitFor();
  });

  it('shows the numbers the admin API gives, a flat chart of starts, and replays a dead letter to success', async () => {
    // A job the partner refuses (503, no retries left): a dead letter after QStash's failure callback.
    await publishJob(stack, broken, { retries: 0 });
    await waitFor(
      async () =>
        (await stack.redis.hget(keysFor(stack.prefix).deadLetter(broken.jobId), 'jobId')) ? true : undefined,
      15_000,
      'dead letter',
    );

    // A tick: 120 jobs spread over 20 s; wait for them to run at their planned times.
    const tick = await stack.admin('/v1/scheduler/run', { method: 'POST' });
    expect(tick.status).toBe(200);
    await waitFor(
      async () => {
        const o = await api<Overview>('/v1/overview');
        return o.taskTypes.find((t) => t.id === 'minute_digest')?.lastPeriod?.succeeded === USERS
          ? true
          : undefined;
      },
      90_000,
      'the tick’s jobs',
    );

    // Today's slot of a large daily task whose fan-out stopped part way (as after a crash): a progress bar shows.
    const keys = keysFor(stack.prefix);
    await seedIndex(stack, stack.prefix, 'daily_export', userIds(1200, 'bulk'));
    await stack.redis.hincrby(keys.taskCounts, 'daily_export', 1200);
    const slots = new SlotStore(stack.redis, keys, DEFAULT_SETTINGS);
    const period = latestDue(catalog.tasks.get('daily_export')!.schedule, Date.now(), 'UTC');
    const plan = {
      kind: 'claim',
      taskId: 'daily_export',
      group: '_',
      tz: 'UTC',
      period,
      startAt: period.dueAtMs,
      windowMs: 14_400_000,
      total: 1200,
      backfilled: false,
    } as const;
    expect((await slots.claim(plan, 1, Date.now(), 60_000)).kind).toBe('claimed');
    await stack.redis.hincrby(keys.periodStats('daily_export', period.key), 'planned', 1200); // as the tick records a claim
    await slots.advance(
      { taskId: 'daily_export', group: '_', periodKey: period.key, fence: 1 },
      { cursor: userIds(500, 'bulk').at(-1)!, count: 500 },
      0,
      Date.now(),
    );

    await page.fill('#key', TEST_KEYS.adminKey);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-loaded]');
    await refreshed();

    const [overview, status, dlq, taskTypes] = await Promise.all([
      api<Overview>('/v1/overview'),
      api<Overview['scheduler']>('/v1/scheduler'),
      api<{ items: { id: string }[] }>('/v1/dead-letters'),
      api<{ taskTypes: { id: string; users: number }[] }>('/v1/task-types'),
    ]);

    // Stat cards.
    expect(int(await text('[data-stat=deadLetters] [data-value]'))).toBe(dlq.items.length);
    expect(int(await text('[data-stat=activeSlots] [data-value]'))).toBe(status.slots.length);
    expect(int(await text('[data-stat=started] [data-value]'))).toBe(overview.totals['started']);
    expect(await text('[data-stat=lock] [data-value]')).toBe(status.lock.held ? 'held' : 'free');
    expect(await text('[data-stat=lastTick] .sub')).toContain(`fence ${status.lastTick!.fence}`);

    // Task types: users from the catalog API, the last period's outcomes from the overview.
    for (const id of ['minute_digest', 'partner_sync', 'daily_export']) {
      const row = `[data-task=${id}]`;
      expect(int(await text(`${row} [data-field=users]`)), id).toBe(
        taskTypes.taskTypes.find((t) => t.id === id)!.users,
      );
    }
    const minute = overview.taskTypes.find((t) => t.id === 'minute_digest')!;
    expect(minute.lastPeriod).toMatchObject({ planned: USERS, started: USERS, succeeded: USERS });
    for (const f of ['planned', 'started', 'succeeded', 'failed', 'dead'] as const) {
      expect(int(await text(`[data-task=minute_digest] [data-field=${f}]`)), f).toBe(minute.lastPeriod![f]);
    }
    expect(await text('[data-task=minute_digest] [data-field=last]')).toBe(minute.lastPeriod!.key);
    expect(await text('[data-task=minute_digest] [data-field=next]')).toContain(minute.nextPeriod!.key);

    // The slot in progress, as the scheduler status has it.
    const bulk = status.slots.find((s) => s.taskId === 'daily_export')!;
    expect(await text(`[data-slot="${bulk.slot}"] [data-field=progress]`)).toBe(
      `${bulk.count.toLocaleString('en-US')} / ${bulk.total.toLocaleString('en-US')}`,
    );
    expect(bulk).toMatchObject({ count: 500, total: 1200 });

    // Limiter headroom: the partner limit's window (1 h, longer than any run of this test) holds the one call made; the global one (1 s) moves too fast to compare.
    const partner = overview.limits.find((l) => l.name === 'partner_api')!;
    expect(partner).toMatchObject({ limit: 100, used: 1, remaining: 99 });
    expect(int(await text('[data-limit=partner_api] [data-field=remaining]'))).toBe(partner.remaining);
    expect(int(await text('[data-limit=global] [data-field=remaining]'))).toBeLessThanOrEqual(1000);

    // The chart: the tick's window and every start in it, as the overview has them.
    const chart = overview.chart!;
    expect(chart).toMatchObject({ taskId: 'minute_digest', planned: USERS, windowMs: 20_000, barMs: 1_000 });
    const bars = (await page
      .locator('svg[data-chart=minute_digest] rect.bar')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))))) as number[];
    expect(bars).toEqual(chart.counts);
    // The grey "after the window" bar appears only when a start landed after the window (late delivery).
    const afterShown = await page.locator('svg[data-chart=minute_digest] [data-field=after]').count();
    if (chart.after > 0)
      expect(int(await text('svg[data-chart=minute_digest] [data-field=after]'))).toBe(chart.after);
    else expect(afterShown).toBe(0);
    // Every start is counted once: in a bar, just after the window, or outside it.
    expect(bars.reduce((a, b) => a + b, 0) + chart.after + chart.outside).toBe(USERS);
    // Flat, checked where it is exact: the plan. Starts W/N = 1/6 s apart in whole ms repeat every second, so every
    // whole second of the window holds exactly 6 (the first and last bars also hold the window's partial seconds).
    // When the actual starts run is the machine's business; the pipeline test bounds their lateness.
    const plannedAt = await Promise.all(
      userIds(USERS, 'user').map(async (u) =>
        Number((await jobHash(stack, `minute_digest:${u}:${chart.periodKey}`))['notBefore']),
      ),
    );
    const plannedBuckets = new Map<number, number>();
    for (const t of plannedAt) {
      const bucket = t - (t % chart.barMs);
      plannedBuckets.set(bucket, (plannedBuckets.get(bucket) ?? 0) + 1);
    }
    const plannedBars = binStarts(
      plannedBuckets,
      { startAt: Date.parse(chart.startAt), windowMs: chart.windowMs },
      chart.barMs,
    );
    expect([plannedBars.after, plannedBars.outside]).toEqual([0, 0]);
    expect(plannedBars.counts.slice(1, -1)).toEqual(new Array(plannedBars.counts.length - 2).fill(6));
    // The caption counts the starts drawn: the bars and the "after" bar.
    expect(int(await text('[data-field=chart-started]'))).toBe(bars.reduce((a, b) => a + b, 0) + chart.after);

    // The dead letter, listed as the API lists it.
    const rows = await page
      .locator('[data-table=dead-letters] tbody tr')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-dead-letter')));
    expect(rows).toEqual(dlq.items.map((d) => d.id));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // Replay once the partner answers again: the row follows the job to success.
    targetFixed = true;
    const row = page.locator(`[data-dead-letter="${broken.jobId}"]`);
    await row.locator('button.replay').click();
    await row.locator('[data-field=replay-status]', { hasText: '✓ succeeded' }).waitFor({ timeout: 20_000 });
    expect((await jobHash(stack, broken.jobId))['state']).toBe('succeeded');
    await refreshed();
    // The replayed call counts in the partner's window beside the first one (a replay restarts attempts at 1).
    expect((await api<Overview>('/v1/overview')).limits.find((l) => l.name === 'partner_api')).toMatchObject({
      used: 2,
      remaining: 98,
    });
    expect(int(await text('[data-stat=deadLetters] [data-value]'))).toBe(0);
    expect(await text(`[data-dead-letter="${broken.jobId}"] [data-field=replay-status]`)).toBe('✓ succeeded');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-replayed.png'), fullPage: true });
  }, 180_000);
});

// The README's "First job in two minutes", as written: `npm run demo` (scripts/dev.ts --demo), then the dashboard with
// the local admin key. Waits (on events, not the clock) for a success and a dead letter, checks the dashboard shows
// both in headless Chromium, records the times in .local/first-job-timing.json, and leaves the screenshot in
// test/artifacts/first-job-dashboard.png (STAGGER_README_SCREENSHOT=1 also writes docs/dashboard.png, the README's).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../scripts/lib/local-defaults.js';
import type { Overview } from '../../lib/dashboard/schemas.js';
import { DEMO_TASK, DEMO_USERS } from '../../scripts/demo/demo.js';
import { startDevStack, type DevStack } from '../helpers/dev-stack.js';
import { commandsOf, readmeBlocks, runInBash } from '../helpers/readme.js';
import { waitFor } from '../helpers/stack.js';

const ARTIFACTS = 'test/artifacts';
const CHROMIUM = '/usr/bin/chromium';
// Polls of the admin API: 4 a second stays well under the demo stack's read limit (1200 a minute).
const ADMIN_POLL_MS = 250;

let stack: DevStack;
let startedAt: number;
let context: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  // The path is these commands and nothing else; `npm run demo` is scripts/dev.ts --demo, which the helper starts
  // (on free ports, so it can run beside a developer's own stack).
  const [path] = readmeBlocks('First job in two minutes');
  expect(commandsOf(path!).map((c) => c.command)).toEqual(['npm ci', 'npm run demo']);
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  expect(scripts['demo']).toBe('tsx scripts/dev.ts --demo');
  startedAt = Date.now();
  stack = await startDevStack({}, 120_000, ['--demo']);
}, 150_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.stop();
});

async function overview(): Promise<Overview> {
  const res = await stack.admin(`/v1/overview?chart=${DEMO_TASK}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const body = JSON.parse(text) as Overview;
  expect(body.totals, text).toBeDefined();
  return body;
}

describe('npm run demo', () => {
  it('shows a success and a dead letter on the dashboard', async () => {
    const upAt = Date.now();
    expect(stack.output()).toContain(`demo: ${DEMO_USERS.length} users run ${DEMO_TASK} every minute`);

    let firstSuccessAt = 0;
    const settled = await waitFor(
      async () => {
        const o = await overview();
        if (!firstSuccessAt && (o.totals['succeeded'] ?? 0) > 0) firstSuccessAt = Date.now();
        return o.deadLetters.total > 0 && firstSuccessAt ? o : undefined;
      },
      150_000,
      'a success and a dead letter',
      ADMIN_POLL_MS,
    );
    const firstDeadLetterAt = Date.now();
    expect(settled.deadLetters.items[0]).toMatchObject({
      taskId: DEMO_TASK,
      userId: 'demo-broken',
      attempts: 3,
      lastStatus: 503,
    });

    // The flaky user's job of the same period: failed once, then succeeded on QStash's retry.
    const periodKey = settled.deadLetters.items[0]!.periodKey;
    const flaky = await waitFor(
      async () => {
        const res = await stack.admin(`/v1/jobs/${DEMO_TASK}:demo-flaky:${periodKey}`);
        const job =
          res.status === 200 ? ((await res.json()) as { state: string; attempts: number }) : undefined;
        return job?.state === 'succeeded' ? job : undefined;
      },
      60_000,
      "demo-flaky's retry",
      ADMIN_POLL_MS,
    );
    expect(flaky.attempts).toBe(2);

    // Every other user of that period succeeded, read job by job: by now the minute tick may have started the next
    // period, so the overview's last period need not be this one (the dashboard check below allows for that).
    const others = DEMO_USERS.filter((u) => u !== 'demo-broken');
    const states = await waitFor(
      async () => {
        const jobs = await Promise.all(
          others.map(async (user) => {
            const res = await stack.admin(`/v1/jobs/${DEMO_TASK}:${user}:${periodKey}`);
            return res.status === 200
              ? ((await res.json()) as { state: string }).state
              : `http ${res.status}`;
          }),
        );
        return jobs.every((state) => state === 'succeeded') ? jobs : undefined;
      },
      60_000,
      `every ${DEMO_TASK} job of ${periodKey} but demo-broken's to succeed`,
      // One poll reads every user's job: once a second keeps it under the demo stack's read limit.
      1_000,
    );
    expect(states).toHaveLength(DEMO_USERS.length - 1);
    const row = (await overview()).taskTypes.find((x) => x.id === DEMO_TASK)!;
    expect(row.users).toBe(DEMO_USERS.length);

    const timing = {
      measuredAt: new Date().toISOString(),
      stackUpSeconds: (upAt - startedAt) / 1000,
      firstSuccessSeconds: (firstSuccessAt - startedAt) / 1000,
      firstDeadLetterSeconds: (firstDeadLetterAt - startedAt) / 1000,
    };
    mkdirSync('.local', { recursive: true });
    writeFileSync('.local/first-job-timing.json', `${JSON.stringify(timing, null, 2)}\n`);
    console.log(`first job: ${JSON.stringify(timing)}`);

    // The README's terminal commands of the same section, as written (the stack's port for 3000).
    const [, terminal] = readmeBlocks('First job in two minutes');
    const [deadLetters, runs] = await runInBash(commandsOf(terminal!), process.env, (c) =>
      c.replace(/127\.0\.0\.1:3000\b/g, `127.0.0.1:${stack.ports['OFFLINE_HTTP_PORT']}`),
    );
    expect(deadLetters!.code).toBe(0);
    expect(JSON.parse(deadLetters!.output)).toMatchObject({
      items: expect.arrayContaining([expect.objectContaining({ userId: 'demo-broken' })]),
    });
    expect(runs!.code).toBe(0);
    expect(runs!.output).toContain('"succeeded"');

    // The dashboard, as the README says: open it, paste the admin key.
    profile = mkdtempSync(join(tmpdir(), 'stagger-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    expect((await page.goto(`${stack.api}/dashboard`))?.status()).toBe(200);
    await page.fill('#key', LOCAL_DEFAULTS.adminApiKey);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-loaded]');
    const text = async (selector: string) =>
      ((await page.locator(selector).first().textContent()) ?? '').trim();
    const cell = async (selector: string) => Number((await text(selector)).replace(/[^0-9]/g, ''));
    // Show a whole period: every job ended (the minute tick may have started the next one since).
    for (let attempt = 1; ; attempt++) {
      const complete = await waitFor(
        async () => {
          const last = (await overview()).taskTypes.find((x) => x.id === DEMO_TASK)?.lastPeriod;
          return last && last.succeeded === DEMO_USERS.length - 1 && last.dead === 1 ? last.key : undefined;
        },
        90_000,
        'a period whose jobs all ended',
        ADMIN_POLL_MS,
      );
      const before = await page.locator('body').getAttribute('data-loaded');
      await page.click('#refresh');
      await waitFor(
        async () => ((await page.locator('body').getAttribute('data-loaded')) !== before ? true : undefined),
        15_000,
        'a refresh',
      );
      if ((await text(`[data-task=${DEMO_TASK}] [data-field=last]`)) === complete || attempt === 3) break;
    }
    expect(await cell(`[data-task=${DEMO_TASK}] [data-field=succeeded]`)).toBe(DEMO_USERS.length - 1);
    expect(await cell(`[data-task=${DEMO_TASK}] [data-field=dead]`)).toBe(1);
    expect(await cell('[data-stat=deadLetters] [data-value]')).toBeGreaterThan(0);
    const deadRows = await page
      .locator('[data-table=dead-letters] tbody tr')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-dead-letter')));
    expect(deadRows).toContain(settled.deadLetters.items[0]!.id);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'first-job-dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env['STAGGER_README_SCREENSHOT'] === '1') copyFileSync(shot, 'docs/dashboard.png');
  }, 420_000);
});

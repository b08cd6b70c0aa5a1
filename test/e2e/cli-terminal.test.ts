// `npx stagger` in a real terminal (tmux) against the local stack, as an operator types it: screens and exit codes.
// The transcript is kept in test/artifacts/cli-walkthrough.txt (the README's walkthrough is copied from it).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaggerClient } from '../../lib/client/index.js';
import { startStack, TEST_KEYS, waitFor, type TestStack } from '../helpers/stack.js';
import { openTerminal, type Terminal } from '../helpers/tmux.js';
import { writeCatalog } from '../helpers/worker-fixtures.js';

let stack: TestStack;
let term: Terminal;
const transcript: string[] = [];
const out = join(tmpdir(), `stagger-cli-${process.pid}.json`);

/** The screen as a reader of the README sees it: `$ ` prompts, no empty prompt after the output. */
function record(r: { screen: string; code: number }) {
  const lines = r.screen.split('\n').map((l) => l.replace(/^bash-[\d.]+# ?/, '$ '));
  while (lines.at(-1)?.trim() === '$') lines.pop();
  transcript.push(`${lines.join('\n')}\n# exit ${r.code}\n`);
}

async function run(command: string) {
  const r = await term.run(command);
  record(r);
  return r;
}

beforeAll(async () => {
  // What `npx stagger` runs: the package's bin, built from this checkout.
  execFileSync('node_modules/.bin/tsx', ['scripts/client/build.ts'], { stdio: 'ignore' });
  stack = await startStack({
    env: {
      STAGGER_CATALOG_PATH: writeCatalog({}, [
        { id: 'hello' },
        { id: 'refused', retries: 0 },
        { id: 'daily_user_report' },
      ]),
    },
    target: { respond: (hit) => (hit.path.startsWith('/t/refused/') ? 404 : 200) },
  });
  term = openTerminal({
    cwd: process.cwd(),
    env: { STAGGER_URL: stack.api.url, STAGGER_ADMIN_KEY: TEST_KEYS.adminKey, PS1: '$ ', NO_COLOR: '1' },
  });
});

afterAll(async () => {
  term?.close();
  await stack?.stop();
  mkdirSync('test/artifacts', { recursive: true });
  writeFileSync('test/artifacts/cli-walkthrough.txt', transcript.join('\n'));
});

describe('npx stagger in a terminal', () => {
  it('manages a user and its tasks, with tables for people and JSON for scripts', async () => {
    const put = await run('npx stagger users put ada --zone Europe/London --label plan=pro');
    expect(put.code).toBe(0);
    expect(put.screen).toMatch(/^id\s+ada$/m);
    expect(put.screen).toMatch(/^zone\s+Europe\/London$/m);
    expect(put.screen).toMatch(/^labels\s+plan=pro$/m);

    const enable = await run('npx stagger tasks enable ada hello --param note=hi --param n=3');
    expect([enable.code, enable.screen]).toEqual([
      0,
      expect.stringContaining('enabled: hello for ada {"note":"hi","n":3}'),
    ]);

    const list = await run('npx stagger tasks list ada');
    expect(list.code).toBe(0);
    expect(list.screen).toMatch(/^TASK\s+STATUS\s+NEXT PERIOD\s+DUE\s+WINDOW END\s+ZONE\s+PARAMS$/m);
    expect(list.screen).toMatch(
      /^hello\s+active\s+\d{4}-\d\d-\d\dT\d\d\s+\S+Z\s+\S+Z\s+UTC\s+\{"note":"hi","n":3\}$/m,
    );

    const json = await run(`npx stagger users list --json > ${out}`);
    expect(json.code).toBe(0);
    const page = JSON.parse(readFileSync(out, 'utf8')) as { users: { id: string; taskCount: number }[] };
    expect(page.users).toEqual([expect.objectContaining({ id: 'ada', taskCount: 1 })]);
  });

  it('pauses and resumes a task type', async () => {
    expect((await run('npx stagger task-types pause hello')).screen).toContain('hello: paused');
    const types = await run('npx stagger task-types list');
    expect(types.screen).toMatch(/^hello\s+every hour at \S+\s+UTC\s+1\s+paused$/m);
    expect(types.screen).toMatch(/^refused\s+every hour at \S+\s+UTC\s+0\s+active$/m);
    const resumed = await run('npx stagger task-types resume hello');
    expect([resumed.code, resumed.screen]).toEqual([0, expect.stringContaining('hello: running')]);
  });

  it('runs a task now, shows the job and the runs, and replays a dead letter after asking', async () => {
    const ran = await run('npx stagger tasks run ada hello');
    const jobId = /published job (\S+)/.exec(ran.screen)?.[1];
    expect(jobId).toMatch(/^hello:ada:manual-/);
    const client = createStaggerClient({ baseUrl: stack.api.url, adminKey: TEST_KEYS.adminKey });
    await waitFor(async () => ((await client.jobs.get(jobId!)).state === 'succeeded' ? true : undefined));
    const job = await run(`npx stagger job ${jobId}`);
    expect(job.screen).toMatch(/^state\s+succeeded$/m);
    expect((await run('npx stagger runs ada')).screen).toMatch(
      new RegExp(`\\s${jobId}\\s+1\\s+succeeded\\s+200\\s`),
    );

    await run('npx stagger tasks enable ada refused --param note=x');
    const bad = /published job (\S+)/.exec((await run('npx stagger tasks run ada refused')).screen)?.[1];
    await waitFor(async () => (await client.deadLetters.list()).items.find((d) => d.jobId === bad));
    const dls = await run('npx stagger dead-letters list --task refused');
    expect(dls.screen).toMatch(new RegExp(`^${bad}\\s+permanent\\s+404\\s+1\\s`, 'm'));

    term.start('npx stagger dead-letters replay --all --task refused');
    await term.waitFor('Replay 1 dead letter(s)? [y/N]');
    term.type('n');
    const declined = await term.finish();
    record(declined);
    expect(declined.code).toBe(6);
    expect(declined.screen).toContain('error: not confirmed; nothing done');
    expect((await client.deadLetters.list()).items).toHaveLength(1);

    const piped = await run('npx stagger dead-letters delete --all < /dev/null');
    expect([piped.code, piped.screen]).toEqual([6, expect.stringContaining('pass --yes to confirm')]);

    term.start('npx stagger dead-letters replay --all --task refused');
    await term.waitFor('[y/N]');
    term.type('y');
    const replayed = await term.finish();
    record(replayed);
    expect([replayed.code, replayed.screen]).toEqual([0, expect.stringContaining('replayed 1 of 1')]);
  });

  it('shows the scheduler status', async () => {
    const s = await run('npx stagger scheduler status');
    expect(s.code).toBe(0);
    expect(s.screen).toMatch(/^lock\s+free$/m);
    expect(s.screen).toMatch(/^active slots\s+0$/m);
  });

  it('exits with a code per kind of failure, naming what went wrong', async () => {
    const missing = await run('npx stagger users get nobody');
    expect([missing.code, missing.screen]).toEqual([
      3,
      expect.stringMatching(/error: 404 not_found: .*nobody/),
    ]);
    const invalid = await run('npx stagger users put zed --zone Mars/Olympus');
    expect(invalid.code).toBe(1);
    expect(invalid.screen).toMatch(/error: 400 validation_failed: invalid body.zone .*\n\s+body.zone: /);
    const usage = await run('npx stagger users frobnicate');
    expect([usage.code, usage.screen]).toEqual([
      2,
      expect.stringContaining("error: unknown command 'frobnicate'"),
    ]);
    const key = await run('STAGGER_ADMIN_KEY=wrong-key npx stagger task-types list');
    expect([key.code, key.screen]).toEqual([5, expect.stringContaining('error: 401 unauthorized')]);
    const unconfigured = await run('STAGGER_URL= npx stagger task-types list');
    expect([unconfigured.code, unconfigured.screen]).toEqual([2, expect.stringContaining('no API URL')]);
    const down = await run('npx stagger --url http://127.0.0.1:9 --retries 0 scheduler status');
    expect([down.code, down.screen]).toEqual([4, expect.stringContaining('error: cannot reach the API')]);
  });
});

// Last: it writes user ada's tasks, which the terminal walkthrough above expects to find as it left them.
describe("the README's client example", () => {
  it('runs as written against the stack, importing stagger/client from the built package', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Client and CLI'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("from 'stagger/client'");
    expect(code!.trim().split('\n').length).toBeLessThanOrEqual(12);
    // Inside the package, 'stagger/client' resolves through package.json exports to dist/ (self-reference).
    mkdirSync('.local', { recursive: true });
    writeFileSync('.local/readme-client.mjs', code!);
    // Asynchronously: the stack serves from this process, which a synchronous child would block.
    const { stdout: printed } = await promisify(execFile)(process.execPath, ['.local/readme-client.mjs'], {
      env: { ...process.env, STAGGER_URL: stack.api.url, STAGGER_ADMIN_KEY: TEST_KEYS.adminKey },
    });
    expect(printed).toMatch(/^daily_user_report active, next run 20\d\d-\d\d-\d\dT\d\d:00:00\.000Z$/m);
  });
});

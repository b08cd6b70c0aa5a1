// The README's commands against the local stack, as written: `npm run dev` (on free ports: the commands' 127.0.0.1:3000
// is rewritten to the stack's port, and `npm run seed` finds the bridge through BRIDGE_PORT), then every command of
// the blocks below in one bash session. Each must exit 0 and print what its comment promises (a JSON fragment,
// an HTTP status, the field a 400 names). Covered elsewhere: `npm ci && npm run dev` (test/e2e/dev-stack.test.ts),
// `npm ci && npm run demo` and its curl block (test/e2e/first-job.test.ts), `npm test` (CI itself), `sls deploy`
// (test/integration/deploy-config.test.ts and package.test.ts: no AWS account here). Not run: `xdg-open` (no desktop).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../helpers/dev-stack.js';
import {
  commandsOf,
  promisedOutput,
  readmeBlocks,
  runInBash,
  type CommandResult,
  type ReadmeCommand,
} from '../helpers/readme.js';

/** Commands that cannot run here, and why (each still has to be in the README exactly like this). */
const NOT_RUN: Record<string, string> = {
  'xdg-open http://127.0.0.1:3000/dashboard':
    'opens a desktop browser; the dashboard test drives Chromium instead',
};

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
}, 150_000);

afterAll(async () => {
  await stack?.stop();
});

function sessionEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(STAGGER_|UPSTASH_|QSTASH_|BRIDGE_|REDIS_URL)/.test(k)),
  );
  return { ...env, BRIDGE_PORT: String(stack.ports['BRIDGE_PORT']) };
}

const rewrite = (command: string) =>
  command.replace(/127\.0\.0\.1:3000\b/g, `127.0.0.1:${stack.ports['OFFLINE_HTTP_PORT']}`);

/** Checks one command's result against its comment; returns the problems found. */
function problemsOf(r: CommandResult): string[] {
  const problems: string[] = [];
  if (r.code !== 0) problems.push(`exit ${r.code}`);
  const promised = promisedOutput(r.comment);
  if (promised && !promised.test(r.output)) problems.push(`output does not match ${promised}`);
  const status = /^(\d{3})\b/.exec(r.comment)?.[1];
  if (status && Number(status) >= 400) {
    if (!r.output.includes('"error"')) problems.push(`expected an error body (${status})`);
    const named = /naming (\S+)/.exec(r.comment)?.[1];
    if (named && !r.output.includes(`"${named}"`)) problems.push(`the error does not name ${named}`);
  }
  const printsStatus = r.command.includes("-w '%{http_code}\\n'");
  if (printsStatus) {
    const code = /(\d{3})$/.exec(r.output)?.[1];
    const expected = /^(\d{3})\b/.exec(r.comment)?.[1] ?? /\((\d{3})\)/.exec(r.comment)?.[1];
    if (!code || !code.startsWith('2')) problems.push(`HTTP ${code ?? '?'}`);
    if (expected && code !== expected) problems.push(`HTTP ${code}, README says ${expected}`);
  }
  return problems;
}

async function runSection(title: string, which?: number): Promise<CommandResult[]> {
  const blocks = readmeBlocks(title);
  const chosen = which === undefined ? blocks : [blocks[which]!];
  const commands: ReadmeCommand[] = chosen.flatMap(commandsOf).filter((c) => !(c.command in NOT_RUN));
  expect(commands.length).toBeGreaterThan(0);
  const results = await runInBash(commands, sessionEnv(), rewrite);
  const failures = results
    .map((r) => ({ command: r.command, problems: problemsOf(r), output: r.output.slice(0, 400) }))
    .filter((f) => f.problems.length > 0);
  expect(failures).toEqual([]);
  return results;
}

describe("the README's commands, as written, against npm run dev", () => {
  it('Two commands: the health check', async () => {
    const [health] = await runSection('Two commands', 1);
    expect(JSON.parse(health!.output)).toMatchObject({ status: 'ok' });
    // Each request its own id under serverless-offline too (not its fixed `offlineContext_resourceId`).
    const ids = await Promise.all(
      [0, 1, 2].map(async () => (await stack.admin('/v1/users?limit=1')).headers.get('x-request-id')),
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  }, 60_000);

  it('How it works: generate and check a 300-type catalog', async () => {
    const results = await runSection('How it works');
    expect(results.at(-1)!.output).toContain('valid, 300 task types');
  }, 120_000);

  it('Admin API: seed, users, task types, errors, OpenAPI', async () => {
    const results = await runSection('Admin API');
    const by = (part: string) => results.find((r) => r.command.includes(part))!;
    expect(by('npm run seed -- --users 10000').output).toContain('load users: 10000 in');
    expect(JSON.parse(by('"$API/openapi.json"').output)).toMatchObject({
      openapi: expect.stringMatching(/^3\.1/),
    });
  }, 480_000);

  it('Observability: metrics and the overview', async () => {
    const results = await runSection('Observability');
    expect(results.find((r) => r.command.includes('/metrics'))!.output).toContain('stagger_scheduler_');
    for (const c of Object.keys(NOT_RUN)) expect(readmeBlocks('Observability').join('\n')).toContain(c);
  }, 60_000);
});

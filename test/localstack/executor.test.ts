// The host runtime executor against LocalStack's own Lambda API: a function runs under Node 24 as on nodejs24.x,
// with cold and warm starts, handler errors, the configured timeout killing the invocation, and concurrent
// invocations in separate environments.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type RunningLocalStack } from '../../scripts/localstack/localstack.js';

const run = promisify(execFile);

// Module state survives warm invocations and is fresh after a cold start.
const HANDLER = `
let invocations = 0;
export const handler = async (event, context) => {
  invocations += 1;
  console.log('invocation', invocations, 'of', process.pid);
  if (event.fail) throw new TypeError('bad input: ' + event.fail);
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { node: process.version, pid: process.pid, invocations, requestId: context.awsRequestId,
    remainingMs: context.getRemainingTimeInMillis(), fn: context.functionName };
};
`;

let ls: RunningLocalStack;
let dir: string;
const awsEnv = () => ({
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '/tmp',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL: ls.url,
});
const aws = async (...args: string[]) => {
  const bin = resolve(dirname(ls.paths.LOCALSTACK_PYTHON), 'aws');
  const { stdout } = await run(bin, ['--output', 'json', ...args], { env: awsEnv(), timeout: 120_000 });
  return stdout.trim() === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
};

interface Invocation {
  functionError?: string;
  payload: Record<string, unknown>;
}
let calls = 0;
async function invoke(fn: string, payload: object): Promise<Invocation> {
  const out = resolve(dir, `out-${++calls}.json`);
  const meta = await aws(
    'lambda',
    'invoke',
    '--function-name',
    fn,
    '--payload',
    JSON.stringify(payload),
    out,
  );
  return {
    ...(meta?.['FunctionError'] ? { functionError: String(meta['FunctionError']) } : {}),
    payload: JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>,
  };
}

async function createFunction(name: string, timeoutS: number) {
  await aws(
    'lambda',
    'create-function',
    '--function-name',
    name,
    '--runtime',
    'nodejs24.x',
    '--architectures',
    'arm64',
    '--handler',
    'index.handler',
    '--timeout',
    String(timeoutS),
    '--role',
    'arn:aws:iam::000000000000:role/lambda',
    '--zip-file',
    `fileb://${resolve(dir, 'fn.zip')}`,
  );
  await aws('lambda', 'wait', 'function-active-v2', '--function-name', name);
}

beforeAll(async () => {
  ls = await startLocalStack();
  dir = resolve(dirname(ls.logFile), 'executor-test');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'index.mjs'), HANDLER);
  await run(ls.paths.LOCALSTACK_PYTHON, [
    '-c',
    'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.write(sys.argv[2], "index.mjs"); z.close()',
    resolve(dir, 'fn.zip'),
    resolve(dir, 'index.mjs'),
  ]);
  await createFunction('exec-basic', 3);
  await createFunction('exec-timeout', 1);
}, 300_000);

afterAll(async () => {
  await ls?.stop();
}, 60_000);

describe('the stagger-host executor', () => {
  it('runs the handler under Node 24 with a Lambda context; a warm start reuses the process', async () => {
    const first = await invoke('exec-basic', { hello: 1 });
    expect(first.functionError).toBeUndefined();
    expect(first.payload).toMatchObject({ node: 'v24.21.0', invocations: 1, fn: 'exec-basic' });
    expect(first.payload['remainingMs']).toBeGreaterThan(0);
    expect(first.payload['remainingMs']).toBeLessThanOrEqual(3000);
    const second = await invoke('exec-basic', { hello: 2 });
    expect(second.payload).toMatchObject({ invocations: 2, pid: first.payload['pid'] });
    expect(second.payload['requestId']).not.toBe(first.payload['requestId']);
  });

  it('reports a handler error as an unhandled function error with its type and message', async () => {
    const failed = await invoke('exec-basic', { fail: 'no user' });
    expect(failed.functionError).toBe('Unhandled');
    expect(failed.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input: no user' });
    // The environment survives a handler error.
    expect((await invoke('exec-basic', {})).payload['invocations']).toBeGreaterThan(1);
  });

  it("kills an invocation at the function's timeout; the next one starts cold", async () => {
    const warm = await invoke('exec-timeout', {});
    expect(warm.payload).toMatchObject({ invocations: 1 });
    const late = await invoke('exec-timeout', { sleepMs: 5000 });
    expect(late.functionError).toBe('Unhandled');
    expect(late.payload['errorType']).toBe('Sandbox.Timedout');
    expect(String(late.payload['errorMessage'])).toMatch(/Task timed out after 1\.00 seconds$/);
    const after = await invoke('exec-timeout', {});
    expect(after.functionError).toBeUndefined();
    expect(after.payload['invocations']).toBe(1);
    expect(after.payload['pid']).not.toBe(warm.payload['pid']);
  });

  it('runs concurrent invocations in separate environments', async () => {
    const results = await Promise.all([1, 2, 3].map(() => invoke('exec-basic', { sleepMs: 1500 })));
    for (const r of results) expect(r.functionError).toBeUndefined();
    expect(new Set(results.map((r) => r.payload['pid'])).size).toBe(3);
  });
});

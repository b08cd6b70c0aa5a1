// `sls package --stage prod` refuses, in one line naming the variable, a deployment whose jobs could not reach their
// targets: an unset or loopback STAGGER_TARGET_BASE_URL, or no STAGGER_ALLOWED_HOSTS (config/environment.cjs).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The deploying shell without any stagger variable, plus `vars`; the output of a failed `sls package`. */
async function packageFailure(vars: Record<string, string>): Promise<{ code: number; output: string }> {
  const out = mkdtempSync(join(tmpdir(), 'stagger-deploy-config-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STAGGER_')));
  try {
    await run('node_modules/.bin/sls', ['package', '--stage', 'prod', '--package', out], {
      env: { ...env, ...vars },
      timeout: 120_000,
    });
    return { code: 0, output: '' };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: `${e.stdout}\n${e.stderr}` };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The line of the output that names `variable`. */
const lineNaming = (output: string, variable: string) =>
  output.split('\n').filter((line) => line.includes(`${variable} `));

describe('sls package --stage prod', () => {
  it.each([
    ['unset', {}, 'STAGGER_TARGET_BASE_URL', 'is unset'],
    [
      'loopback',
      { STAGGER_TARGET_BASE_URL: 'http://127.0.0.1:4000', STAGGER_ALLOWED_HOSTS: '127.0.0.1' },
      'STAGGER_TARGET_BASE_URL',
      'points at a loopback address',
    ],
    [
      'no allowlist',
      { STAGGER_TARGET_BASE_URL: 'https://tasks.example.com' },
      'STAGGER_ALLOWED_HOSTS',
      'is unset',
    ],
  ])(
    'fails on a %s target with one line naming the variable',
    async (_, vars, variable, says) => {
      const { code, output } = await packageFailure(vars);
      expect(code).not.toBe(0);
      const lines = lineNaming(output, variable);
      expect(lines, output).toHaveLength(1);
      expect(lines[0]).toContain(`${variable} ${says}`);
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
    },
    150_000,
  );
});

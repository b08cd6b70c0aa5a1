// `npm run test:localstack`: the LocalStack suite (deploys serverless.yml to LocalStack on this machine and runs jobs
// through it). Without python3 + venv it cannot run: one line says so and nothing is reported as passed.
import { spawnSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';

const python = process.env['PYTHON'] ?? 'python3';
const probe = spawnSync(
  python,
  ['-c', 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)'],
  {
    stdio: 'ignore',
  },
);
const runnable = probe.status === 0;
if (!runnable) {
  console.log(
    `test:localstack skipped: ${python} 3.11+ with venv and pip is required (apt-get install -y python3-venv python3-pip)`,
  );
}

export default defineConfig({
  test: {
    name: 'localstack',
    root: new URL('../..', import.meta.url).pathname,
    include: runnable ? ['test/localstack/**/*.test.ts'] : [],
    passWithNoTests: !runnable,
    environment: 'node',
    env: { LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent' },
    reporters: ['default', 'json'],
    outputFile: { json: '.local/test-report-localstack.json' },
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});

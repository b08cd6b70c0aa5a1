import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files at once: each integration file starts a redis-server, a bridge and a broker (the dashboard one a
 * Chromium too), so more than two at once overloads a 2-core machine and turns waits into timeouts. One core
 * stays for those servers: at most 2 files at once, 1 on a 2-core machine. STAGGER_TEST_WORKERS overrides it.
 */
const workers = Number(
  process.env['STAGGER_TEST_WORKERS'] ?? Math.min(2, Math.max(1, availableParallelism() - 1)),
);

export default defineConfig({
  test: {
    // The JSON report lets CI print one plain 'N passed, N failed' line.
    reporters: ['default', 'json'],
    env: { LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent' },
    outputFile: { json: '.local/test-report.json' },
    maxWorkers: workers,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // A hang guard, not a speed check: property tests run thousands of cases, seconds on a loaded machine.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

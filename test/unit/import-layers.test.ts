// The import layers of eslint.config.js (functions → lib/<feature> → lib/store, lib/domain) report what they must.
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const LAYER_RULES = new Set([
  'stagger/import-layers',
  'no-restricted-imports',
  'no-restricted-globals',
  'no-restricted-properties',
  'no-restricted-syntax',
]);

const eslint = new ESLint({ cwd: resolve(import.meta.dirname, '../..') });

/** The layer rules' findings for `code` linted as if it were the file at `filePath`, as `rule: message`. */
async function layerFindings(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId))
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import layers', () => {
  it.each([
    [
      'lib/admin/x.ts',
      "export * from '../../scripts/lib/local-defaults.js';",
      'scripts/lib/local-defaults.js',
    ],
    ['lib/worker/edge/x.ts', "export { a } from '../../../test/helpers/stack.js';", 'test/helpers/stack.js'],
    ['lib/x.ts', "export const m = () => import('../bench/run.js');", 'bench/run.js'],
    ['lib/api/x.ts', "import { main } from '../../cli/main.js';\nmain();", 'cli/main.js'],
    ['lib/api/x.ts', "export { handler } from '../../functions/worker.js';", 'functions/worker.js'],
    ['functions/x.ts', "export { a } from '../scripts/lib/free-port.js';", 'scripts/lib/free-port.js'],
    ['functions/admin/x.ts', "export { a } from '../../test/helpers/stack.js';", 'test/helpers/stack.js'],
    ['functions/x.ts', "export { a } from '../bench/lib/seed.js';", 'bench/lib/seed.js'],
    ['functions/metrics.ts', "export { keysFor } from '../lib/store/keys.js';", 'lib/store/keys.js'],
    [
      'functions/admin/x.ts',
      "export { a } from '../../lib/store/lua/readUser-2.js';",
      'lib/store/lua/readUser-2.js',
    ],
    ['lib/store/x.ts', "export { a } from '../worker/limits.js';", 'lib/worker/limits.js'],
    ['lib/store/lua/x.ts', "export { a } from '../../scheduler/slots.js';", 'lib/scheduler/slots.js'],
    ['lib/store/x.ts', "export { a } from '../runtime.js';", 'lib/runtime.js'],
    ['lib/domain/x.ts', "export { a } from '../store/keys.js';", 'lib/store/keys.js'],
    ['lib/domain/x.ts', "export { a } from '../errors.js';", 'lib/errors.js'],
    ['lib/domain/x.ts', "export { a } from '../../config/environment.cjs';", 'config/environment.cjs'],
  ])('%s may not import %s', async (filePath, code, target) => {
    const found = await layerFindings(filePath, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^stagger/import-layers: ${target.replace(/\./g, '\\.')}: `));
  });

  it.each([
    [
      'lib/domain/x.ts',
      "import { Redis } from '@upstash/redis';\nexport const r = Redis;",
      'no-restricted-imports',
    ],
    [
      'lib/domain/x.ts',
      "import { Client } from '@upstash/qstash';\nexport const c = Client;",
      'no-restricted-imports',
    ],
    ['lib/domain/x.ts', "import { Redis } from 'ioredis';\nexport const r = Redis;", 'no-restricted-imports'],
    [
      'lib/domain/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;",
      'no-restricted-imports',
    ],
    ['lib/domain/x.ts', "export const stage = process.env['STAGE'];", 'no-restricted-globals'],
    ['lib/domain/sub/x.ts', 'export const t = performance.now();', 'no-restricted-globals'],
    ['lib/domain/x.ts', 'export const t = Date.now();', 'no-restricted-properties'],
    ['lib/domain/x.ts', 'export const t = new Date();', 'no-restricted-syntax'],
    ['lib/domain/x.ts', 'export const t = Date();', 'no-restricted-syntax'],
  ])('%s: %s is refused by %s', async (filePath, code, rule) => {
    const found = await layerFindings(filePath, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${rule}: .*lib/domain is the pure core`));
  });

  it.each([
    ['functions/worker.ts', "export { a } from '../lib/worker/routes.js';"],
    ['functions/admin/users.ts', "export { a } from '../../lib/admin/routes.js';"],
    ['functions/worker.ts', "export { JobMessage } from '../lib/domain/job.js';"],
    ['lib/worker/x.ts', "export { a } from '../store/keys.js';\nexport { b } from '../domain/ids.js';"],
    [
      'lib/worker/edge/x.ts',
      "export { a } from '../../http/auth.js';\nexport { b } from '../../../lib/runtime.js';",
    ],
    ['lib/config.ts', "export { a } from '../config/environment.cjs';"],
    ['lib/store/x.ts', "export { a } from '../domain/ids.js';\nexport { b } from '../errors.js';"],
    ['lib/store/x.ts', "export { a } from '../util/sortable-id.js';\nexport { b } from './scripts/x.js';"],
    ['lib/store/lua/x.ts', "export { a } from '../keys.js';\nexport { b } from '../../domain/ids.js';"],
    [
      'lib/domain/x.ts',
      "import { z } from 'zod';\nexport { a } from './ids.js';\nexport const s = z.string();",
    ],
    ['lib/domain/sub/x.ts', "export { a } from '../ids.js';"],
    ['lib/domain/x.ts', 'export const epoch = new Date(0);\nexport const utc = Date.UTC(2026, 0, 1);'],
    [
      'lib/worker/x.ts',
      "import { Redis } from '@upstash/redis';\nexport const t = [Redis, Date.now(), process.env];",
    ],
    [
      'scripts/x.ts',
      "export { a } from '../test/helpers/dev-stack.js';\nexport { b } from '../lib/config.js';",
    ],
    ['bench/x.ts', "export { a } from '../test/helpers/lambda-http.js';"],
  ])('%s may hold %s', async (filePath, code) => {
    expect(await layerFindings(filePath, code)).toEqual([]);
  });
});

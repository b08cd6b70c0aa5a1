// npm run build (also on prepare): dist/client (stagger/client, ESM + .d.ts) and dist/cli.js (the `stagger` bin).
// The repository runs TypeScript through tsx; people who install the package get plain JavaScript for Node 20.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');
const dist = resolve(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies of the package stay imports, resolved from its node_modules.
  packages: 'external',
  logLevel: 'warning',
} as const;
await build({
  ...common,
  entryPoints: [resolve(root, 'lib/client/index.ts')],
  outfile: resolve(dist, 'client/index.js'),
});
await build({
  ...common,
  entryPoints: [resolve(root, 'cli/main.ts')],
  outfile: resolve(dist, 'cli.js'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(resolve(dist, 'cli.js'), 0o755);

execFileSync(
  resolve(root, 'node_modules/.bin/tsc'),
  ['-p', resolve(root, 'lib/client/tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
mkdirSync(resolve(dist, 'client'), { recursive: true });
copyFileSync(resolve(root, 'lib/client/schema.d.ts'), resolve(dist, 'client/schema.d.ts'));
console.log('built dist/client and dist/cli.js');

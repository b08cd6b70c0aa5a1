// Node 24, the version the functions run on (nodejs24.x), for tests that run the bundles under it.
// Installed under .local/node24 (never as a project dependency: its `node` binary would shadow the machine's
// Node for every npm script); scripts/localstack/setup.sh installs the same one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const NODE24_VERSION = '24.21.0';
const PREFIX = resolve('.local/node24');
const BIN = resolve(PREFIX, 'node_modules/node/bin/node');

function installedVersion(): string | undefined {
  if (!existsSync(BIN)) return undefined;
  try {
    return execFileSync(BIN, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The path of a Node 24 binary, installing it (about 15 s, once) when missing. */
export function node24(): string {
  if (installedVersion() !== `v${NODE24_VERSION}`) {
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        PREFIX,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node@${NODE24_VERSION}`,
      ],
      { stdio: 'ignore', timeout: 300_000 },
    );
  }
  const version = installedVersion();
  if (version !== `v${NODE24_VERSION}`)
    throw new Error(`Node ${NODE24_VERSION} not available at ${BIN} (${version})`);
  return BIN;
}

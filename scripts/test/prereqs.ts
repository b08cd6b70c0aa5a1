// `npm test`'s first step: checks the machine has what the tests drive for real, and stops with one line naming the
// packages to install when it does not (nothing is installed behind the user's back; .ci/run installs them first).
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface Prerequisite {
  /** What the tests need it for, in the failure line. */
  readonly what: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  present(): boolean;
}

const runs = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Add a line here when a test starts depending on another program. */
export const PREREQUISITES: readonly Prerequisite[] = [
  { what: 'redis-server', debianPackage: 'redis-server', present: () => runs('redis-server', ['--version']) },
  { what: '/usr/bin/chromium', debianPackage: 'chromium', present: () => executable('/usr/bin/chromium') },
  // The CLI test drives `npx stagger` in a real terminal.
  { what: 'tmux', debianPackage: 'tmux', present: () => runs('tmux', ['-V']) },
  {
    // Debian ships venv's ensurepip apart: without it `python3 -m venv` cannot install pip.
    what: 'python3 with venv',
    debianPackage: 'python3-venv',
    present: () => runs('python3', ['-c', 'import ensurepip, venv']),
  },
];

/** One line naming every missing package, or undefined when nothing is missing. */
export function missingLine(prereqs: readonly Prerequisite[]): string | undefined {
  const missing = prereqs.filter((p) => !p.present());
  if (missing.length === 0) return undefined;
  return `test prerequisites missing (${missing.map((p) => p.what).join(', ')}): apt-get install -y ${missing
    .map((p) => p.debianPackage)
    .join(' ')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const line = missingLine(PREREQUISITES);
  if (line !== undefined) {
    console.error(line);
    process.exit(1);
  }
}

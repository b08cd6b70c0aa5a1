// Starts LocalStack on the host (no Docker) with stagger's host runtime executor, waits for its health, stops it all.
// `npm run localstack` runs it on 4566 until Ctrl-C; the LocalStack suite's global setup calls startLocalStack().
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/free-port.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface LocalStackPaths {
  LOCALSTACK_PYTHON: string;
  STAGGER_LAMBDA_NODE: string;
  STAGGER_RUNTIME_INIT: string;
}

export interface RunningLocalStack {
  readonly port: number;
  /** The gateway, e.g. http://127.0.0.1:4566: every AWS service, and AWS_ENDPOINT_URL for clients. */
  readonly url: string;
  /** Where LocalStack's own output goes. */
  readonly logFile: string;
  readonly paths: LocalStackPaths;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Default: a free port. */
  port?: number;
  /** State folder (filesystem root, unzipped code, logs); wiped at start. Default .local/localstack/run-<port>. */
  dir?: string;
  healthTimeoutMs?: number;
  /** Extra LocalStack settings (e.g. LAMBDA_KEEPALIVE_MS). */
  env?: Record<string, string>;
}

/** Exit code of setup.sh when Python, venv or pip is missing: the caller can skip with its one-line reason. */
export const SETUP_MISSING_PYTHON = 3;

export class LocalStackSetupError extends Error {
  constructor(
    message: string,
    readonly missingPython: boolean,
  ) {
    super(message);
    this.name = 'LocalStackSetupError';
  }
}

/** Runs scripts/localstack/setup.sh (venv, pinned install, executor, Node 24); reuses what is there. */
export function setupLocalStack(): LocalStackPaths {
  const r = spawnSync('bash', [resolve(ROOT, 'scripts/localstack/setup.sh')], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
    throw new LocalStackSetupError(
      last || `setup.sh exited with ${r.status}`,
      r.status === SETUP_MISSING_PYTHON,
    );
  }
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out as unknown as LocalStackPaths;
}

function listRuntimePids(dir: string): number[] {
  try {
    return readdirSync(dir)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 1);
  } catch {
    return [];
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200) return false;
    const body = (await res.json()) as { services?: Record<string, string> };
    return body.services?.['lambda'] !== undefined;
  } catch {
    return false;
  }
}

export async function startLocalStack(opts: StartOptions = {}): Promise<RunningLocalStack> {
  const paths = setupLocalStack();
  const port = opts.port ?? (await freePort());
  const dir = resolve(ROOT, opts.dir ?? `.local/localstack/run-${port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(resolve(dir, 'tmp'), { recursive: true });
  const logFile = resolve(dir, 'localstack.log');
  const pidDir = resolve(dir, 'runtime-pids');
  mkdirSync(pidDir, { recursive: true });
  // Straight to the file, not through this process: LocalStack keeps logging (and shutting down) if we die first.
  const logFd = openSync(logFile, 'a');
  const url = `http://127.0.0.1:${port}`;
  // run_localstack.py: LocalStack's own entry point, ended by a watchdog if this process disappears without stop().
  const child = spawn(paths.LOCALSTACK_PYTHON, [resolve(ROOT, 'scripts/localstack/run_localstack.py')], {
    cwd: dir,
    stdio: ['ignore', logFd, logFd],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? dir,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      LOCALSTACK_HOST: `127.0.0.1:${port}`,
      // No DNS server on port 53, no certificate download, no analytics: this machine reaches no one.
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
      PERSISTENCE: '0',
      FILESYSTEM_ROOT: dir,
      // Unzipped function code goes under the run folder, not the machine's /tmp.
      TMPDIR: resolve(dir, 'tmp'),
      LAMBDA_RUNTIME_EXECUTOR: 'stagger-host',
      STAGGER_LAMBDA_NODE: paths.STAGGER_LAMBDA_NODE,
      STAGGER_RUNTIME_INIT: paths.STAGGER_RUNTIME_INIT,
      STAGGER_RUNTIME_PIDS: pidDir,
      ...opts.env,
    },
  });
  closeSync(logFd);
  let exited: number | null = null;
  const gone = new Promise<void>((r) =>
    child.once('exit', (code) => {
      exited = code ?? -1;
      r();
    }),
  );
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      // LocalStack's orderly shutdown stops every function environment; one that hangs is cut short.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    // Runtimes live in process groups of their own and exit when LocalStack does (they watch their parent);
    // the executor also lists their ids, so none outlives a LocalStack killed before it could stop them.
    for (const pid of listRuntimePids(pidDir)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const deadline = Date.now() + (opts.healthTimeoutMs ?? 120_000);
  while (!(await healthy(url))) {
    if (exited !== null)
      throw new Error(`LocalStack exited with code ${exited} before it was healthy (see ${logFile})`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`LocalStack did not become healthy on ${url} (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, url, logFile, paths, stop };
}

async function main() {
  const port = Number(process.env['LOCALSTACK_PORT'] ?? 4566);
  const t0 = performance.now();
  const ls = await startLocalStack({ port });
  console.log(
    `[localstack] ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${ls.url} (log ${ls.logFile})`,
  );
  console.log(`[localstack] deploy with: AWS_ENDPOINT_URL=${ls.url} npx sls deploy --stage localstack`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('[localstack] stopping…');
    await ls.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`[localstack] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

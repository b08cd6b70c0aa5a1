// Test helper: `npm run dev` (scripts/dev.ts) as a child process on free ports (retried when one is taken): redis-server, bridge, broker, demo target
// and serverless-offline, as a developer runs them. Stopped with SIGINT, like Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_DEFAULTS } from '../../scripts/lib/local-defaults.js';
import { freePort } from '../../scripts/lib/free-port.js';

export interface DevStack {
  readonly api: string;
  readonly bridge: string;
  readonly broker: string;
  readonly ports: Record<string, number>;
  /** Everything the stack printed so far (serverless-offline and function logs included). */
  output(): string;
  /** fetch against serverless-offline with the local admin key. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** SIGINT, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Variables of the test process that must not leak into the stack (tests run with their own prefixes and keys). */
const INHERITED_PREFIXES = ['STAGGER_', 'UPSTASH_', 'QSTASH_', 'OFFLINE_', 'BROKER_'];

/**
 * The kernel may hand out a just-released port again: two parts of the stack on one port would have the first
 * one answer for both (the demo target answers 200 to everything, /health included).
 */
async function distinctFreePorts<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
  const taken = new Set<number>();
  const out = {} as Record<K, number>;
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    out[name] = port;
  }
  return out;
}

/** What redis-server, Node and serverless-offline print when a port is taken. */
const PORT_TAKEN = /EADDRINUSE|address already in use/i;

/**
 * Every part of the stack needs its port number up front (redis-server and serverless-offline cannot bind port 0 and
 * report), so the ports are kernel-chosen candidates that another process can take before the stack binds them: a
 * start that fails on a taken port is retried on new candidates, any other failure is not.
 * `args`: extra arguments of scripts/dev.ts, e.g. `['--demo']` for `npm run demo`.
 */
export async function startDevStack(
  env: Record<string, string> = {},
  timeoutMs = 90_000,
  args: string[] = [],
): Promise<DevStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchDevStack(env, timeoutMs, args);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function launchDevStack(
  env: Record<string, string>,
  timeoutMs: number,
  args: string[],
): Promise<DevStack> {
  const ports = await distinctFreePorts([
    'REDIS_PORT',
    'BRIDGE_PORT',
    'BROKER_PORT',
    'TARGET_PORT',
    'OFFLINE_HTTP_PORT',
    'OFFLINE_LAMBDA_PORT',
  ]);
  const base: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !INHERITED_PREFIXES.some((p) => k.startsWith(p)) && k !== 'REDIS_URL',
    ),
  );
  const cwd = process.cwd();
  let out = '';
  const child: ChildProcess = spawn(join(cwd, 'node_modules/.bin/tsx'), ['scripts/dev.ts', ...args], {
    cwd,
    detached: true,
    env: {
      ...base,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      DEV_DATA_DIR: mkdtempSync(join(tmpdir(), 'stagger-dev-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const stop = async (graceMs = 15_000) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
      return child.exitCode;
    child.kill('SIGINT');
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }, graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const deadline = Date.now() + timeoutMs;
  while (!out.includes('stagger local stack is up')) {
    if (child.exitCode !== null) {
      const Failure = PORT_TAKEN.test(out) ? PortTakenError : Error;
      throw new Failure(`dev stack exited early:\n${out}`);
    }
    if (Date.now() > deadline) {
      await stop(2_000);
      throw new Error(`dev stack not up within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = `http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}`;
  return {
    api,
    bridge: `http://127.0.0.1:${ports.BRIDGE_PORT}`,
    broker: `http://127.0.0.1:${ports.BROKER_PORT}`,
    ports,
    output: () => out,
    admin: (path, init = {}) =>
      fetch(`${api}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${LOCAL_DEFAULTS.adminApiKey}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    stop,
  };
}

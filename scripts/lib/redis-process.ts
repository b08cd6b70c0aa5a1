// Starts and stops a redis-server child process of our own (never the machine's shared one).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  port?: number;
  /** Data folder; with it, AOF persistence is on so a restart keeps data. Without it, nothing touches disk. */
  dir?: string;
  /** Milliseconds to wait for PING to answer. */
  readyTimeoutMs?: number;
  /** Candidate ports when `port` is not given. Default: kernel-picked (freePort). */
  pickPort?: () => Promise<number>;
  /** Where redis-server's own output goes besides our check of it. */
  stdio?: 'ignore' | 'inherit';
}

export const REDIS_MISSING_HINT =
  'redis-server was not found on PATH: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.';

export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Sends PING over raw RESP; resolves true when +PONG comes back. */
export function ping(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** redis-server's own words when its port is taken (it cannot bind port 0 and report the port it got). */
const PORT_TAKEN = /address already in use/i;
/** Logged once it listens; waiting for it (not for any PONG) ensures the server that answers is ours. */
const READY = /ready to accept connections/i;

export class RedisPortTakenError extends Error {
  constructor(readonly port: number) {
    super(`redis-server could not listen on port ${port}: address already in use`);
    this.name = 'RedisPortTakenError';
  }
}

/**
 * Starts redis-server. Without `opts.port`, on a free port: the candidate comes from the kernel but is released
 * before redis-server binds it, so another process can take it in between; redis-server then says "Address already
 * in use" and exits, and we start again on a new candidate (a few times).
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING_HINT);
  if (opts.port !== undefined) return startRedisOn(opts.port, opts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOn(await (opts.pickPort ?? freePort)(), opts);
    } catch (err) {
      if (!(err instanceof RedisPortTakenError) || attempt >= 5) throw err;
    }
  }
}

async function startRedisOn(port: number, opts: StartRedisOptions): Promise<RedisProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no'];
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    args.push('--dir', opts.dir, '--appendonly', 'yes', '--appendfsync', 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onOutput = (d: Buffer) => {
    if (output.length < 64_000) output += d.toString();
    if (opts.stdio === 'inherit') process.stdout.write(d);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (!READY.test(output) || !(await ping(port))) {
    if (exited) {
      if (PORT_TAKEN.test(output)) throw new RedisPortTakenError(port);
      throw new Error(`redis-server exited before answering on port ${port}: ${output.trim().slice(-500)}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}

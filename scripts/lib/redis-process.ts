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
  /** Where redis-server's own output goes. */
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

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProcess> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING_HINT);
  const port = opts.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no'];
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    args.push('--dir', opts.dir, '--appendonly', 'yes', '--appendfsync', 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  const child: ChildProcess = spawn('redis-server', args, { stdio: opts.stdio ?? 'ignore' });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  while (!(await ping(port))) {
    if (exited) throw new Error(`redis-server exited before answering on port ${port}`);
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

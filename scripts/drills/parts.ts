// Drill parts: each a child process in its own process group, so a drill can kill -9 (or SIGSTOP) exactly one of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface PartSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The TCP port it listens on when ready. */
  port: number;
  /** Its stdout/stderr are appended here. */
  logDir: string;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One restartable part. `kill` signals its whole process group (tsx and its node child, sls and its workers). */
export class Part {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: PartSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const { spec } = this;
    const log = createWriteStream(join(spec.logDir, `${spec.name}.log`), { flags: 'a' });
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    await waitUntil(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${spec.name} exited (${child.exitCode}) while starting`);
        return portOpen(spec.port);
      },
      timeoutMs,
      `${spec.name} on port ${spec.port}`,
      200,
    );
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child?.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      // the group is gone already
    }
  }

  /** kill -9 of the whole group, then waits for the exit and for the port to close. */
  async kill9(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    await waitUntil(async () => !(await portOpen(this.spec.port)), 10_000, `${this.spec.name} port closed`);
  }

  async stop(): Promise<void> {
    if (this.child?.exitCode !== null || this.child.signalCode !== null) return;
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(t);
  }
}

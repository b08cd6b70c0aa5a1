// `npm run dev` end to end: the whole local stack comes up, /health answers 200, Ctrl-C leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { ping } from '../../scripts/lib/redis-process.js';

async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('npm run dev', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  });

  it('starts redis, bridge, broker, target and serverless-offline; /health is 200; SIGINT stops every one', async () => {
    const ports = {
      REDIS_PORT: await freePort(),
      BRIDGE_PORT: await freePort(),
      BROKER_PORT: await freePort(),
      TARGET_PORT: await freePort(),
      OFFLINE_HTTP_PORT: await freePort(),
      OFFLINE_LAMBDA_PORT: await freePort(),
    };
    const cwd = process.cwd();
    const dataDir = mkdtempSync(join(tmpdir(), 'stagger-dev-'));
    let out = '';
    child = spawn(join(cwd, 'node_modules/.bin/tsx'), ['scripts/dev.ts'], {
      cwd,
      detached: true,
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        DEV_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));

    const deadline = Date.now() + 90_000;
    while (!out.includes('stagger local stack is up')) {
      if (child.exitCode !== null) throw new Error(`dev exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`dev not up in time:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const res = await fetch(`http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
    expect(out).toContain(`http://127.0.0.1:${ports.BRIDGE_PORT}`);
    expect(out).toContain('stagger-local-admin-key');

    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await ping(ports.REDIS_PORT)).toBe(false);
    for (const p of [ports.BRIDGE_PORT, ports.BROKER_PORT, ports.TARGET_PORT, ports.OFFLINE_HTTP_PORT]) {
      expect(await portOpen(p)).toBe(false);
    }
  });
});

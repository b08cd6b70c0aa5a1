// `npm run dev` end to end: the whole local stack comes up, /health answers 200, Ctrl-C leaves nothing behind.
import { afterAll, describe, expect, it } from 'vitest';
import { ping } from '../../scripts/lib/redis-process.js';
import { startDevStack, type DevStack } from '../helpers/dev-stack.js';

async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('npm run dev', () => {
  let dev: DevStack | undefined;
  afterAll(async () => {
    await dev?.stop(2_000);
  });

  it('starts redis, bridge, broker, target and serverless-offline; /health is 200; SIGINT stops every one', async () => {
    dev = await startDevStack();
    const { ports } = dev;
    const res = await fetch(`${dev.api}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
    expect(dev.output()).toContain(`http://127.0.0.1:${ports['BRIDGE_PORT']}`);
    expect(dev.output()).toContain('stagger-local-admin-key');

    expect(await dev.stop()).toBe(0);
    expect(await ping(ports['REDIS_PORT']!)).toBe(false);
    for (const p of ['BRIDGE_PORT', 'BROKER_PORT', 'TARGET_PORT', 'OFFLINE_HTTP_PORT']) {
      expect(await portOpen(ports[p]!), p).toBe(false);
    }
  });
});

// docker-compose.yml must reproduce the `npm run dev` topology: a Redis service and a node service exposing the same ports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOCAL_DEFAULTS } from '../../scripts/lib/local-defaults.js';

interface Compose {
  services: Record<
    string,
    { image?: string; command?: string[]; ports?: string[]; environment?: Record<string, string> }
  >;
}

describe('docker-compose.yml', () => {
  const doc = parse(readFileSync('docker-compose.yml', 'utf8')) as Compose;

  it('runs the same dev script against a Redis container', () => {
    expect(doc.services['redis']?.image).toMatch(/^redis:/);
    const app = doc.services['stagger'];
    expect(app?.command?.join(' ')).toContain('npm run dev');
    expect(app?.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    expect(app?.environment?.['DEV_HOST']).toBe('0.0.0.0');
  });

  it('publishes the documented local ports', () => {
    const published = (doc.services['stagger']?.ports ?? []).map((p) => Number(p.split(':')[0]));
    for (const p of [
      LOCAL_DEFAULTS.offlinePort,
      LOCAL_DEFAULTS.offlineLambdaPort,
      LOCAL_DEFAULTS.bridgePort,
      LOCAL_DEFAULTS.brokerPort,
      LOCAL_DEFAULTS.targetPort,
    ]) {
      expect(published).toContain(p);
    }
    // Redis on the host port of the README's table, from the container's default port.
    expect(doc.services['redis']?.ports).toEqual([`${LOCAL_DEFAULTS.redisPort}:6379`]);
  });
});

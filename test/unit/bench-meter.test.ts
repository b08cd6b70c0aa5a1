// The bench's Lambda meter (invocations and billed GB-seconds per function, memory sizes from serverless.yml) and
// the shared-limit scenario's sizing and catalog.
import { afterEach, describe, expect, it } from 'vitest';
import { parseCatalog } from '../../lib/domain/catalog.js';
import { LambdaMeter, memorySizes, startMeteredLambdaHttp } from '../../bench/lib/lambda-meter.js';
import type { RunningLambdaHttp } from '../../test/helpers/lambda-http.js';
import { busiestTick, writeBenchCatalog } from '../../bench/scenarios/fanout-plan.js';
import { describeWindows, sharedCatalogYaml, sharedSize } from '../../bench/scenarios/shared-limit.js';

describe('LambdaMeter', () => {
  it("reads each function's memory size: its own, else the provider's", () => {
    const sizes = memorySizes();
    expect(sizes['schedulerTick']).toBe(512);
    expect(sizes['schedulerContinue']).toBe(512);
    expect(sizes['worker']).toBe(256);
    expect(sizes['failures']).toBe(256);
    expect(sizes['adminRunNow']).toBe(256);
  });

  it('counts invocations and bills each one rounded up to the ms at its memory size', async () => {
    const meter = new LambdaMeter({ worker: 256, schedulerTick: 512 });
    meter.record('worker', 0.3, true);
    meter.record('worker', 2.5, true);
    const value = await meter.time('schedulerTick', () => Promise.resolve(7));
    expect(value).toBe(7);
    const usage = meter.usage();
    expect(usage['worker']).toMatchObject({ invocations: 2, httpRequests: 2, memoryMb: 256 });
    // 1 ms + 3 ms at 0.25 GB.
    expect(usage['worker']?.gbSeconds).toBeCloseTo(0.004 * 0.25, 12);
    expect(usage['schedulerTick']).toMatchObject({ invocations: 1, httpRequests: 0, memoryMb: 512 });
    expect(meter.totals()).toMatchObject({ invocations: 3, httpRequests: 2 });
    meter.reset();
    expect(meter.totals().invocations).toBe(0);
  });

  describe('over HTTP', () => {
    let api: RunningLambdaHttp | undefined;
    afterEach(async () => {
      await api?.close();
      api = undefined;
    });

    it('serves the routes of serverless.yml and meters each call under its function name', async () => {
      const meter = new LambdaMeter();
      api = await startMeteredLambdaHttp(meter);
      const doc = await fetch(`${api.url}/openapi.json`);
      expect(doc.status).toBe(200);
      expect(((await doc.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
      const missing = await fetch(`${api.url}/no/such/route`);
      await missing.body?.cancel();
      expect(missing.status).toBe(404);
      const usage = meter.usage();
      expect(usage['openapi']).toMatchObject({ invocations: 1, httpRequests: 1, memoryMb: 256 });
      // The catch-all function answered the unknown path: an invocation too, as in API Gateway.
      expect(usage['fallback']?.invocations).toBe(1);
      expect(meter.totals().invocations).toBe(2);
    });
  });
});

describe('shared-limit sizing', () => {
  const { catalog } = writeBenchCatalog('.local/bench');
  const { due } = busiestTick(catalog, Date.UTC(2026, 10, 30));

  it('takes the 17 types of the fixed week busiest tick', () => {
    expect(due).toHaveLength(17);
  });

  it.each([true, false])(
    'quick=%s: one type fits its window, all of them together exceed the limit',
    (quick) => {
      const s = sharedSize(quick);
      const oneWindow = s.limit * s.spreadS;
      expect(s.usersPerType).toBeLessThanOrEqual(oneWindow);
      expect(due.length * s.usersPerType).toBeGreaterThan(oneWindow);
    },
  );

  it('writes a catalog that loads: the same ids, every minute in UTC, only the global limit', () => {
    const size = sharedSize(true);
    const parsed = parseCatalog(sharedCatalogYaml(due, size));
    expect(parsed.tasks.map((t) => t.id)).toEqual(due.map((t) => t.id));
    expect(Object.keys(parsed.rateLimits)).toEqual(['global']);
    expect(parsed.rateLimits['global']?.limit).toBe(size.limit);
    for (const t of parsed.tasks) {
      expect(t.spreadMs).toBe(size.spreadS * 1000);
      expect(t.schedule).toMatchObject({ cron: '* * * * *' });
    }
  });

  it('describes planned windows', () => {
    expect(describeWindows([])).toBe('none read');
    expect(
      describeWindows([
        { taskId: 'a', startAt: 1_000, windowMs: 5_000, total: 20 },
        { taskId: 'b', startAt: 1_500, windowMs: 9_000, total: 20 },
        { taskId: 'c', startAt: 1_000, windowMs: 7_000, total: 20 },
      ]),
    ).toBe('3 slots, 5–9 s (median 7 s), starts within 0.500 s');
  });
});

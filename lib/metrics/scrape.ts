// GET /metrics: read the counters and live gauges, render the Prometheus text.
import type { Catalog } from '../domain/catalog.js';
import type { Keys } from '../store/keys.js';
import { metricFamilies } from './families.js';
import { liveGauges, readMetrics, type MetricsRedis } from './live.js';
import { renderFamilies } from './prometheus.js';

export async function scrapeMetrics(
  redis: MetricsRedis,
  keys: Keys,
  catalog: Catalog,
  guardMs: number,
  now: number,
): Promise<string> {
  const reading = await readMetrics(redis, keys, { catalog, guardMs, now });
  return renderFamilies(
    metricFamilies(
      reading.hash,
      liveGauges(reading),
      catalog.tasks.map((t) => t.id),
    ),
  );
}

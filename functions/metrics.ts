// GET /metrics: Prometheus text for a scraper holding an admin key or a read-only metrics token. Thin: lib/metrics works.
import { routeHandler } from '../lib/api/route.js';
import { OBSERVABILITY_ROUTES as R } from '../lib/dashboard/routes.js';
import { PROMETHEUS_CONTENT_TYPE } from '../lib/metrics/prometheus.js';
import { scrapeMetrics } from '../lib/metrics/scrape.js';
import { runtime } from '../lib/runtime.js';

export const handler = routeHandler(R.metrics, async () => {
  const { redis, keys, catalog, guardMs } = runtime().monitoring;
  const text = await scrapeMetrics(redis, keys, catalog, guardMs, Date.now());
  return {
    statusCode: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: text,
  };
});

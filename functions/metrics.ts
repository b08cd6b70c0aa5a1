// GET /metrics: Prometheus text for a scraper holding an admin key or a read-only metrics token. Thin: lib/metrics works.
import { routeHandler } from '../lib/api/route.js';
import { OBSERVABILITY_ROUTES as R } from '../lib/dashboard/routes.js';
import { PROMETHEUS_CONTENT_TYPE } from '../lib/metrics/prometheus.js';
import { scrapeMetrics } from '../lib/metrics/scrape.js';
import { runtime } from '../lib/runtime.js';
import { keysFor } from '../lib/store/keys.js';

export const handler = routeHandler(R.metrics, async () => {
  const rt = runtime();
  const text = await scrapeMetrics(
    rt.redis,
    keysFor(rt.config.STAGGER_KEY_PREFIX),
    rt.catalog,
    rt.config.STAGGER_LIMIT_GUARD_MS,
    Date.now(),
  );
  return {
    statusCode: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: text,
  };
});

// GET /metrics: Prometheus text for a scraper holding an admin key or a read-only metrics token. Thin: lib/metrics works.
import { parseRouteInput } from '../lib/api/route.js';
import { OBSERVABILITY_ROUTES as R } from '../lib/dashboard/routes.js';
import { httpHandler } from '../lib/http/handler.js';
import { PROMETHEUS_CONTENT_TYPE } from '../lib/metrics/prometheus.js';
import { scrapeMetrics } from '../lib/metrics/scrape.js';
import { runtime } from '../lib/runtime.js';
import { workerServices } from '../lib/worker/deps.js';

const metricsKeys = () => {
  const { config } = runtime();
  return [...config.STAGGER_ADMIN_API_KEYS, ...config.STAGGER_METRICS_TOKENS];
};

export const handler = httpHandler({ auth: 'admin', adminKeys: metricsKeys }, async (req) => {
  parseRouteInput(R.metrics, req.event);
  const { runtime: rt, keys } = workerServices();
  const text = await scrapeMetrics(rt.redis, keys, rt.catalog, rt.config.STAGGER_LIMIT_GUARD_MS, Date.now());
  return {
    statusCode: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: text,
  };
});

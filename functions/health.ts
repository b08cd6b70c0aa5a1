// GET /health: 200 when Redis and QStash both answer, 503 naming the one that does not.
import { routeHandler } from '../lib/api/route.js';
import { PUBLIC_ROUTES } from '../lib/api/routes.js';
import { checkHealth } from '../lib/health.js';
import { json } from '../lib/http/response.js';
import { runtime } from '../lib/runtime.js';

export const handler = routeHandler(PUBLIC_ROUTES.health, async () => {
  const report = await checkHealth(runtime().healthProbes);
  const down = Object.entries(report.checks)
    .filter(([, c]) => c.status !== 'ok')
    .map(([name]) => name);
  return json(report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'degraded', down, checks: report.checks });
});

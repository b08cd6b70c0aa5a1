// The operator dashboard: the static page (public, no data) and GET /v1/overview, the one admin read it makes.
import { routeHandler } from '../lib/api/route.js';
import { readOverview } from '../lib/dashboard/overview.js';
import { dashboardPage, pageResult } from '../lib/dashboard/page.js';
import { OBSERVABILITY_ROUTES as R } from '../lib/dashboard/routes.js';
import { keysFor } from '../lib/store/keys.js';
import { workerServices } from '../lib/worker/deps.js';

export const page = routeHandler(R.dashboard, async () => pageResult(dashboardPage()));

export const overview = routeHandler(R.overview, async ({ query }) => {
  const { runtime: rt, catalog, deadLetters } = workerServices();
  const deps = {
    redis: rt.redis,
    keys: keysFor(rt.config.STAGGER_KEY_PREFIX),
    catalog,
    guardMs: rt.config.STAGGER_LIMIT_GUARD_MS,
    deadLetters,
    now: Date.now(),
  };
  return { status: 200, body: await readOverview(deps, query.chart) };
});

// The operator dashboard: the static page (public, no data) and GET /v1/overview, the one admin read it makes.
import { routeHandler } from '../lib/api/route.js';
import { readOverview } from '../lib/dashboard/overview.js';
import { dashboardPage, pageResult } from '../lib/dashboard/page.js';
import { OBSERVABILITY_ROUTES as R } from '../lib/dashboard/routes.js';
import { runtime } from '../lib/runtime.js';

export const page = routeHandler(R.dashboard, async () => pageResult(dashboardPage()));

export const overview = routeHandler(R.overview, async ({ query }) => {
  const deps = { ...runtime().monitoring, now: Date.now() };
  return { status: 200, body: await readOverview(deps, query.chart) };
});

// Validates a task catalog file (with the STAGGER_* overrides from the environment): prints a
// summary, or every problem by path and exits 1. Usage: npm run catalog:check [file]
import { DEFAULT_CATALOG_PATH, loadCatalogFile } from '../lib/catalog-file.js';
import { CatalogError, type Catalog } from '../lib/domain/catalog.js';
import { formatDuration } from '../lib/domain/duration.js';

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([key, count]) => `${key} ${count}`)
    .join(', ');
}

function summary(path: string, catalog: Catalog): string {
  const enabled = catalog.tasks.filter((task) => task.enabled).length;
  const limits = Object.entries(catalog.rateLimits).map(
    ([key, { limit, windowMs }]) => `${key} ${limit}/${formatDuration(windowMs)}`,
  );
  return [
    `${path}: valid, ${catalog.tasks.length} task types (${enabled} enabled)`,
    `  schedules:     ${countBy(catalog.tasks, (t) => (t.schedule.kind === 'cron' ? 'cron' : t.schedule.every))}`,
    `  zones:         ${countBy(catalog.tasks, (t) => (t.zone.policy === 'fixed' ? t.zone.tz : 'user'))}`,
    `  base URL:      ${catalog.baseUrl ?? '(none)'}`,
    `  allowed hosts: ${catalog.allowedHosts.join(', ')}`,
    `  rate limits:   ${limits.join(', ') || '(none)'}`,
  ].join('\n');
}

const path = process.argv[2] ?? DEFAULT_CATALOG_PATH;
try {
  console.log(summary(path, await loadCatalogFile(path, process.env)));
} catch (error) {
  if (error instanceof CatalogError) console.error(`${error.message}\n${error.issues.length} problem(s)`);
  else console.error(`${path}: ${(error as Error).message}`);
  process.exitCode = 1;
}

// Test helper: the top of a catalog YAML (version, hosts, rate limits) and writing a catalog to a temp file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lines up to `tasks:`; `limits` maps a key to "<limit>/<window>", e.g. `{ slow: '1/2s' }`. */
export function catalogHead(limits: Record<string, string>, top: string[] = []): string[] {
  const lines = ['version: 1', ...top, 'allowedHosts: [127.0.0.1]', 'rateLimits:'];
  for (const [k, v] of Object.entries(limits)) {
    const [limit, window] = v.split('/');
    lines.push(`  ${k}: { limit: ${limit}, window: ${window} }`);
  }
  if (Object.keys(limits).length === 0) lines.push('  {}');
  lines.push('tasks:');
  return lines;
}

/** Writes `text` as tasks.yaml in a fresh temp folder and returns its path. */
export function writeTempCatalog(text: string, label = 'catalog'): string {
  const path = join(mkdtempSync(join(tmpdir(), `stagger-${label}-`)), 'tasks.yaml');
  writeFileSync(path, text);
  return path;
}

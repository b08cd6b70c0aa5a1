// The Grafana dashboard and the alert rules query only metrics stagger exposes, and each alert has a runbook line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricFamilies, type LiveGauges } from '../../lib/metrics/families.js';
import { parseMetricsHash } from '../../lib/metrics/fields.js';

const LIVE: LiveGauges = {
  lastTickAt: null,
  lockHeld: false,
  activeSlots: 0,
  pendingJobs: 0,
  limits: [],
  deadLetters: 0,
  users: {},
};
const families = new Map(metricFamilies(parseMetricsHash({}), LIVE, []).map((f) => [f.name, f.type]));
/** Prometheus' own series: the scrape's `up` and blackbox_exporter's probe of /health. */
const PROMETHEUS_OWN = new Set(['up', 'probe_success']);

/** Metric names an expression reads: identifiers followed by a selector, a range or an operator, not label names. */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...withoutLabels.matchAll(/\b(stagger_[a-z0-9_]+|up|probe_success)\b/g)].map((m) => m[1]!);
}

/** A series name as its family: histogram series end in _bucket, _sum or _count. */
function familyOf(series: string): string | undefined {
  if (families.has(series) || PROMETHEUS_OWN.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return families.get(base) === 'histogram' ? base : undefined;
}

const dashboard = JSON.parse(readFileSync('ops/grafana/stagger-dashboard.json', 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const rules = parse(readFileSync('ops/prometheus/stagger-alerts.yml', 'utf8')) as {
  groups: { rules: { alert: string; expr: string; annotations: { runbook: string } }[] }[];
};
const alerts = rules.groups.flatMap((g) => g.rules);

describe('Grafana dashboard', () => {
  it('queries only metric families stagger exposes', () => {
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr)));
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((m) => familyOf(m) === undefined)).toEqual([]);
  });

  it('shows every stagger metric family somewhere', () => {
    const shown = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr).map(familyOf))),
    );
    expect([...families.keys()].filter((f) => !shown.has(f))).toEqual([]);
  });
});

describe('alert rules', () => {
  it('read only metric families stagger exposes (or Prometheus’ own up and probe_success)', () => {
    const used = alerts.flatMap((a) => metricsIn(a.expr));
    expect(used.filter((m) => familyOf(m) === undefined)).toEqual([]);
    expect(new Set(used.map(familyOf))).toContain('stagger_job_lateness_seconds');
  });

  it('each have a runbook line in the README', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const a of alerts) {
      expect(a.annotations.runbook).toBe(`README.md#alerts (${a.alert})`);
      expect(readme, a.alert).toMatch(new RegExp(`^\\| \`${a.alert}\` \\|.+\\|$`, 'm'));
    }
  });

  it('is what the metric-name check reads: label names and values are not taken for metrics', () => {
    expect(
      metricsIn('sum by (task) (rate(stagger_jobs_deferred_total{reason="rate_limited",job="up"}[10m]))'),
    ).toEqual(['stagger_jobs_deferred_total']);
    expect(familyOf('stagger_job_lateness_seconds_bucket')).toBe('stagger_job_lateness_seconds');
    expect(familyOf('stagger_dead_letters_count')).toBeUndefined();
  });
});

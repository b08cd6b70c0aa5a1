// Prometheus text exposition format 0.0.4: metric families in, text out. Pure: no I/O, no clock.
import type { HistogramData } from './fields.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

export interface HistogramSample {
  labels?: Labels;
  /** Upper bounds in the unit of the metric (seconds), ascending; +Inf is added. */
  bounds: readonly number[];
  /** Non-cumulative counts per bound, then one for +Inf (bounds.length + 1 values). */
  counts: readonly number[];
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; samples: HistogramSample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const entries = Object.entries(labels ?? {});
  if (extra) entries.push(extra);
  if (entries.length === 0) return '';
  for (const [k] of entries) if (!LABEL.test(k)) throw new Error(`invalid label name ${k}`);
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export function renderFamilies(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type !== 'histogram') {
      for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
      continue;
    }
    for (const h of f.samples) {
      let cumulative = 0;
      h.bounds.forEach((b, i) => {
        cumulative += h.counts[i] ?? 0;
        lines.push(`${f.name}_bucket${labelText(h.labels, ['le', formatValue(b)])} ${cumulative}`);
      });
      cumulative += h.counts[h.bounds.length] ?? 0;
      lines.push(`${f.name}_bucket${labelText(h.labels, ['le', '+Inf'])} ${cumulative}`);
      lines.push(`${f.name}_sum${labelText(h.labels)} ${formatValue(h.sum)}`);
      lines.push(`${f.name}_count${labelText(h.labels)} ${cumulative}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A stored millisecond histogram as a histogram sample in seconds; labels that are not bounds go to +Inf. */
export function histogramSeconds(
  data: HistogramData | undefined,
  boundsMs: readonly number[],
  labels?: Labels,
): HistogramSample {
  const counts = new Array<number>(boundsMs.length + 1).fill(0);
  for (const [label, n] of Object.entries(data?.buckets ?? {})) {
    const i = boundsMs.indexOf(Number(label));
    counts[i === -1 ? boundsMs.length : i]! += n;
  }
  return {
    ...(labels ? { labels } : {}),
    bounds: boundsMs.map((b) => b / 1000),
    counts,
    sum: (data?.sumMs ?? 0) / 1000,
  };
}

// Test helper: reads a Prometheus text exposition through parse-prometheus-text-format into plain lookups.
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  families: Map<string, ParsedFamily>;
  /** The value of one counter or gauge series (exact label match), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** One histogram series: cumulative buckets by `le`, count and sum. */
  histogram(
    name: string,
    labels?: Record<string, string>,
  ): { buckets: Record<string, number>; count: number; sum: number } | undefined;
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string>) => {
  const x = a ?? {};
  return Object.keys(x).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => x[k] === v);
};

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
}

export function readScrape(text: string): Scrape {
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  return {
    families,
    value(name, labels = {}) {
      const sample = families.get(name)?.metrics.find((m) => sameLabels(m.labels, labels));
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
    histogram(name, labels = {}) {
      // parse-prometheus-text-format 1.1 merges the series of a labelled histogram into one and drops their
      // _sum/_count: parse this one series alone, its labels removed, as the parser handles that shape.
      const inner = labelText(labels);
      const lines = text
        .split('\n')
        .filter((l) => l.startsWith(`${name}_`) && (inner === '' || l.includes(`{${inner}`)));
      if (lines.length === 0) return undefined;
      const stripped = lines.map((l) =>
        inner === '' ? l : l.replace(`{${inner},`, '{').replace(`{${inner}}`, ''),
      );
      const [family] = parsePrometheusTextFormat([`# TYPE ${name} histogram`, ...stripped, ''].join('\n'));
      const sample = family?.metrics[0];
      if (!sample?.buckets) return undefined;
      return {
        buckets: Object.fromEntries(Object.entries(sample.buckets).map(([le, n]) => [le, Number(n)])),
        count: Number(sample.count),
        sum: Number(sample.sum),
      };
    },
  };
}

// Summaries of repeated measurements: median with its spread (min–max and interquartile range).

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  samples: number[];
}

/** Linear-interpolated quantile of sorted values (the "R-7" rule used by most tools). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    samples: [...values],
  };
}

/** p-th percentile (0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    p / 100,
  );
}

/** Compact number for tables: integers as they are, others to 3 significant digits (kept: 1.00 is not 1), thousands separated. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 10 ** digits)
    return Math.round(value).toLocaleString('en-US');
  const text = value.toPrecision(digits);
  return text.includes('e') ? String(Number(text)) : text;
}

/** "median (min–max, IQR q1–q3)"; a single sample is shown alone. */
export function formatSummary(s: Summary, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  if (s.n === 1) return `${fmt(s.median)}${u} (n=1)`;
  return `${fmt(s.median)}${u} (${fmt(s.min)}–${fmt(s.max)}, IQR ${fmt(s.q1)}–${fmt(s.q3)}, n=${s.n})`;
}

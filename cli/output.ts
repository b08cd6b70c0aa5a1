// What the CLI prints: aligned tables for people, JSON for scripts. Pure: returns strings.
export type Cell = string | number | boolean | null | undefined;

/** A table with a header row; columns padded to their widest cell, two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers, ...rows.map((r) => r.map(cellText))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  return text
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `key  value` lines for one object. */
export function fields(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n');
}

export function cellText(c: Cell | string): string {
  if (c === null || c === undefined || c === '') return '-';
  return String(c);
}

/** One line of at most 60 characters. */
export const oneLine = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/\s+/g, ' ');

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `k=v` pairs as an object (`--label plan=pro`), each value kept as text. */
export function keyValues(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${p}": expected key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** A mistake on the command line (exit code 2), found after the parser accepted it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// The previous run's figures beside this run's: the newest committed results JSON that started before this run,
// and the counterpart of a cell in it (same scenario id, same figure, same column heading).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BenchReport, Cell } from './report.js';
import { fmt } from './stats.js';

// Only what the matching reads; older files may lack newer fields, and are refused whole if these are malformed.
const SummarySchema = z.object({ median: z.number().nullable() }).passthrough();
const CellSchema = z.union([
  z.object({ summary: SummarySchema, unit: z.string().optional() }).passthrough(),
  z.object({ na: z.string() }),
  z.object({ text: z.string() }),
]);
const PreviousSchema = z
  .object({
    date: z.string(),
    startedAt: z.string(),
    mode: z.enum(['full', 'quick']),
    scenarios: z.array(
      z
        .object({
          id: z.string(),
          columns: z.array(z.string()),
          rows: z.array(z.object({ metric: z.string(), cells: z.array(CellSchema) }).passthrough()),
        })
        .passthrough(),
    ),
  })
  .passthrough();

export interface PreviousRun {
  /** The file it was read from. */
  file: string;
  report: BenchReport;
}

/**
 * The newest results JSON in `dir` whose run started before `before` (ISO time); undefined when there is none.
 * Files that do not parse as a bench report are skipped.
 */
export function loadPrevious(dir: string, before: string): PreviousRun | undefined {
  if (!existsSync(dir)) return undefined;
  let best: PreviousRun | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const result = PreviousSchema.safeParse(parsed);
    if (!result.success) continue;
    const startedAt = result.data.startedAt;
    if (!(startedAt < before)) continue;
    if (best && best.report.startedAt >= startedAt) continue;
    best = { file, report: parsed as BenchReport };
  }
  return best;
}

/** The cell of `previous` for the same scenario, figure (metric text) and column heading. */
export function previousCell(
  previous: BenchReport | undefined,
  scenarioId: string,
  metric: string,
  column: string,
): Cell | undefined {
  const scenario = previous?.scenarios.find((s) => s.id === scenarioId);
  if (!scenario) return undefined;
  const row = scenario.rows.find((r) => r.metric === metric);
  const index = scenario.columns.indexOf(column);
  if (!row || index < 0) return undefined;
  return row.cells[index];
}

/** A cell in a few characters: the median with its unit, the text, or "not available". */
export function shortCell(c: Cell): string {
  if ('na' in c) return 'not available';
  if ('text' in c) return c.text;
  const median = c.summary.median;
  const value = typeof median === 'number' ? fmt(median) : 'not available';
  return c.unit ? `${value} ${c.unit}` : value;
}

/**
 * What to show beside a cell for its previous value: "was X", or nothing when there is no counterpart or the
 * previous cell is the same text (a label such as "—" repeated is no comparison).
 */
export function wasNote(current: Cell | undefined, previous: Cell | undefined): string {
  if (!previous) return '';
  const before = shortCell(previous);
  if (current && !('summary' in current) && !('summary' in previous) && shortCell(current) === before)
    return '';
  return `was ${before}`;
}

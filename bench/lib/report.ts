// The bench's result model and its two renderings: bench/results/<date>.json and a Markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { goalsOf, type GoalResult } from './goals.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { previousCell, wasNote, type PreviousRun } from './previous.js';
import { fmt, formatSummary, type Summary } from './stats.js';

/** A measured figure, a figure that could not be measured (with why), or a plain value. */
export type Cell = { summary: Summary; unit?: string } | { na: string } | { text: string };

export interface MetricRow {
  metric: string;
  /** One cell per column of the scenario (e.g. stagger, BullMQ). */
  cells: Cell[];
  /** The goal, in words ("≥ BullMQ", "≤ 1.05"). */
  target?: string;
  verdict?: 'met' | 'missed' | 'not measured';
  note?: string;
}

export interface ScenarioReport {
  id: string;
  title: string;
  params: Record<string, unknown>;
  /** Column headings, e.g. ["stagger", "BullMQ"]. */
  columns: string[];
  rows: MetricRow[];
  notes: string[];
  /** This run's column → the previous run's column it compares with, where the heading changed. */
  previousColumns?: Record<string, string>;
  /** Goals of the goals table this scenario decides itself (the table reads the others from rows). */
  goals?: GoalResult[];
  /** Every repetition's own figures, for the JSON only. */
  raw?: unknown;
}

export interface BenchReport {
  date: string;
  startedAt: string;
  durationS: number;
  mode: 'full' | 'quick';
  reps: number;
  command: string;
  machine: MachineInfo;
  /** 1-, 5- and 15-minute load averages when the run started and ended (other work on the machine skews timings). */
  loadAverage: { start: number[]; end: number[] };
  scenarios: ScenarioReport[];
  /** The results file whose figures stand beside these ("was X"), when there is one. */
  previous?: { file: string; startedAt: string; mode: 'full' | 'quick' };
}

export const na = (why: string): Cell => ({ na: why });
export const text = (value: string): Cell => ({ text: value });
export const cell = (summary: Summary, unit?: string): Cell =>
  unit === undefined ? { summary } : { summary, unit };

export function renderCell(c: Cell): string {
  if ('na' in c) return `not available: ${c.na}`;
  if ('text' in c) return c.text;
  return formatSummary(c.summary, c.unit);
}

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A goal's verdict for the table. */
const goalVerdict = (g: GoalResult) =>
  g.verdict === 'met' ? 'met' : g.verdict === 'missed' ? '**missed**' : g.verdict;

/** The goals table: each goal of issue #12 with this run's value, the verdict, by how much, and the previous value. */
export function renderGoals(report: BenchReport, previous?: BenchReport): string[] {
  const was = previous ? goalsOf(previous) : [];
  const out = [
    `| goal | target | this run | | by | ${previous ? `previous (${previous.date})` : 'previous'} |`,
    '|---|---|---|---|---|---|',
  ];
  goalsOf(report).forEach((g, i) => {
    const p = was[i];
    const before = p && p.verdict !== 'not measured' ? `${p.value} (${p.verdict})` : '—';
    out.push(
      `| ${escape(g.goal)} | ${escape(g.target)} | ${escape(g.value)} | ${goalVerdict(g)} | ${escape(g.by ?? '')} | ${escape(before)} |`,
    );
  });
  return out;
}

/**
 * The Markdown report. With `previous` (the run before), each cell that has a counterpart there (same scenario,
 * figure and column) carries "was X" with that run's median.
 */
export function renderMarkdown(report: BenchReport, previous?: PreviousRun): string {
  const out: string[] = [];
  const prev = previous?.report;
  out.push(`# stagger benchmarks — ${report.date}${report.mode === 'quick' ? ' (quick run)' : ''}`);
  out.push('');
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  out.push(
    `Machine: ${describeMachine(report.machine)}. Load average (1 / 5 / 15 min) at start ${load(report.loadAverage.start)}, ` +
      `at end ${load(report.loadAverage.end)}.`,
  );
  out.push('');
  out.push(
    `Command: \`${report.command}\`; ${report.reps} repetitions per figure, stagger and BullMQ alternating ` +
      `(ABBA order); ran ${fmt(report.durationS)} s, started ${report.startedAt}. Each cell: median ` +
      `(min–max, IQR q1–q3, n = repetitions). Raw samples: \`${report.date}.json\`.`,
  );
  out.push('');
  out.push(
    prev
      ? `Previous figures ("was X", the median): \`${previous.file}\`, a ${prev.mode} run started ${prev.startedAt}` +
          `${prev.mode !== report.mode ? ` (this is a ${report.mode} run: sizes differ)` : ''}.`
      : 'No previous results to compare with.',
  );
  out.push('');
  out.push('## Goals (issue #12)');
  out.push('');
  out.push(...renderGoals(report, prev));
  for (const s of report.scenarios) {
    out.push('');
    out.push(`## ${s.title}`);
    out.push('');
    const params = Object.entries(s.params)
      .map(([k, v]) => `${k} = ${typeof v === 'number' ? fmt(v) : String(v)}`)
      .join('; ');
    if (params) out.push(`Parameters: ${params}.`, '');
    out.push(`| figure | ${s.columns.map(escape).join(' | ')} | target | |`);
    out.push(`|---|${s.columns.map(() => '---').join('|')}|---|---|`);
    for (const r of s.rows) {
      const verdict = r.verdict === 'met' ? 'met' : r.verdict === 'missed' ? '**missed**' : (r.verdict ?? '');
      const cells = s.columns.map((column, i) => {
        const here = r.cells[i];
        const was = wasNote(here, previousCell(prev, s.id, r.metric, s.previousColumns?.[column] ?? column));
        const shown = here ? renderCell(here) : '';
        return escape(was ? `${shown}${shown ? '; ' : ''}${was}` : shown);
      });
      out.push(
        `| ${escape(r.metric)} | ${cells.join(' | ')} | ${escape(r.target ?? '')} | ${verdict}${r.note ? ` ${escape(r.note)}` : ''} |`,
      );
    }
    if (s.notes.length > 0) {
      out.push('');
      for (const n of s.notes) out.push(`- ${n}`);
    }
  }
  out.push('');
  return out.join('\n');
}

/** Writes <date>.json, <date>.md and latest.md into `dir`, the Markdown with `previous`'s figures beside. */
export function writeReport(report: BenchReport, dir: string, previous?: PreviousRun): string[] {
  const json = `${dir}/${report.date}.json`;
  const md = `${dir}/${report.date}.md`;
  const latest = `${dir}/latest.md`;
  mkdirSync(dirname(json), { recursive: true });
  const withPrevious: BenchReport = previous
    ? {
        ...report,
        previous: {
          file: previous.file,
          startedAt: previous.report.startedAt,
          mode: previous.report.mode,
        },
      }
    : report;
  writeFileSync(json, `${JSON.stringify(withPrevious, null, 2)}\n`);
  const markdown = renderMarkdown(withPrevious, previous);
  writeFileSync(md, markdown);
  writeFileSync(latest, markdown);
  return [json, md, latest];
}

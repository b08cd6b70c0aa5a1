// The bench's result model and its two renderings: bench/results/<date>.json and a Markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeMachine, type MachineInfo } from './machine.js';
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

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
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
      const cells = s.columns.map((_, i) => escape(r.cells[i] ? renderCell(r.cells[i]) : ''));
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

export function writeReport(report: BenchReport, dir: string): string[] {
  const json = `${dir}/${report.date}.json`;
  const md = `${dir}/${report.date}.md`;
  const latest = `${dir}/latest.md`;
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  writeFileSync(md, markdown);
  writeFileSync(latest, markdown);
  return [json, md, latest];
}

// What a scenario module exports, and what it is given to run.
import type { BenchEnv } from './bench-env.js';
import type { ScenarioReport } from './report.js';

export interface ScenarioContext {
  quick: boolean;
  reps: number;
  env: BenchEnv;
  /** One progress line (prefixed with the scenario id). */
  progress(line: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioReport>;
}

/** The side order of repetition `rep` (0-based): ABBA, so neither side always runs on a warmer machine. */
export function sidesInOrder<T>(rep: number, a: T, b: T): [T, T] {
  return rep % 4 === 0 || rep % 4 === 3 ? [a, b] : [b, a];
}

/** Failed repetitions per side: a failure costs that repetition, not the side; the first error is kept for the report. */
export class Failures {
  private readonly bySide = new Map<string, { count: number; first: string }>();

  /** Records a failure and returns its one-line reason. */
  add(side: string, err: unknown): string {
    const reason = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    const f = this.bySide.get(side);
    if (f) f.count++;
    else this.bySide.set(side, { count: 1, first: reason });
    return reason;
  }

  /** Why a side has no figures (when every repetition failed), for a "not available" cell. */
  reason(side: string): string {
    return this.bySide.get(side)?.first ?? 'not run';
  }

  notes(): string[] {
    return [...this.bySide].map(
      ([side, f]) =>
        `${side}: ${f.count} repetition(s) failed and are left out of the figures; first error: ${f.first}`,
    );
  }
}

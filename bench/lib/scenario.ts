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

// The delivery path's goals (issue #12), read from a run's figures: met or missed, and by how much.
import type { BenchReport, Cell, MetricRow, ScenarioReport } from './report.js';
import { fmt } from './stats.js';

export type GoalVerdict = 'met' | 'missed' | 'not measured' | 'stated';

export interface GoalResult {
  goal: string;
  target: string;
  /** The figure, in words ("2.31× (stagger 46,100 jobs/s, BullMQ 19,942)"). */
  value: string;
  verdict: GoalVerdict;
  /** How far from the target, when measured ("by 0.31×", "short by 0.05"). */
  by?: string;
}

/** Row metrics the goals read; the scenarios use these exact texts. */
export const GOAL_ROWS = {
  fanoutJobsPerS: 'jobs/s, N=100,000',
  /** Columns: dense slot, sparse slot, run-now (then BullMQ). */
  costAllIn: 'per million jobs, all in (USD)',
  rateOverLimit: 'achieved rate / limit',
  rateWindowsOver: 'sliding 1 s windows over the limit',
  sharedDeferrals: 'deferral re-publishes per job',
} as const;

const scenario = (r: BenchReport, id: string) => r.scenarios.find((s) => s.id === id);
const row = (s: ScenarioReport | undefined, metric: string): MetricRow | undefined =>
  s?.rows.find((x) => x.metric === metric);

/** The median of a measured cell; undefined for "not available", text, or a median lost to JSON (NaN → null). */
export function medianOf(c: Cell | undefined): number | undefined {
  if (!c || !('summary' in c)) return undefined;
  const m = c.summary.median as number | null;
  return typeof m === 'number' && Number.isFinite(m) ? m : undefined;
}

/** The largest repetition of a measured cell (for "0 in every repetition"). */
function maxOf(c: Cell | undefined): number | undefined {
  if (!c || !('summary' in c)) return undefined;
  const m = c.summary.max as number | null;
  return typeof m === 'number' && Number.isFinite(m) ? m : undefined;
}

const notMeasured = (goal: string, target: string, why: string): GoalResult => ({
  goal,
  target,
  value: why,
  verdict: 'not measured',
});

const usd = (v: number) => `$${v.toFixed(2)}`;

function fanoutGoal(r: BenchReport): GoalResult {
  const goal = 'fan-out throughput at N = 100,000';
  const target = '≥ 2× BullMQ';
  const x = row(scenario(r, 'fanout'), GOAL_ROWS.fanoutJobsPerS);
  const stagger = medianOf(x?.cells[0]);
  const bullmq = medianOf(x?.cells[1]);
  if (stagger === undefined || bullmq === undefined || bullmq <= 0)
    return notMeasured(goal, target, 'fanout scenario not in this run');
  const ratio = stagger / bullmq;
  return {
    goal,
    target,
    value: `${fmt(ratio)}× (stagger ${fmt(stagger)} jobs/s, BullMQ ${fmt(bullmq)})`,
    verdict: ratio >= 2 ? 'met' : 'missed',
    by: ratio >= 2 ? `${fmt(ratio - 2)}× above` : `${fmt(2 - ratio)}× short`,
  };
}

function costGoals(r: BenchReport): GoalResult[] {
  const cost = scenario(r, 'cost');
  const allIn = row(cost, GOAL_ROWS.costAllIn);
  const dense = medianOf(allIn?.cells[0]);
  const denseGoal = 'price per million jobs, dense slot (100,000 jobs in an hour)';
  const out: GoalResult[] = [
    dense === undefined
      ? notMeasured(denseGoal, '≤ $1.00', 'cost scenario not in this run')
      : {
          goal: denseGoal,
          target: '≤ $1.00',
          value: usd(dense),
          verdict: dense <= 1 ? 'met' : 'missed',
          by: dense <= 1 ? `${usd(1 - dense)} under` : `${usd(dense - 1)} over (×${fmt(dense)})`,
        },
  ];
  for (const [column, goal] of [
    [1, 'price per million jobs, sparse slot (1,200 jobs over 20 minutes)'],
    [2, 'price per million jobs, run-now'],
  ] as const) {
    const v = medianOf(allIn?.cells[column]);
    out.push(
      v === undefined
        ? notMeasured(goal, 'stated', 'cost scenario not in this run')
        : { goal, target: 'stated', value: usd(v), verdict: 'stated' },
    );
  }
  return out;
}

function rateGoal(r: BenchReport): GoalResult {
  const goal = 'rate limit: jobs due at once at 200/s (5,000 in a full run)';
  const target = '≥ 0.95 of the limit, 0 sliding windows over';
  const s = scenario(r, 'ratelimit');
  const rate = medianOf(row(s, GOAL_ROWS.rateOverLimit)?.cells[0]);
  const over = maxOf(row(s, GOAL_ROWS.rateWindowsOver)?.cells[0]);
  if (rate === undefined || over === undefined)
    return notMeasured(goal, target, 'ratelimit scenario not in this run');
  const met = rate >= 0.95 && over === 0;
  const misses = [
    ...(rate < 0.95 ? [`rate ${fmt(0.95 - rate)} short`] : []),
    ...(over > 0 ? [`${fmt(over)} windows over`] : []),
  ];
  return {
    goal,
    target,
    value: `${fmt(rate)} of the limit, ${fmt(over)} windows over (worst repetition)`,
    verdict: met ? 'met' : 'missed',
    by: met ? `${fmt(rate - 0.95)} above` : misses.join(', '),
  };
}

function sharedGoal(r: BenchReport): GoalResult {
  const goal = 'shared limit: 17 task types in one tick under one global limit';
  const target = '≤ 0.05 deferral re-publishes per job';
  const v = medianOf(row(scenario(r, 'shared-limit'), GOAL_ROWS.sharedDeferrals)?.cells[0]);
  if (v === undefined) return notMeasured(goal, target, 'shared-limit scenario not in this run');
  return {
    goal,
    target,
    value: `${fmt(v)} per job`,
    verdict: v <= 0.05 ? 'met' : 'missed',
    by: v <= 0.05 ? `${fmt(0.05 - v)} under` : `${fmt(v - 0.05)} over`,
  };
}

/**
 * The 1,000,000-user tick, from the `scale` scenario when the run has it: a goal entry it reports itself
 * (ScenarioReport.goals), else the verdict of its row that names 1,000,000 users.
 */
function scaleGoal(r: BenchReport): GoalResult {
  const goal = 'a tick over 1,000,000 users';
  const target = 'completed';
  const s = scenario(r, 'scale');
  if (!s) return notMeasured(goal, target, 'scale scenario not in this run');
  const own = s.goals?.[0];
  if (own) return own;
  const x = s.rows.find((y) => /1,000,000|1000000|1M\b/.test(y.metric) && y.verdict);
  if (!x) return publishedGoal(goal, target, s);
  const verdict: GoalVerdict =
    x.verdict === 'met' ? 'met' : x.verdict === 'missed' ? 'missed' : 'not measured';
  return {
    goal,
    target,
    value: `${x.metric}: ${x.cells.map((c) => ('summary' in c ? fmt(c.summary.median) : 'text' in c ? c.text : c.na)).join(' / ')}`,
    verdict,
    ...(x.note ? { by: x.note } : {}),
  };
}

/** From the scale scenario's users (params) and its "jobs published" row: every user's job out, at 1,000,000 users. */
function publishedGoal(goal: string, target: string, s: ScenarioReport): GoalResult {
  const users = Number(String(s.params['users'] ?? '').replace(/,/g, ''));
  const row = s.rows.find((y) => y.metric.startsWith('jobs published'));
  const cell = row?.cells[0];
  const published = cell && 'summary' in cell ? cell.summary.median : null;
  if (!Number.isFinite(users) || published === null || published === undefined)
    return notMeasured(goal, target, 'the scale scenario reports no users or jobs published');
  if (users < 1_000_000) return notMeasured(goal, target, `this run's tick had ${fmt(users)} users`);
  return {
    goal,
    target,
    value: `${fmt(published)} of ${fmt(users)} users' jobs published by one tick and its continuations, counted in the broker`,
    verdict: published >= users ? 'met' : 'missed',
    ...(published >= users ? {} : { by: `${fmt(users - published)} jobs short` }),
  };
}

/** Every goal of issue #12, in its order, for a run (or a previous run's figures). */
export function goalsOf(r: BenchReport): GoalResult[] {
  return [fanoutGoal(r), ...costGoals(r), rateGoal(r), sharedGoal(r), scaleGoal(r)];
}

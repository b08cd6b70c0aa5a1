// The bench report's logic: previous-run matching ("was X"), the goals table, and the price arithmetic.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GOAL_ROWS, goalsOf } from '../../bench/lib/goals.js';
import { loadPrevious, previousCell, wasNote } from '../../bench/lib/previous.js';
import { PRICES, billedGbSeconds, priceOfMillionJobs, type PerJobUsage } from '../../bench/lib/prices.js';
import { cell, renderMarkdown, text, type BenchReport, type ScenarioReport } from '../../bench/lib/report.js';
import { summarize } from '../../bench/lib/stats.js';

const machine = {
  cpuModel: 'test cpu',
  cpus: 2,
  totalMemGiB: 4,
  os: 'Linux test',
  node: 'v20',
  redis: '7',
} as unknown as BenchReport['machine'];

function benchReport(
  startedAt: string,
  scenarios: ScenarioReport[],
  mode: BenchReport['mode'] = 'full',
): BenchReport {
  return {
    date: startedAt.slice(0, 10),
    startedAt,
    durationS: 1,
    mode,
    reps: 1,
    command: 'npm run bench',
    machine,
    loadAverage: { start: [0, 0, 0], end: [0, 0, 0] },
    scenarios,
  };
}

const scenario = (
  id: string,
  columns: string[],
  rows: ScenarioReport['rows'],
  extra: Partial<ScenarioReport> = {},
) => ({
  id,
  title: id,
  params: {},
  columns,
  rows,
  notes: [],
  ...extra,
});

const n = (...values: number[]) => cell(summarize(values));

describe('previous results', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'bench-prev-'));
    dirs.push(d);
    return d;
  };

  it('picks the newest file that started before this run, skipping later and malformed ones', () => {
    const d = dir();
    const write = (name: string, startedAt: string) =>
      writeFileSync(join(d, name), JSON.stringify(benchReport(startedAt, [])));
    write('2026-11-23.json', '2026-11-23T10:00:00.000Z');
    write('2026-11-30.json', '2026-11-30T10:00:00.000Z');
    write('2026-12-14.json', '2026-12-14T10:00:00.000Z');
    writeFileSync(join(d, '2026-12-01.json'), '{"not":"a report"}');
    writeFileSync(join(d, 'broken.json'), '{');
    writeFileSync(join(d, 'notes.md'), '# not json');

    const found = loadPrevious(d, '2026-12-07T09:00:00.000Z');
    expect(found?.file).toBe(join(d, '2026-11-30.json'));
    expect(found?.report.startedAt).toBe('2026-11-30T10:00:00.000Z');
    expect(loadPrevious(d, '2026-11-01T00:00:00.000Z')).toBeUndefined();
    expect(loadPrevious(join(d, 'missing'), '2026-12-07T09:00:00.000Z')).toBeUndefined();
  });

  it('matches a cell by scenario, figure and column heading, and nothing else', () => {
    const prev = benchReport('2026-11-30T10:00:00.000Z', [
      scenario(
        'ratelimit',
        ['stagger', 'BullMQ'],
        [{ metric: 'achieved rate / limit', cells: [n(0.7), n(1.03)] }],
      ),
    ]);
    expect(previousCell(prev, 'ratelimit', 'achieved rate / limit', 'BullMQ')).toEqual(n(1.03));
    expect(previousCell(prev, 'ratelimit', 'achieved rate / limit', 'stagger, dense')).toBeUndefined();
    expect(previousCell(prev, 'ratelimit', 'another figure', 'stagger')).toBeUndefined();
    expect(previousCell(prev, 'cost', 'achieved rate / limit', 'stagger')).toBeUndefined();
    expect(previousCell(undefined, 'ratelimit', 'achieved rate / limit', 'stagger')).toBeUndefined();
  });

  it('says "was" with the previous median, and nothing for a repeated label', () => {
    expect(wasNote(n(0.95), n(0.69, 0.7, 0.71))).toBe('was 0.700');
    expect(wasNote(n(2), cell(summarize([3]), 'ms'))).toBe('was 3 ms');
    expect(wasNote(text('—'), text('—'))).toBe('');
    expect(wasNote(text('$0.52 a month'), text('$0.62 a month'))).toBe('was $0.62 a month');
    expect(wasNote(n(1), undefined)).toBe('');
    // A median lost to JSON (NaN is written as null) reads as not available.
    expect(wasNote(n(1), { summary: { ...summarize([1]), median: null as unknown as number } })).toBe(
      'was not available',
    );
  });

  it('renders "was X" beside each cell with a counterpart, through a column alias where the heading changed', () => {
    const prev = benchReport('2026-11-30T10:00:00.000Z', [
      scenario(
        'cost',
        ['stagger', 'BullMQ'],
        [{ metric: 'QStash delivery attempts/job', cells: [n(1), text('—')] }],
      ),
    ]);
    const now = benchReport('2026-12-07T10:00:00.000Z', [
      scenario(
        'cost',
        ['stagger, dense', 'stagger, sparse', 'BullMQ (dense slice)'],
        [
          { metric: 'QStash delivery attempts/job', cells: [n(1.25), n(1), text('—')] },
          { metric: 'a new figure', cells: [n(5), n(6), text('—')] },
        ],
        { previousColumns: { 'stagger, dense': 'stagger', 'BullMQ (dense slice)': 'BullMQ' } },
      ),
    ]);
    const md = renderMarkdown(now, { file: 'bench/results/2026-11-30.json', report: prev });
    expect(md).toContain('| QStash delivery attempts/job | 1.25 (n=1); was 1 | 1 (n=1) | — |');
    expect(md).toContain('| a new figure | 5 (n=1) | 6 (n=1) | — |');
    expect(md).toContain('`bench/results/2026-11-30.json`, a full run started 2026-11-30T10:00:00.000Z');
    expect(renderMarkdown(now)).toContain('No previous results to compare with.');
  });
});

describe('goals table', () => {
  const full = (o: {
    fanout?: [number, number];
    cost?: [number, number, number];
    rate?: { rate: number; over: number[] };
    deferrals?: number;
    scale?: ScenarioReport;
  }) =>
    benchReport('2026-12-07T10:00:00.000Z', [
      ...(o.fanout
        ? [
            scenario(
              'fanout',
              ['stagger', 'BullMQ'],
              [{ metric: GOAL_ROWS.fanoutJobsPerS, cells: o.fanout.map((v) => n(v)) }],
            ),
          ]
        : []),
      ...(o.cost
        ? [
            scenario(
              'cost',
              ['stagger, dense', 'stagger, sparse', 'stagger, run-now', 'BullMQ'],
              [{ metric: GOAL_ROWS.costAllIn, cells: [...o.cost.map((v) => n(v)), text('—')] }],
            ),
          ]
        : []),
      ...(o.rate
        ? [
            scenario(
              'ratelimit',
              ['stagger', 'BullMQ'],
              [
                { metric: GOAL_ROWS.rateOverLimit, cells: [n(o.rate.rate), n(1)] },
                { metric: GOAL_ROWS.rateWindowsOver, cells: [n(...o.rate.over), n(900)] },
              ],
            ),
          ]
        : []),
      ...(o.deferrals !== undefined
        ? [
            scenario(
              'shared-limit',
              ['stagger'],
              [{ metric: GOAL_ROWS.sharedDeferrals, cells: [n(o.deferrals)] }],
            ),
          ]
        : []),
      ...(o.scale ? [o.scale] : []),
    ]);
  const byGoal = (r: BenchReport) => goalsOf(r).map((g) => [g.verdict, g.by ?? '']);

  it('reads met and missed, and by how much, from the figures', () => {
    const r = full({
      fanout: [45_000, 20_000],
      cost: [1.2, 3.5, 2.25],
      rate: { rate: 0.97, over: [0, 0, 0] },
      deferrals: 0.08,
    });
    expect(byGoal(r)).toEqual([
      ['met', '0.250× above'],
      ['missed', '$0.20 over (×1.20)'],
      ['stated', ''],
      ['stated', ''],
      ['met', '0.0200 above'],
      ['missed', '0.0300 over'],
      ['not measured', ''],
    ]);
    expect(goalsOf(r)[2]?.value).toBe('$3.50');
  });

  it('misses the rate goal on one repetition with a window over, even with the rate met', () => {
    const r = full({ rate: { rate: 0.99, over: [0, 2, 0] } });
    const rate = goalsOf(r)[4]!;
    expect(rate.verdict).toBe('missed');
    expect(rate.by).toBe('2 windows over');
    const short = goalsOf(full({ rate: { rate: 0.7, over: [0] } }))[4]!;
    expect([short.verdict, short.by]).toEqual(['missed', 'rate 0.250 short']);
  });

  it('says what was not measured, and takes the scale figure from that scenario when present', () => {
    const none = goalsOf(full({}));
    expect(none.map((g) => g.verdict)).toEqual(Array(7).fill('not measured'));
    expect(none[6]?.value).toBe('scale scenario not in this run');

    const withRow = full({
      scale: scenario(
        'scale',
        ['stagger'],
        [{ metric: 'tick over 1,000,000 users completed', cells: [text('yes, 212 s')], verdict: 'met' }],
      ),
    });
    expect(goalsOf(withRow)[6]).toMatchObject({
      verdict: 'met',
      value: 'tick over 1,000,000 users completed: yes, 212 s',
    });

    const own = full({
      scale: scenario('scale', ['stagger'], [], {
        goals: [
          {
            goal: 'a tick over 1,000,000 users',
            target: 'completed',
            value: 'done in 3 continuations',
            verdict: 'met',
          },
        ],
      }),
    });
    expect(goalsOf(own)[6]?.value).toBe('done in 3 continuations');

    // The scenario as it reports itself: its users and the jobs it published (it fails unless the broker has them all).
    const published = (users: string, count: number) =>
      full({
        scale: scenario(
          'scale',
          ['stagger'],
          [{ metric: 'jobs published (tick + continuations)', cells: [n(count)] }],
          { params: { users } },
        ),
      });
    expect(goalsOf(published('1,000,000', 1_000_000))[6]).toMatchObject({ verdict: 'met' });
    expect(goalsOf(published('1,000,000', 999_000))[6]).toMatchObject({
      verdict: 'missed',
      by: '1,000 jobs short',
    });
    expect(goalsOf(published('20,000', 20_000))[6]).toMatchObject({
      verdict: 'not measured',
      value: "this run's tick had 20,000 users",
    });
  });

  it('renders the goals table with the previous run beside', () => {
    const prev = full({ fanout: [14_243, 19_942] });
    const now = full({ fanout: [45_000, 20_000] });
    const md = renderMarkdown(now, { file: 'prev.json', report: prev });
    expect(md).toContain(
      '| fan-out throughput at N = 100,000 | ≥ 2× BullMQ | 2.25× (stagger 45,000 jobs/s, BullMQ 20,000) | met | 0.250× above | 0.714× (stagger 14,243 jobs/s, BullMQ 19,942) (missed) |',
    );
  });
});

describe('price arithmetic', () => {
  it('bills Lambda duration per whole ms, at least 1 ms, times memory', () => {
    expect(billedGbSeconds(0.2, 1024)).toBeCloseTo(0.001, 12);
    expect(billedGbSeconds(1, 256)).toBeCloseTo(0.00025, 12);
    expect(billedGbSeconds(1.0001, 256)).toBeCloseTo(0.0005, 12);
    expect(billedGbSeconds(448.3, 512)).toBeCloseTo(0.449 / 2, 12);
  });

  it('prices a million jobs from per-job usage, part by part', () => {
    const usage: PerJobUsage = {
      redisCommands: 2,
      qstashMessages: 1.5,
      lambdaInvocations: 1.01,
      lambdaGbSeconds: 0.001,
      httpApiRequests: 1,
    };
    const p = priceOfMillionJobs(usage);
    // 2 M commands at $0.2 / 100K; 1.5 M messages at $1 / 100K; 1.01 M requests at $0.2 / M; 1,000 GB-s; 1 M HTTP API requests at $1 / M.
    expect(p.redis).toBeCloseTo(4, 10);
    expect(p.qstash).toBeCloseTo(15, 10);
    expect(p.lambdaRequests).toBeCloseTo(0.202, 10);
    expect(p.lambdaDuration).toBeCloseTo(1000 * PRICES.lambda.usdPerGbSecond, 10);
    expect(p.httpApi).toBeCloseTo(1, 10);
    expect(p.total).toBeCloseTo(4 + 15 + 0.202 + 0.0133334 + 1, 10);
  });
});

// `npm run bench [-- --quick] [--reps N] [--only fanout,ratelimit,...]`: stagger side by side with BullMQ, and the cost
// per million jobs. Starts its own redis-servers, prints a line per step, writes bench/results/<date>.{json,md} and latest.md.
import './lib/quiet.js';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { BenchEnv } from './lib/bench-env.js';
import { machineInfo, describeMachine } from './lib/machine.js';
import { redisServerVersion } from './lib/redis-stats.js';
import { loadPrevious } from './lib/previous.js';
import { writeReport, type BenchReport, type ScenarioReport } from './lib/report.js';
import type { Scenario } from './lib/scenario.js';
import { costScenario } from './scenarios/cost.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { overheadScenario } from './scenarios/overhead.js';
import { ratelimitScenario } from './scenarios/ratelimit.js';
import { sharedLimitScenario } from './scenarios/shared-limit.js';
import { spreadScenario } from './scenarios/spread.js';
import { scaleScenario } from './scenarios/scale.js';

const SCENARIOS: Scenario[] = [
  fanoutScenario,
  ratelimitScenario,
  spreadScenario,
  overheadScenario,
  scaleScenario,
  costScenario,
  sharedLimitScenario,
];

const USAGE = `usage: npm run bench -- [--quick] [--reps N] [--only ${SCENARIOS.map((s) => s.id).join(',')}]`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const reps = values.reps === undefined ? (values.quick ? 1 : 5) : Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer\n${USAGE}`);
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  return { quick: values.quick, reps, only, out: values.out };
}

async function main(): Promise<void> {
  const opts = options();
  const started = new Date();
  const loadAtStart = os.loadavg();
  const t0 = performance.now();
  const log = (line: string) =>
    console.log(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  log(`mode ${opts.quick ? 'quick' : 'full'}, ${opts.reps} repetition(s) per figure`);
  const env = await BenchEnv.start();
  const machine = machineInfo(await redisServerVersion(env.appAdmin));
  log(`machine: ${describeMachine(machine)}`);
  log(
    `redis-servers on ports ${env.appRedis.port} (app) and ${env.brokerRedis.port} (broker); bridge ${env.bridge.url} (own process)`,
  );

  const reports: ScenarioReport[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (opts.only && !opts.only.includes(scenario.id)) continue;
      log(`${scenario.title}`);
      const ctx = {
        quick: opts.quick,
        reps: opts.reps,
        env,
        progress: (line: string) => log(`${scenario.id}: ${line}`),
      };
      reports.push(await scenario.run(ctx));
    }
  } finally {
    await env.stop();
  }

  const report: BenchReport = {
    date: started.toISOString().slice(0, 10),
    startedAt: started.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    mode: opts.quick ? 'quick' : 'full',
    reps: opts.reps,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    scenarios: reports,
  };
  // A quick or partial run must not overwrite the committed full results.
  const dir = opts.quick || opts.only ? `.local/bench/results` : opts.out;
  // The newest committed results before this run stand beside its figures.
  const previous = loadPrevious(opts.out, report.startedAt);
  log(previous ? `previous figures from ${previous.file}` : 'no previous results to compare with');
  for (const file of writeReport(report, dir, previous)) log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);

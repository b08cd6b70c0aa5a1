// `npm run drills [-- --quick] [--runs N] [--only <substring>]`: the drill suite against a fresh local stack per run; fails on any loss or double.
import { mkdirSync, writeFileSync } from 'node:fs';
import { DRILLS, type DrillResult } from './drills.js';
import { startDrillStack } from './stack.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const runs = Number(arg('--runs') ?? 1);
const only = arg('--only');
const users = Number(arg('--users') ?? (quick ? 60 : 100));
// QStash's retries, shortened: 1 s, 2 s, 4 s, ... so outages longer than a retry span fit in a drill.
const BROKER_RETRY_BASE_MS = 1000;

function table(results: DrillResult[]): string {
  const head = '| drill | killed | expected | ran once | dead letters | lost | doubled | s | observed |';
  const rows = results.map(
    (r) =>
      `| ${r.drill}${r.exercised ? '' : ' (fault not exercised)'} | ${r.killed} | ${r.expected} | ${r.ran} | ${r.deadLettered} | ${r.lost} | ${r.doubled} | ${r.seconds} | ${r.note} |`,
  );
  return [head, '|---|---|---:|---:|---:|---:|---:|---:|---|', ...rows].join('\n');
}

async function main() {
  const selected = Object.entries(DRILLS).filter(([name]) => !only || name.includes(only));
  const all: { run: number; results: DrillResult[] }[] = [];
  let failed = false;
  for (let run = 1; run <= runs; run++) {
    console.log(
      `drills: run ${run}/${runs}, ${users} users per drill${quick ? ' (quick)' : ''}; starting the stack…`,
    );
    const stack = await startDrillStack({
      tasks: selected.map(([, d]) => ({ id: d.task, retries: d.retries })),
      brokerRetryBaseMs: BROKER_RETRY_BASE_MS,
      // One user per page: a fan-out slow enough to be killed in the middle.
      fanoutPageSize: 1,
    });
    console.log(`drills: stack up, logs in ${stack.dir}`);
    const results: DrillResult[] = [];
    try {
      for (const [name, drill] of selected) {
        console.log(`drills: ${name}…`);
        let r: DrillResult;
        try {
          r = await drill.run({ stack, users, brokerRetryBaseMs: BROKER_RETRY_BASE_MS });
        } catch (err) {
          r = {
            drill: name,
            killed: '?',
            expected: users,
            ran: 0,
            deadLettered: 0,
            lost: users,
            doubled: 0,
            seconds: 0,
            exercised: false,
            note: `drill error: ${err instanceof Error ? err.message : String(err)}`,
          };
        }
        console.log(
          `drills:   expected ${r.expected}, ran ${r.ran}, dead letters ${r.deadLettered}, lost ${r.lost}, doubled ${r.doubled} (${r.note})`,
        );
        if (r.lost > 0 || r.doubled > 0 || !r.exercised) failed = true;
        results.push(r);
      }
    } finally {
      await stack.stop();
    }
    all.push({ run, results });
    console.log(`\nrun ${run}\n${table(results)}\n`);
  }
  mkdirSync('.local', { recursive: true });
  writeFileSync('.local/drills-report.json', JSON.stringify({ quick, users, runs: all }, null, 2));
  console.log(
    failed ? 'drills: FAILED (loss or double above)' : 'drills: passed: 0 lost and 0 doubled in every drill',
  );
  process.exit(failed ? 1 : 0);
}

void main();

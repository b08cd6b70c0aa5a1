// `npm run test:stress -- --runs N`: the whole suite but the LocalStack part (which adds its own minutes) N times (default 5) while CPU burners keep every core busy,
// to prove it does not depend on the machine's speed. Prints each run and the pass count; exits 1 on any failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    burners: { type: 'string', default: String(availableParallelism()) },
  },
});
const runs = Number(values.runs);
const burnerCount = Number(values.burners);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (!Number.isInteger(burnerCount) || burnerCount < 0) throw new Error('--burners must be a whole number');

const OUT = '.local/stress';
const REPORT = '.local/test-report.json';
mkdirSync(OUT, { recursive: true });

/** Busy loops at normal priority, one per core: the suite competes for CPU as on a busy CI machine. */
const burners: ChildProcess[] = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
let suite: ChildProcess | undefined;
function stopAll() {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
  if (suite?.pid !== undefined && suite.exitCode === null) {
    try {
      process.kill(-suite.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

interface RunResult {
  run: number;
  exitCode: number | null;
  seconds: number;
  passed: number;
  failed: number;
  failures: string[];
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[]; message?: string }[];
}

function readReport(): Pick<RunResult, 'passed' | 'failed' | 'failures'> {
  try {
    const r = JSON.parse(readFileSync(REPORT, 'utf8')) as VitestJson;
    const failures = r.testResults.flatMap((f) => [
      ...f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name}: ${a.fullName}`),
      ...(f.assertionResults.length === 0 && f.message ? [`${f.name}: ${f.message.split('\n')[0]}`] : []),
    ]);
    return { passed: r.numPassedTests, failed: r.numFailedTests, failures };
  } catch {
    return { passed: 0, failed: 0, failures: ['no test report written'] };
  }
}

async function runSuite(run: number): Promise<RunResult> {
  const log = createWriteStream(join(OUT, `run-${run}.log`));
  const t0 = performance.now();
  suite = spawn('npx', ['vitest', 'run'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  suite.stdout?.pipe(log);
  suite.stderr?.pipe(log);
  const exitCode = await new Promise<number | null>((r) => suite?.once('exit', (code) => r(code)));
  const seconds = (performance.now() - t0) / 1000;
  log.end();
  return { run, exitCode, seconds, ...readReport() };
}

console.log(
  `stress: ${runs} runs of the suite (vitest run: unit, integration, e2e) beside ${burnerCount} CPU burners (logs in ${OUT}/)`,
);
const results: RunResult[] = [];
for (let run = 1; run <= runs; run++) {
  const r = await runSuite(run);
  results.push(r);
  const ok = r.exitCode === 0 && r.failed === 0;
  console.log(
    `run ${run}: ${ok ? 'pass' : 'FAIL'}  ${r.passed} passed, ${r.failed} failed, ${r.seconds.toFixed(0)} s` +
      (ok ? '' : `  (exit ${r.exitCode})`),
  );
  for (const f of r.failures) console.log(`    ${f}`);
}
stopAll();
const passes = results.filter((r) => r.exitCode === 0 && r.failed === 0).length;
console.log(`stress: ${passes} of ${runs} runs passed with ${burnerCount} cores loaded`);
process.exit(passes === runs ? 0 : 1);

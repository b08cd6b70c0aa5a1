// Starts the local stack (npm run dev on free ports), runs schemathesis against its /openapi.json with the admin
// key and every check, stops the stack, and exits with schemathesis's code. Bounded: a few examples per operation.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { LOCAL_DEFAULTS } from '../lib/local-defaults.js';
import { startDevStack } from '../../test/helpers/dev-stack.js';

const [schemathesis, ...extra] = process.argv.slice(2);
if (!schemathesis) throw new Error('usage: run.ts <schemathesis binary> [schemathesis run options]');

const reportDir = '.local/schemathesis-report';
mkdirSync(reportDir, { recursive: true });
// The admin abuse limits are off here: thousands of requests a minute from one key would otherwise be mostly 429s
// and leave most operations untested. The limits themselves are tested by test/integration/admin-limits.test.ts.
const stack = await startDevStack({ STAGGER_ADMIN_LIMITS: 'off' });
let code = 1;
try {
  console.log(`schemathesis: stack up at ${stack.api}; seeding the demo users`);
  // The schemas' examples (user1, daily_user_report) then name data that exists.
  execFileSync('node_modules/.bin/tsx', ['scripts/seed.ts'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      UPSTASH_REDIS_REST_URL: stack.bridge,
      UPSTASH_REDIS_REST_TOKEN: LOCAL_DEFAULTS.redisToken,
    },
  });
  const args = [
    '--config-file',
    'scripts/schemathesis/schemathesis.toml',
    'run',
    `${stack.api}/openapi.json`,
    '--header',
    `Authorization: Bearer ${LOCAL_DEFAULTS.adminApiKey}`,
    '--checks',
    'all',
    '--max-examples',
    '8',
    '--seed',
    '1',
    // One worker: with two, hypothesis describes its filters through ast.parse from two threads at once, which
    // CPython 3.11 can fail with "SystemError: AST constructor recursion depth mismatch" (a run error, not ours).
    '--workers',
    '1',
    '--request-timeout',
    '20',
    '--report',
    'junit',
    '--report-dir',
    reportDir,
    ...extra,
  ];
  code = await new Promise<number>((resolve) => {
    const child = spawn(schemathesis, args, { stdio: 'inherit' });
    child.on('exit', (c) => resolve(c ?? 1));
  });
} finally {
  const stopped = await stack.stop();
  if (code !== 0) console.log(`schemathesis: stack log tail:\n${stack.output().slice(-3000)}`);
  console.log(`schemathesis: exit ${code}; stack stopped (${stopped})`);
}
process.exit(code);

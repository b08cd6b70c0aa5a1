// `stagger` (npx stagger ...): runs the command line on this process and exits with a code scripts can rely on.
import type { CliIo } from './program.js';
import { runCli } from './run.js';

const io: CliIo = {
  env: process.env,
  input: process.stdin,
  output: process.stderr,
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  setExitCode: () => undefined,
};

process.exitCode = await runCli(process.argv.slice(2), io);

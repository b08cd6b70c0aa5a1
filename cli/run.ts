// Runs the command line against an io (the process's, or a test's) and answers the exit code.
import { CommanderError } from 'commander';
import { buildProgram, type CliIo } from './program.js';
import { EXIT, exitCodeOf, messageOf } from './exit-codes.js';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram({ ...io, setExitCode: (c) => (code = c) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and succeed; any other parser complaint is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.err(messageOf(err));
    return exitCodeOf(err);
  }
}

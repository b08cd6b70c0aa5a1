// Asks before a bulk action: "y" on a terminal, or --yes; without a terminal the answer is no.
import { createInterface } from 'node:readline/promises';
import { NotConfirmedError } from './exit-codes.js';

export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

export async function confirm(question: string, yes: boolean, term: Terminal): Promise<void> {
  if (yes) return;
  if (!term.input.isTTY) throw new NotConfirmedError(`${question} Not a terminal: pass --yes to confirm.`);
  const rl = createInterface({ input: term.input, output: term.output });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmedError('not confirmed; nothing done');
  } finally {
    rl.close();
  }
}

// Runs one side of a scenario in a child process (tsx), so its memory is its own: parent sends input, child answers once.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMemorySampler, type MemoryReport } from './memory.js';

type ChildAnswer<T> = { ok: true; result: T; memory: MemoryReport } | { ok: false; error: string };

export interface ChildResult<T> {
  result: T;
  memory: MemoryReport;
}

/** Forks `module` (a .ts file that calls childMain) under tsx, sends it `input`, resolves with its answer. */
export function runInChild<I, T>(module: string | URL, input: I, env: Record<string, string> = {}): Promise<ChildResult<T>> {
  const path = module instanceof URL ? fileURLToPath(module) : module;
  return new Promise((resolve, reject) => {
    const child = fork(path, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let answer: ChildAnswer<T> | undefined;
    child.on('message', (msg) => {
      answer = msg as ChildAnswer<T>;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!answer) reject(new Error(`bench child ${path} exited (${signal ?? code}) without an answer`));
      else if (!answer.ok) reject(new Error(`bench child ${path} failed: ${answer.error}`));
      else resolve({ result: answer.result, memory: answer.memory });
    });
    child.send(input as object);
  });
}

/** The child side: waits for the input, runs `work` under a memory sampler, answers, exits. */
export function childMain<I, T>(work: (input: I) => Promise<T>): void {
  process.once('message', (input) => {
    void (async () => {
      let answer: ChildAnswer<T>;
      try {
        const sampler = startMemorySampler();
        const result = await work(input as I);
        answer = { ok: true, result, memory: sampler.stop() };
      } catch (err) {
        answer = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      }
      // Exit once the answer is out: open sockets or timers of the side under test must not keep it alive.
      process.send?.(answer, () => process.exit(answer.ok ? 0 : 1));
    })();
  });
}

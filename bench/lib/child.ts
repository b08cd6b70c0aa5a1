// Runs one side of a scenario in a child process (tsx), so its memory is its own: parent sends input, child answers once.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMemorySampler, type MemoryReport } from './memory.js';

/**
 * `--import tsx --expose-gc`, plus `--cpu-prof` into $BENCH_CPU_PROF when that is set: each child (a side of
 * a scenario, the bridge, a broker) then writes a .cpuprofile on exit, for `node --cpu-prof`-style analysis.
 */
export function childExecArgv(): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  // --expose-gc only lets the child measure what survives a full collection; it changes no GC behaviour.
  const base = ['--import', 'tsx', '--expose-gc'];
  // $BENCH_CHILD_NODE_FLAGS: extra flags for experiments, e.g. "--max-old-space-size=48".
  const extra = (process.env['BENCH_CHILD_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
  return dir ? [...base, ...extra, '--cpu-prof', `--cpu-prof-dir=${dir}`] : [...base, ...extra];
}

type ChildAnswer<T> = { ok: true; result: T; memory: MemoryReport } | { ok: false; error: string };

export interface ChildResult<T> {
  result: T;
  memory: MemoryReport;
}

/** Forks `module` (a .ts file that calls childMain) under tsx, sends it `input`, resolves with its answer. */
export function runInChild<I, T>(
  module: string | URL,
  input: I,
  env: Record<string, string> = {},
): Promise<ChildResult<T>> {
  const path = module instanceof URL ? fileURLToPath(module) : module;
  return new Promise((resolve, reject) => {
    const child = fork(path, [], {
      execArgv: childExecArgv(),
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

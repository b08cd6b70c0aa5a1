// Records of a batch's finished jobs, gathered for a short while and written with one script call per group.
import type { Logger } from '../log.js';
import type { RecordInput } from './job-store.js';

/** Longest a worker keeps trying to record a run when no Lambda deadline bounds it. */
export const RECORD_RETRY_MAX_MS = 8_000;

export interface RetryOptions {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Epoch ms the invocation is cut off; undefined: none. */
  deadline?: number;
  log: Logger;
}

/**
 * Runs a Redis write, retrying while Redis is unreachable (within the time the invocation has left): after a call
 * the target accepted, giving up means the job comes back and the target is called again (with the same
 * Idempotency-Key), so a short Redis outage is worth waiting out.
 */
export async function writeWhileReachable<T>(write: () => Promise<T>, o: RetryOptions): Promise<T> {
  const until = Math.min(o.deadline ?? Number.POSITIVE_INFINITY, o.clock() + RECORD_RETRY_MAX_MS) - 250;
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await write();
    } catch (err) {
      if (o.clock() + wait > until) throw err;
      o.log.warn(
        { err: err instanceof Error ? err.message : String(err), retryInMs: wait },
        'recording the run failed; retrying',
      );
      await o.sleep(wait);
    }
  }
}

interface Pending {
  input: RecordInput;
  resolve: (owned: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * A job's record waits at most `everyMs` after the previous group's write to share the next one: a batch of jobs a
 * few ms apart costs one write per `everyMs`, not one per job, while a job alone is written at once. A crash loses
 * at most the records of that span; those jobs run again under the same Idempotency-Key.
 */
export class RecordGroups {
  private pending: Pending[] = [];
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** Script calls made (each one a group). */
  writes = 0;

  constructor(
    private readonly write: (inputs: readonly RecordInput[]) => Promise<boolean[]>,
    private readonly everyMs: number,
    private readonly retry: RetryOptions,
  ) {}

  /** Resolves once written: false when a later attempt had already taken the job over. */
  record(input: RecordInput): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.running ??= this.loop().finally(() => (this.running = undefined));
    });
  }

  /** Every record handed in so far written (or failed). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    while (this.pending.length > 0) {
      const wait = this.lastWriteAt + this.everyMs - this.retry.clock();
      if (wait > 0) await this.retry.sleep(wait);
      const group = this.pending;
      this.pending = [];
      this.lastWriteAt = this.retry.clock();
      this.writes++;
      try {
        const owned = await writeWhileReachable(() => this.write(group.map((p) => p.input)), this.retry);
        group.forEach((p, i) => p.resolve(owned[i] === true));
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
  }
}

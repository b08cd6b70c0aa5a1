// The scheduler lock: one tick at a time; an owner token, a TTL renewed while working, and a fencing number per grant.
import { randomBytes } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import { runScript, type ScriptRedis } from '../store/lua/script.js';
import { acquireLock, releaseLock, renewLock } from './lua/scripts.generated.js';

export interface LockGrant {
  /** Random owner token: only its holder can renew or release the lock. */
  readonly token: string;
  /** Fencing number of this grant: larger than every fence handed out before it. */
  readonly fence: number;
}

export interface KeepAlive {
  /** True once a renewal found the lock gone or taken: stop starting new work. */
  lost(): boolean;
  stop(): void;
}

/** Calls `fn` every `ms` until the returned stop is called; `fn`'s promise is for tests that drive the ticks. */
export type RepeatEvery = (ms: number, fn: () => Promise<void> | undefined) => () => void;

/** The real clock: an unref'd setInterval (a pending renewal never keeps the process alive). */
export const repeatWithInterval: RepeatEvery = (ms, fn) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export interface LockOptions {
  ttlMs: number;
  newToken?: () => string;
  /** Default: setInterval. Tests pass a manual one to renew at chosen moments instead of racing the wall clock. */
  repeatEvery?: RepeatEvery;
}

export class SchedulerLock {
  private readonly newToken: () => string;

  constructor(
    private readonly redis: ScriptRedis,
    private readonly keys: Pick<Keys, 'schedulerLock' | 'schedulerFence' | 'schedulerStatus'>,
    private readonly options: LockOptions,
  ) {
    this.newToken = options.newToken ?? (() => randomBytes(16).toString('hex'));
  }

  /** The lock and a fence when free; undefined when another owner holds it. */
  async acquire(holder: string, now: number): Promise<LockGrant | undefined> {
    const token = this.newToken();
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      acquireLock,
      [k.schedulerLock, k.schedulerFence, k.schedulerStatus],
      [token, this.options.ttlMs, holder, now],
    );
    const fence = Number(reply);
    if (!Number.isSafeInteger(fence)) throw new Error(`acquireLock replied ${String(reply)}`);
    return fence > 0 ? { token, fence } : undefined;
  }

  /** Extends the TTL; false when this grant no longer holds the lock. */
  async renew(grant: LockGrant): Promise<boolean> {
    const reply = await runScript(
      this.redis,
      renewLock,
      [this.keys.schedulerLock],
      [grant.token, this.options.ttlMs],
    );
    return Number(reply) === 1;
  }

  /** Deletes the lock if this grant still holds it; never someone else's. */
  async release(grant: LockGrant): Promise<boolean> {
    return Number(await runScript(this.redis, releaseLock, [this.keys.schedulerLock], [grant.token])) === 1;
  }

  /** Renews every third of the TTL until stopped; a failed or refused renewal marks the lock lost. */
  keepAlive(grant: LockGrant, onLost?: (err?: unknown) => void): KeepAlive {
    let lost = false;
    let renewing = false;
    const repeat = this.options.repeatEvery ?? repeatWithInterval;
    const stop = repeat(Math.max(Math.floor(this.options.ttlMs / 3), 10), () => {
      if (renewing || lost) return undefined;
      renewing = true;
      return this.renew(grant)
        .then((held) => {
          if (!held) {
            lost = true;
            onLost?.();
          }
        })
        .catch((err: unknown) => {
          // Unknown outcome: behave as if lost; fences keep any write already under way safe.
          lost = true;
          onLost?.(err);
        })
        .finally(() => {
          renewing = false;
        });
    });
    return {
      lost: () => lost,
      stop,
    };
  }
}

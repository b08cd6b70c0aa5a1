// Polls Redis for due messages and delivers them with bounded concurrency; stops cleanly.
import { randomBytes } from 'node:crypto';
import { deliver, type DeliveryConfig, type DeliveryReport } from './delivery.js';
import type { BrokerStore } from './store.js';

/** Extra lease beyond the attempt timeout, so a slow settle never lets another broker re-claim a live attempt. */
const LEASE_MARGIN_MS = 30_000;

export interface DeliveryLoopOptions extends DeliveryConfig {
  concurrency: number;
  pollIntervalMs: number;
  onReport: (report: DeliveryReport) => void;
  onError: (where: string, err: unknown) => void;
}

export class DeliveryLoop {
  /** Claim owner id of this broker instance. */
  readonly owner = `broker-${randomBytes(6).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by nudge(); a nudge that lands while claiming skips the next sleep. */
  private nudged = false;

  constructor(
    private readonly store: BrokerStore,
    private readonly opts: DeliveryLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Poll now rather than at the next tick (e.g. after a publish that is already due). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Stops claiming, then waits for every attempt already under way to settle. */
  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  private sleep(ms: number): Promise<void> {
    if (this.nudged) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const leaseMs = this.opts.deliveryTimeoutMs + LEASE_MARGIN_MS;
    while (this.running) {
      this.nudged = false;
      const free = this.opts.concurrency - this.inFlight.size;
      let claimedAll = false;
      if (free > 0) {
        try {
          const claimed = await this.store.claimDue(Date.now(), free, leaseMs, this.owner);
          for (const c of claimed) this.track(c);
          claimedAll = claimed.length === free;
        } catch (err) {
          this.opts.onError('claim', err);
        }
      }
      // A full batch means more may be due: go again as soon as a slot frees.
      if (claimedAll && this.inFlight.size < this.opts.concurrency) continue;
      if (this.running) await this.sleep(this.opts.pollIntervalMs);
    }
  }

  private track(c: Parameters<typeof deliver>[1]): void {
    const p = deliver(this.store, c, this.opts)
      .then((report) => this.opts.onReport(report))
      // A failed settle leaves the lease in place; the message is due again when it runs out.
      .catch((err: unknown) => this.opts.onError('settle', err))
      .finally(() => {
        this.inFlight.delete(p);
        this.nudge();
      });
    this.inFlight.add(p);
  }
}

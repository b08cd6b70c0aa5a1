// What this process knows of the start script's clock, from its own round trips (NTP-style): where that clock stands
// against the local one, and how long a reply takes, to place reserved instants on the local clock and ahead of replies.

/**
 * Each start that read the server clock at `serverAt` between local `before` and `after` bounds the offset
 * (server − local) to [serverAt − after, serverAt − before]. Intersecting the recent ones narrows it to about the
 * fastest round trip, so a reserved instant is known on the local clock that precisely, whatever the skew and however
 * slow this reply was. Bounds older than `maxAgeMs` are dropped (clocks drift apart by up to ~100 ppm); a sample that
 * contradicts them (a clock was stepped) starts over from itself.
 */
export class ScriptClock {
  private lo = Number.NEGATIVE_INFINITY;
  private hi = Number.POSITIVE_INFINITY;
  private since = Number.NEGATIVE_INFINITY;
  private roundTripMs = 0;

  constructor(private readonly maxAgeMs = 10_000) {}

  /** One start's round trip: sent at `before`, answered at `after`, the script having read `serverAt` (if known). */
  observe(before: number, after: number, serverAt?: number): void {
    // A smoothed round trip: a reply takes less, so reserving that far ahead has the reply there before the instant.
    this.roundTripMs += 0.2 * (after - before - this.roundTripMs);
    if (serverAt === undefined) return;
    const lo = serverAt - after;
    const hi = serverAt - before;
    if (before - this.since > this.maxAgeMs || lo > this.hi || hi < this.lo) {
      [this.lo, this.hi, this.since] = [lo, hi, before];
      return;
    }
    this.lo = Math.max(this.lo, lo);
    this.hi = Math.min(this.hi, hi);
  }

  /** The local instants between which the server instant `t` falls (after at least one `observe` with it). */
  local(t: number): { earliest: number; latest: number } {
    return { earliest: t - this.hi, latest: t - this.lo };
  }

  /** How far after the script's time to reserve, so the reply arrives before the instant (whole ms). */
  leadMs(): number {
    return Math.ceil(this.roundTripMs);
  }
}

// What this process knows of the start script's clock, from its own round trips (NTP-style): where that clock stands
// against the local one, and how long a reply takes, to place reserved instants on the local clock and ahead of replies.

/**
 * Each start that read the server clock at `serverAt` between local `before` and `after` bounds the offset
 * (server − local) to [serverAt − after, serverAt − before]. Intersecting the recent ones narrows it to about the
 * fastest round trip, so a reserved instant is known on the local clock that precisely, whatever the skew and however
 * slow this reply was. Known bounds widen as they age, by the most two clocks drift apart (`driftPerMs`, 100 ppm):
 * a batch worker, whose start scripts come seconds apart, keeps what a fast round trip taught it. A sample that
 * contradicts them (a clock was stepped) starts over from itself.
 */
export class ScriptClock {
  private lo = Number.NEGATIVE_INFINITY;
  private hi = Number.POSITIVE_INFINITY;
  /** Local time the bounds hold at. */
  private since = Number.NEGATIVE_INFINITY;
  private roundTripMs = 0;

  constructor(private readonly driftPerMs = 1e-4) {}

  /** One start's round trip: sent at `before`, answered at `after`, the script having read `serverAt` (if known). */
  observe(before: number, after: number, serverAt?: number): void {
    // A smoothed round trip: a reply takes less, so reserving that far ahead has the reply there before the instant.
    this.roundTripMs += 0.2 * (after - before - this.roundTripMs);
    if (serverAt === undefined) return;
    const lo = serverAt - after;
    const hi = serverAt - before;
    const widen = Math.max(0, before - this.since) * this.driftPerMs;
    const [knownLo, knownHi] = [this.lo - widen, this.hi + widen];
    if (lo > knownHi || hi < knownLo) {
      [this.lo, this.hi, this.since] = [lo, hi, before];
      return;
    }
    [this.lo, this.hi, this.since] = [Math.max(knownLo, lo), Math.min(knownHi, hi), before];
  }

  /**
   * The local instants between which the server instant `t` falls (after at least one `observe` with it); bounds are
   * aged at each `observe`, and a reservation is used within seconds of its own.
   */
  local(t: number): { earliest: number; latest: number } {
    return { earliest: t - this.hi, latest: t - this.lo };
  }

  /** How far after the script's time to reserve, so the reply arrives before the instant (whole ms). */
  leadMs(): number {
    return Math.ceil(this.roundTripMs);
  }
}

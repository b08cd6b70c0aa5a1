// The worker's view of the start script's clock: offset bounds from round trips, and the lead it reserves with.
import { describe, expect, it } from 'vitest';
import { ScriptClock } from '../../lib/worker/script-clock.js';

describe('ScriptClock', () => {
  it('bounds a server instant on the local clock by one round trip, then narrows with each faster one', () => {
    const c = new ScriptClock();
    // Server 5 s ahead; the script read it 30 ms into a 40 ms round trip.
    c.observe(1000, 1040, 6030);
    expect(c.local(6100)).toEqual({ earliest: 1070, latest: 1110 });
    // A 4 ms round trip whose server reading is consistent with the first.
    c.observe(2000, 2004, 7002);
    expect(c.local(6100)).toEqual({ earliest: 1098, latest: 1102 });
    // A slow reply adds nothing and takes nothing away.
    c.observe(3000, 3200, 8100);
    expect(c.local(6100)).toEqual({ earliest: 1098, latest: 1102 });
  });

  it('starts over when a sample contradicts the bounds (a clock was stepped) or they are too old', () => {
    const c = new ScriptClock(10_000);
    c.observe(1000, 1002, 6001);
    // The server clock stepped back by a second: the offset left the bounds.
    c.observe(2000, 2010, 6005);
    expect(c.local(6100)).toEqual({ earliest: 2095, latest: 2105 });
    // Consistent with them, but they began more than 10 s before: only this sample counts.
    c.observe(13_000, 13_020, 17_010);
    expect(c.local(17_100)).toEqual({ earliest: 13_090, latest: 13_110 });
  });

  it('leads by the smoothed round trip', () => {
    const c = new ScriptClock();
    expect(c.leadMs()).toBe(0);
    c.observe(0, 100);
    expect(c.leadMs()).toBe(20);
    for (let i = 0; i < 50; i++) c.observe(0, 100);
    expect(c.leadMs()).toBe(100);
  });
});

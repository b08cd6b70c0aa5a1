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
    // A slow reply adds nothing: the bounds only age, by 100 ppm of the second since (0.1 ms each way).
    c.observe(3000, 3200, 8100);
    const aged = c.local(6100);
    expect(aged.earliest).toBeCloseTo(1097.9, 6);
    expect(aged.latest).toBeCloseTo(1102.1, 6);
  });

  it('starts over when a sample contradicts the bounds (a clock was stepped); old bounds widen by the drift', () => {
    const c = new ScriptClock(1e-4);
    c.observe(1000, 1002, 6001);
    // The server clock stepped back by a second: the offset left the bounds.
    c.observe(2000, 2010, 6005);
    const stepped = c.local(6100);
    expect(stepped.earliest).toBeCloseTo(2095, 1);
    expect(stepped.latest).toBeCloseTo(2105, 1);
    // 11 s later a slower sample: the known bounds, widened by 100 ppm of 11 s (1.1 ms), are still the narrower.
    c.observe(13_000, 13_020, 17_010);
    const aged = c.local(17_100);
    expect(aged.earliest).toBeCloseTo(13_093.9, 1);
    expect(aged.latest).toBeCloseTo(13_106.1, 1);
    // Before anything is known, nothing bounds the instant.
    expect(new ScriptClock().local(5).earliest).toBe(Number.NEGATIVE_INFINITY);
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

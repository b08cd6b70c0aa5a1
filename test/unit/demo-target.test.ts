// The demo target of `npm run demo` fails on purpose: demo-flaky's first attempt of each job, every demo-broken call.
import { describe, expect, it } from 'vitest';
import { demoRespond } from '../../scripts/demo/demo.js';

const call = (user: string, period = 'c2026-12-03T1656Z') => ({
  path: `/tasks/demo_ping?user=${user}&period=${period}`,
});

describe('the demo target', () => {
  it('answers 200 to the ordinary demo users, every time', () => {
    for (const n of [1, 2, 3]) expect(demoRespond(call('demo-1'), n)).toBe(200);
  });

  it("fails demo-flaky's first attempt of a job and lets the retry succeed", () => {
    expect(demoRespond(call('demo-flaky'), 1)).toBe(503);
    expect(demoRespond(call('demo-flaky'), 2)).toBe(200);
  });

  it('always fails demo-broken, so its jobs end in the dead letters', () => {
    for (const n of [1, 2, 3, 4]) expect(demoRespond(call('demo-broken'), n)).toBe(503);
  });
});

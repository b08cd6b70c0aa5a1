// Laws of the stratified spread and window stretching: even, inside the window, one job per stratum, within limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobMessage } from '../../lib/domain/job.js';
import { planJobs, slotPhase } from '../../lib/scheduler/plan-jobs.js';
import { notBeforeOf, spreadOffset, stretchWindow } from '../../lib/scheduler/plan-spread.js';

// u on a grid avoids draws so close to 1 that (i + u) rounds up to i + 1 in floating point.
const draw = fc.integer({ min: 0, max: 999_999 }).map((n) => n / 1_000_000);
const spreadCase = fc
  .record({ total: fc.integer({ min: 1, max: 1500 }), windowMs: fc.integer({ min: 1, max: 86_400_000 }) })
  .chain(({ total, windowMs }) =>
    fc.record({
      total: fc.constant(total),
      windowMs: fc.constant(windowMs),
      us: fc.array(draw, { minLength: total, maxLength: total }),
    }),
  );

describe('stratified spread', () => {
  it('puts exactly one job in each of the N strata (a permutation covering the window)', () => {
    fc.assert(
      fc.property(spreadCase, ({ total, windowMs, us }) => {
        const strata = us
          .map((u, rank) => spreadOffset(rank, total, windowMs, u))
          .map((offset, rank) => {
            expect(offset).toBeGreaterThanOrEqual((windowMs * rank) / total);
            expect(offset).toBeLessThan((windowMs * (rank + 1)) / total);
            return rank;
          });
        expect(new Set(strata).size).toBe(total);
      }),
    );
  });

  it('holds k-1 to k+1 jobs in any stretch of k strata (no clusters, no gaps)', () => {
    fc.assert(
      fc.property(
        spreadCase,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        ({ total, windowMs, us }, from, k) => {
          const offsets = us.map((u, rank) => spreadOffset(rank, total, windowMs, u));
          const width = (k * windowMs) / total;
          const start = from * (windowMs - Math.min(width, windowMs));
          const inside = offsets.filter((o) => o >= start && o < start + width).length;
          expect(inside).toBeGreaterThanOrEqual(Math.min(k, total) - 1);
          expect(inside).toBeLessThanOrEqual(k + 1);
        },
      ),
    );
  });

  it('plans whole-ms starts inside [startAt, startAt + W), in rank order, never before now', () => {
    fc.assert(
      fc.property(
        spreadCase,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: -1000, max: 100_000_000 }),
        ({ total, windowMs, us }, startAt, nowShift) => {
          const now = startAt + nowShift;
          const window = { startAt, windowMs, total };
          const starts = us.map((u, rank) => notBeforeOf(window, rank, u, now));
          starts.forEach((t, rank) => {
            expect(Number.isInteger(t)).toBe(true);
            expect(t).toBeGreaterThanOrEqual(Math.max(startAt, now));
            if (now < startAt + windowMs) expect(t).toBeLessThan(Math.max(startAt + windowMs, now + 1));
            if (rank > 0) expect(t).toBeGreaterThanOrEqual(starts[rank - 1]!);
          });
        },
      ),
    );
  });

  it('keeps a draw outside [0,1) from moving a job out of its stratum or the window', () => {
    expect(notBeforeOf({ startAt: 0, windowMs: 1000, total: 10 }, 9, 1, 0)).toBe(900);
    expect(notBeforeOf({ startAt: 0, windowMs: 1000, total: 10 }, 9, 0.9999999999999999, 0)).toBeLessThan(
      1000,
    );
    expect(spreadOffset(3, 10, 1000, Number.NaN)).toBe(300);
  });

  it('spreads members that arrived after the claim (rank >= N) anywhere in the window, not after it', () => {
    expect(notBeforeOf({ startAt: 1000, windowMs: 500, total: 2 }, 5, 0.5, 0)).toBe(1250);
  });
});

describe('stretchWindow', () => {
  it('stretches W to N / (limit / window), with 2% slack, when the jobs would exceed the tightest limit', () => {
    expect(stretchWindow(60_000, 1000, [{ limit: 10, windowMs: 1000 }])).toBe(102_000);
    expect(
      stretchWindow(60_000, 1000, [
        { limit: 50, windowMs: 1000 },
        { limit: 100, windowMs: 60_000 },
      ]),
    ).toBe(612_000);
  });

  it('keeps W when every limit allows N jobs in it', () => {
    expect(stretchWindow(600_000, 1000, [{ limit: 10, windowMs: 1000 }])).toBe(600_000);
    expect(stretchWindow(600_000, 1000, [])).toBe(600_000);
  });

  it('counts the limiter guard into every window: a limit admits `limit` per window + guard', () => {
    expect(stretchWindow(60_000, 1000, [{ limit: 10, windowMs: 1000 }], 250)).toBe(127_500);
    expect(stretchWindow(600_000, 1000, [{ limit: 10, windowMs: 1000 }], 250)).toBe(600_000);
  });

  it('plans a stretched slot that the worker limiter mostly admits on arrival, not defers en masse', () => {
    // The worker's admission (startJob): a sliding log per limit; a job is admitted when fewer than
    // `limit` admissions are younger than window + guard, else deferred. Jobs arrive at notBefore.
    const deferredShare = (guardMs: number, stretchGuardMs: number) => {
      const limit = { limit: 10, windowMs: 1000 };
      const total = 2000;
      let seed = 7;
      const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
      const windowMs = stretchWindow(60_000, total, [limit], stretchGuardMs);
      const starts = Array.from({ length: total }, (_, rank) =>
        notBeforeOf({ startAt: 0, windowMs, total }, rank, random(), 0),
      );
      const admitted: number[] = [];
      let oldest = 0;
      let deferred = 0;
      for (const at of starts) {
        while (oldest < admitted.length && admitted[oldest]! <= at - (limit.windowMs + guardMs)) oldest++;
        if (admitted.length - oldest >= limit.limit) deferred++;
        else admitted.push(at);
      }
      return deferred / total;
    };
    // Stretched by the bare window, a fifth (guard / (window + guard)) more jobs are planned than admitted.
    expect(deferredShare(250, 0)).toBeGreaterThan(0.2);
    // Stretched by window + guard, only stratified jitter's occasional extra job in a window is deferred.
    expect(deferredShare(250, 250)).toBeLessThan(0.12);
  });

  it('keeps the average rate of a stretched window within every limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(
          fc.record({
            limit: fc.integer({ min: 1, max: 10_000 }),
            windowMs: fc.integer({ min: 1, max: 3_600_000 }),
          }),
          { maxLength: 4 },
        ),
        (windowMs, total, limits) => {
          const stretched = stretchWindow(windowMs, total, limits);
          expect(stretched).toBeGreaterThanOrEqual(windowMs);
          for (const rule of limits)
            expect((total * rule.windowMs) / stretched).toBeLessThanOrEqual(rule.limit);
          const guarded = stretchWindow(windowMs, total, limits, 250);
          for (const rule of limits)
            expect((total * (rule.windowMs + 250)) / guarded).toBeLessThanOrEqual(rule.limit);
        },
      ),
    );
  });
});

describe('planJobs', () => {
  it('builds valid job messages with job id {task}:{user}:{period}, ranks from the checkpoint, and the backfilled flag', () => {
    const slot = {
      taskId: 'daily_report',
      periodKey: '2030-01-01',
      backfilled: true,
      startAt: 1_000_000,
      windowMs: 1000,
      total: 10,
    };
    const jobs = planJobs(slot, ['alice', 'bob'], 4, 0, () => 0.5);
    expect(jobs.map((j) => JobMessage.parse(j))).toEqual(jobs);
    const u = slotPhase(slot);
    expect(jobs.map((j) => [j.jobId, j.notBefore, j.backfilled, j.origin])).toEqual([
      ['daily_report:alice:2030-01-01', 1_000_000 + Math.floor(100 * (4 + u)), true, 'scheduled'],
      ['daily_report:bob:2030-01-01', 1_000_000 + Math.floor(100 * (5 + u)), true, 'scheduled'],
    ]);
    // A member enabled after the claim (rank >= total) gets a uniform place from the random source.
    expect(planJobs(slot, ['zed'], 10, 0, () => 0.5)[0]?.notBefore).toBe(1_000_500);
  });

  it("places a slot's jobs exactly W/N apart with one phase per slot, the same on a re-plan", () => {
    const slot = {
      taskId: 'daily_report',
      periodKey: '2030-01-01',
      backfilled: false,
      startAt: 0,
      windowMs: 100_000,
      total: 1000,
    };
    const ids = Array.from({ length: 1000 }, (_, i) => `u${i}`);
    const a = planJobs(slot, ids, 0, 0, Math.random).map((j) => j.notBefore);
    const b = planJobs(slot, ids, 0, 0, Math.random).map((j) => j.notBefore);
    expect(a).toEqual(b);
    for (let i = 1; i < a.length; i++) expect(a[i]! - a[i - 1]!).toBeGreaterThanOrEqual(99);
    for (let i = 1; i < a.length; i++) expect(a[i]! - a[i - 1]!).toBeLessThanOrEqual(101);
    expect(slotPhase({ ...slot, periodKey: '2030-01-02' })).not.toBe(slotPhase(slot));
  });
});

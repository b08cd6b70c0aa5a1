// The worker's Lua scripts: pinned hashes (a changed script is a reviewed change), documented headers, declared keys only.
import { describe, expect, it } from 'vitest';
import { WORKER_SCRIPTS } from '../../lib/worker/lua/index.js';
import { sortableId } from '../../lib/util/sortable-id.js';
import fc from 'fast-check';

const PINNED: Record<string, string> = {
  startJob: '3c2f72e7a6b2defaaa8a04b42ffe403bd7333327',
  recordRun: '6dab9f534a7f76eec87c985ce814ee54604ab6fb',
  releaseClaim: '7332217b33283d30751304f16856ae6465cae097',
  deadLetterJob: 'ca815799a29d81c59fee397b27d3861b958d3f87',
  replayDeadLetter: '662e20e77121f208a971a2262235e37ed380a28d',
  restoreDeadLetter: 'de4cb8c6acfa5d50fcc895946a7a324448506347',
  deleteDeadLetter: '7ba93caeb0b501c4e6b3984f7ae224a05fb1317e',
};

describe('worker scripts', () => {
  it('keeps each script at its pinned SHA-1', () => {
    expect(Object.fromEntries(WORKER_SCRIPTS.map((s) => [s.name, s.sha1]))).toEqual(PINNED);
  });

  it('documents KEYS, ARGV and the output, and touches keys only through KEYS', () => {
    for (const script of WORKER_SCRIPTS) {
      expect(script.text, script.name).toMatch(/Input:[\s\S]*KEYS\[1\][\s\S]*ARGV\[1\][\s\S]*Output/);
      const used = [...script.text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(...used), script.name).toBe(script.numKeys);
      // No key built from a prefix inside Lua: Upstash locks and routes by the declared keys.
      expect(script.text, script.name).not.toMatch(/prefix\s*\.\./);
    }
  });
});

describe('sortableId', () => {
  it('sorts by creation time as a plain string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 0, max: 2 ** 47 }), (a, b) => {
        fc.pre(a !== b);
        const [x, y] = [sortableId(a), sortableId(b)];
        expect(x.length).toBe(16);
        expect(x < y).toBe(a < b);
      }),
    );
  });
});

// The worker's Lua scripts: documented headers, declared keys only (the SHA-1 Redis computes is checked in test/integration/lua-scripts).
import { describe, expect, it } from 'vitest';
import { WORKER_SCRIPTS } from '../../lib/worker/lua/index.js';
import { sortableId } from '../../lib/util/sortable-id.js';
import fc from 'fast-check';

describe('worker scripts', () => {
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

// The scheduler's Lua scripts: headers that match their key counts (the SHA-1 Redis computes is checked in test/integration/lua-scripts).
import { describe, expect, it } from 'vitest';
import { SCHEDULER_SCRIPTS } from '../../lib/scheduler/lua/index.js';

describe('scheduler scripts', () => {
  it('documents KEYS, ARGV and the output, and uses exactly the keys it declares', () => {
    for (const script of SCHEDULER_SCRIPTS) {
      expect(script.text, script.name).toMatch(/Input:[\s\S]*KEYS\[1\][\s\S]*ARGV\[1\][\s\S]*Output/);
      const used = [...script.text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(...used), script.name).toBe(script.numKeys);
    }
  });
});

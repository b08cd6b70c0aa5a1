// The scheduler's Lua scripts: pinned hashes (a changed script is a reviewed change) and headers that match their key counts.
import { describe, expect, it } from 'vitest';
import { SCHEDULER_SCRIPTS } from '../../lib/scheduler/lua/index.js';

const PINNED: Record<string, string> = {
  acquireLock: '87cd2aec86484798b54d6c84294d94c1bfcb9fc5',
  renewLock: 'bb439909843d55253e8f36263876c854abd83b47',
  releaseLock: '808b45bf6dfec6081c8da310b08247fe208b95b4',
  claimSlot: '11202497b9028bffceaa87c84f8125a387936c90',
  advanceSlot: 'b7b84a7633f58b51bb4a4f4b6b4d77829fa5b4ad',
  takeSlot: '36ffe99cc829bac3eae7cedb0f7a405f922d9381',
  readTickState: '03b779667ebff0ce3724854c26e148ba2d7f5ac4',
};

describe('scheduler scripts', () => {
  it('keeps each script at its pinned SHA-1', () => {
    expect(Object.fromEntries(SCHEDULER_SCRIPTS.map((s) => [s.name, s.sha1]))).toEqual(PINNED);
  });

  it('documents KEYS, ARGV and the output, and uses exactly the keys it declares', () => {
    for (const script of SCHEDULER_SCRIPTS) {
      expect(script.text, script.name).toMatch(/Input:[\s\S]*KEYS\[1\][\s\S]*ARGV\[1\][\s\S]*Output/);
      const used = [...script.text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(...used), script.name).toBe(script.numKeys);
    }
  });
});

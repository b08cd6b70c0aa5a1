// `npm test`'s prerequisite check: nothing to say when all is there, one line naming every package to install when not.
import { describe, expect, it } from 'vitest';
import { missingLine, PREREQUISITES, type Prerequisite } from '../../scripts/test/prereqs.js';

const fake = (debianPackage: string, present: boolean): Prerequisite => ({
  what: `${debianPackage} (the program)`,
  debianPackage,
  present: () => present,
});

describe('test prerequisites', () => {
  it('says nothing when everything is installed', () => {
    expect(missingLine([fake('redis-server', true), fake('chromium', true)])).toBeUndefined();
  });

  it('names every missing package in one apt-get line, and only those', () => {
    const line = missingLine([
      fake('redis-server', false),
      fake('chromium', true),
      fake('python3-venv', false),
    ]);
    expect(line).not.toContain('\n');
    expect(line).toMatch(/apt-get install -y redis-server python3-venv$/);
    expect(line).not.toContain('chromium');
  });

  it('checks what the tests drive for real: redis-server, Chromium, tmux and Python venv', () => {
    expect(PREREQUISITES.map((p) => p.debianPackage)).toEqual([
      'redis-server',
      'chromium',
      'tmux',
      'python3-venv',
    ]);
  });
});

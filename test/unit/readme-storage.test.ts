// The README's storage table names every key family lib/store/keys.ts writes, with the prefix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keysFor } from '../../lib/store/keys.js';

describe("the README's storage table", () => {
  it('names every key family', () => {
    const keys = keysFor('P:');
    const families = Object.entries(keys)
      .filter(([name]) => name !== 'prefix')
      .map(([, k]) => (typeof k === 'function' ? (k as (...a: string[]) => string)('a', 'b', 'c') : k))
      .map((key) => key.slice('P:'.length).replace(/:(a|b|c)\b.*$/, ''));
    expect(families.length).toBeGreaterThan(15);
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(
      readme.indexOf('Storage: every key starts with'),
      readme.indexOf('## Observability'),
    );
    expect(section).toContain('`STAGGER_KEY_PREFIX`');
    const missing = families.filter((f) => !section.includes(`\`${f}`));
    expect(missing).toEqual([]);
  });
});

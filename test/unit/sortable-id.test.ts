// sortableId: ids that sort by creation time as plain strings.
import { describe, expect, it } from 'vitest';
import { sortableId } from '../../lib/util/sortable-id.js';
import fc from 'fast-check';

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

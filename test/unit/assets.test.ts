// The checked-in *.generated.ts asset modules (Lua texts with their pins, the dashboard bundle) are what `npm run assets`
// writes from their sources today: an edit to a .lua file or the browser code without regenerating fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderAssets } from '../../scripts/assets/render.js';

describe('asset build', () => {
  it('regenerating every asset module gives no diff', { timeout: 30_000 }, async () => {
    const files = await renderAssets();
    expect([...files.keys()].filter((p) => p.endsWith('scripts.generated.ts'))).toHaveLength(4);
    for (const [path, text] of files) expect(readFileSync(path, 'utf8'), path).toBe(text);
  });
});

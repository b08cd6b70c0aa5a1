// npm run assets: writes every *.generated.ts asset module; `--check` writes nothing and exits 1 when one is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderAssets } from './render.js';

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of await renderAssets()) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
  if (check) console.error(`${path} is out of date with its sources: run npm run assets`);
  else writeFileSync(path, text);
  stale += 1;
}
console.log(check ? `${stale} stale asset module(s)` : `${stale} asset module(s) written`);
if (check && stale > 0) process.exit(1);

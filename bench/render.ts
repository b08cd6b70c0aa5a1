// `npm run bench:render -- bench/results/<date>.json`: writes a run's Markdown (and latest.md) again from its JSON,
// with the report code as it is now (a new goal or column), beside the same previous run. No figure is measured
// or changed: the JSON's samples are what is rendered.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadPrevious } from './lib/previous.js';
import { writeReport, type BenchReport } from './lib/report.js';

const file = process.argv[2];
if (!file || !file.endsWith('.json')) {
  console.error('usage: npm run bench:render -- bench/results/<date>.json');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const dir = dirname(file);
const previous = loadPrevious(dir, report.startedAt);
for (const written of writeReport(report, dir, previous)) console.log(`wrote ${written}`);

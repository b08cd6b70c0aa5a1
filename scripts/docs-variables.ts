// `npm run docs:variables`: rewrites the README's variable table from config/environment.cjs (a unit test compares them).
import { readFileSync, writeFileSync } from 'node:fs';
import { variablesTable } from '../config/environment.cjs';

const BLOCK = /(<!-- variables:begin -->\n)[\s\S]*?(\n<!-- variables:end -->)/;
const readme = readFileSync('README.md', 'utf8');
if (!BLOCK.test(readme)) {
  console.error('README.md has no <!-- variables:begin --> ... <!-- variables:end --> block');
  process.exit(1);
}
writeFileSync(
  'README.md',
  readme.replace(BLOCK, (_, begin: string, end: string) => `${begin}${variablesTable()}${end}`),
);
console.log('README.md: variable table rewritten from config/environment.cjs');

// npm run client:generate: writes lib/client/schema.d.ts from the OpenAPI document the app serves (openapi-typescript).
// `--check` writes nothing and exits 1 when the checked-in file differs (CI), `--from <url>` reads a running stack's.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SCHEMA_FILE } from './schema-file.js';
import { typesOfDocument } from './types-of-document.js';
import { buildOpenApi } from '../../lib/api/openapi.js';
import { ALL_ROUTES } from '../../lib/api/routes.js';

const { values } = parseArgs({ options: { check: { type: 'boolean' }, from: { type: 'string' } } });

const doc = values.from
  ? ((await (await fetch(new URL('/openapi.json', values.from))).json()) as Record<string, unknown>)
  : buildOpenApi(ALL_ROUTES);
const text = await typesOfDocument(doc);

if (values.check) {
  const current = readFileSync(SCHEMA_FILE, 'utf8');
  if (current !== text) {
    console.error(`${SCHEMA_FILE} is out of date with the OpenAPI document: run npm run client:generate`);
    process.exit(1);
  }
  console.log('client types match the OpenAPI document');
} else {
  writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${SCHEMA_FILE}`);
}

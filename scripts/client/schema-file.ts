// Where the generated client types live (checked in).
import { resolve } from 'node:path';

export const SCHEMA_FILE = resolve(import.meta.dirname, '../../lib/client/schema.d.ts');

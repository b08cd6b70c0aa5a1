// Loads the task catalog from a file: the only catalog code that touches the file system.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CatalogError, parseCatalog, type Catalog } from './domain/catalog.js';

export const DEFAULT_CATALOG_PATH = 'config/tasks.yaml';

type Env = Readonly<Record<string, string | undefined>>;

export async function loadCatalogFile(path: string, env: Env = process.env): Promise<Catalog> {
  return parseNamed(await readFile(path, 'utf8'), path, env);
}

/** For module initialisation where top-level await is unavailable (CommonJS bundles). */
export function loadCatalogFileSync(path: string, env: Env = process.env): Catalog {
  return parseNamed(readFileSync(path, 'utf8'), path, env);
}

function parseNamed(text: string, path: string, env: Env): Catalog {
  try {
    return parseCatalog(text, env);
  } catch (error) {
    // Name the file, so a deployment with several catalogs says which one is broken.
    if (error instanceof CatalogError) throw new CatalogError(error.issues, path);
    throw error;
  }
}

// Turns zod failures into field issues whose paths say where the bad value came from.
import type { z } from 'zod';
import type { FieldIssue } from './errors.js';

export function issuesOf(error: z.ZodError, root: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(root, issue.path),
    message: issue.message,
  }));
}

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

// Turns zod failures into ValidationErrors whose field paths say where the bad value came from.
import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.js';

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

/** Parses `value` with `schema`; on failure throws a ValidationError naming each field under `root`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(issuesOf(result.error, root));
  return result.data;
}

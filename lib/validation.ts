// Turns zod failures into field issues whose paths say where the bad value came from.
import type { z } from 'zod';
import type { FieldIssue } from './errors.js';

type Issue = z.core.$ZodIssue;

/**
 * A value that fits no branch of a union is reported by the branch it came closest to (fewest issues), so the
 * answer names a field rather than "invalid input" at the union's root.
 */
function flatten(issue: Issue, prefix: readonly PropertyKey[] = []): Issue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
    if (closest.length > 0) return closest.flatMap((inner) => flatten(inner, path));
  }
  return [{ ...issue, path }];
}

export function issuesOf(error: z.ZodError, root: string): FieldIssue[] {
  return error.issues
    .flatMap((i) => flatten(i))
    .map((issue) => ({
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

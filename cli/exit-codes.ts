// Exit codes scripts can rely on: one per kind of outcome, mapped once from what went wrong.
import { StaggerApiError } from '../lib/client/index.js';
import { UsageError } from './output.js';

export const EXIT = {
  ok: 0,
  /** The API refused or failed (4xx other than those below, 5xx), or part of a bulk action failed. */
  apiError: 1,
  /** Bad command line or missing configuration (STAGGER_URL, STAGGER_ADMIN_KEY). */
  usage: 2,
  /** No such user, task type, job or dead letter (404). */
  notFound: 3,
  /** The API could not be reached in time (network error, timeout). */
  unreachable: 4,
  /** The admin key was refused (401). */
  unauthorized: 5,
  /** A bulk action was not confirmed (answer other than "y", or no terminal and no --yes). */
  notConfirmed: 6,
} as const;

export class NotConfirmedError extends Error {
  override readonly name = 'NotConfirmedError';
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof NotConfirmedError) return EXIT.notConfirmed;
  if (err instanceof StaggerApiError) {
    if (err.status === 404) return EXIT.notFound;
    if (err.status === 401) return EXIT.unauthorized;
    return EXIT.apiError;
  }
  return EXIT.unreachable;
}

/** One line for stderr: the API's message and the fields it named, never a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof StaggerApiError) {
    const details = err.details.map((d) => `\n  ${d.path}: ${d.message}`).join('');
    const id = err.requestId ? ` (request ${err.requestId})` : '';
    return `error: ${err.status} ${err.code}: ${err.message}${id}${details}`;
  }
  if (err instanceof UsageError || err instanceof NotConfirmedError) return `error: ${err.message}`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `error: cannot reach the API: ${err instanceof Error ? err.message : String(err)}${cause}`;
}

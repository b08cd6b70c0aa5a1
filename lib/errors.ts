// The error hierarchy: each error knows its HTTP status and what of it may be shown to a caller.

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `body.zone` or `query.limit`. */
  path: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Data safe to show a caller (never internals). */
  readonly details?: unknown;

  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly code = 'validation_failed';
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[], message?: string) {
    super(message ?? `invalid ${issues.map((i) => i.path).join(', ')}`, { details: issues });
    this.issues = issues;
  }
}

export class AuthError extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(message = 'missing or invalid credentials') {
    super(message);
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class RateLimitedError extends AppError {
  readonly status = 429;
  readonly code = 'rate_limited';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A job failure that retrying cannot fix (e.g. the target answered 404). */
export class PermanentJobError extends AppError {
  readonly status = 422;
  readonly code = 'permanent_job_failure';
}

/** Deployment configuration is missing or malformed; names variables, never their values. */
export class ConfigError extends AppError {
  readonly status = 500;
  readonly code = 'config_invalid';
}

export class DependencyUnavailableError extends AppError {
  readonly status = 503;
  readonly code = 'dependency_unavailable';
}

/** The path exists with other methods: answered with the methods it has (header Allow). */
export class MethodNotAllowedError extends AppError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[]) {
    super(`${method} is not allowed here; allowed: ${allow.join(', ')}`);
    this.allow = allow;
  }
}

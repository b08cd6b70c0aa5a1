// Which rate limits a job passes: the catalog's `global` limit first, then the task's own keys, in order.
import { GLOBAL_RATE_LIMIT, type Catalog, type Task } from '../domain/catalog.js';
import { ConfigError } from '../errors.js';

export interface LimitSpec {
  /** Catalog key, also the limiter's Redis key suffix (`rl:<name>`). */
  name: string;
  limit: number;
  windowMs: number;
}

export function limitsFor(
  catalog: Pick<Catalog, 'rateLimits'>,
  task: Pick<Task, 'id' | 'rateLimits'>,
): LimitSpec[] {
  const names = [GLOBAL_RATE_LIMIT, ...task.rateLimits.filter((n) => n !== GLOBAL_RATE_LIMIT)];
  const out: LimitSpec[] = [];
  for (const name of new Set(names)) {
    const def = catalog.rateLimits[name];
    if (def === undefined) {
      // `global` is optional; any other key was checked when the catalog was parsed.
      if (name === GLOBAL_RATE_LIMIT) continue;
      throw new ConfigError(`task ${task.id} names rate limit "${name}" that the catalog does not define`);
    }
    out.push({ name, limit: def.limit, windowMs: def.windowMs });
  }
  return out;
}

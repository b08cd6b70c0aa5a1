// Identifier formats shared by the API, the store and job ids; ":" is reserved as the job-id separator.
import { z } from 'zod';

// Examples name the demo data (npm run seed), so a fuzzer's example requests reach real users and task types.
export const UserId = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'letters, digits, "_", ".", "@" or "-", 1 to 128 characters')
  .meta({ examples: ['user1'] });
export const TaskId = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and "_", starting with a letter')
  .meta({ examples: ['daily_user_report'] });

/** Zone group of a task's reverse index: the IANA zone for tasks that follow user zones, `_` for fixed-zone tasks. */
export const FIXED_ZONE_GROUP = '_';

/** Job id `{task}:{user}:{periodKey}`: QStash deduplication id and the worker's idempotency key. */
export function jobIdOf(taskId: string, userId: string, periodKey: string): string {
  return `${taskId}:${userId}:${periodKey}`;
}

export function parseJobId(jobId: string): { taskId: string; userId: string; periodKey: string } | undefined {
  const first = jobId.indexOf(':');
  const second = jobId.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === jobId.length - 1) return undefined;
  return {
    taskId: jobId.slice(0, first),
    userId: jobId.slice(first + 1, second),
    periodKey: jobId.slice(second + 1),
  };
}

/** The same rule as parseJobId, as a pattern the OpenAPI document carries (a refine() would not show there). */
export const JobId = z
  .string()
  .max(300)
  .regex(/^[^:]+:[^:]+:[\s\S]+$/, 'expected {task}:{user}:{period}')
  .meta({ examples: ['daily_user_report:alice:2026-11-30'] });

// Admin use cases for users and their task types: validated values in, views out; errors are AppErrors.
import type { z } from 'zod';
import type { Catalog } from '../domain/catalog.js';
import { zoneOf } from '../domain/catalog.js';
import { nextDue } from '../domain/periods.js';
import { headerParamNames, headerValueProblem } from '../domain/target.js';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../errors.js';
import type {
  EnableOutcome,
  PreferencesStore,
  TaskParams,
  UserRecord,
  UserWithTasks,
} from '../store/preferences.js';
import { findTask, scheduleView } from './catalog-views.js';
import type { PutUserBody, UserDetail, UserPage, UserTaskList, UserTaskView } from './schemas.js';
import { DEFAULT_PAGE } from './schemas.js';

export interface AdminDeps {
  store: PreferencesStore;
  catalog: Catalog;
  now: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function userView(u: UserRecord) {
  return {
    id: u.id,
    zone: u.zone,
    enabled: u.enabled,
    labels: u.labels,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

function detail(u: UserWithTasks): z.output<typeof UserDetail> {
  return { ...userView(u), tasks: Object.keys(u.tasks).sort() };
}

async function mustGetUser(deps: AdminDeps, userId: string): Promise<UserWithTasks> {
  const user = await deps.store.getUser(userId);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  return user;
}

/** How often a PUT is applied again when a concurrent DELETE removed the user before it could be read back. */
const PUT_ATTEMPTS = 3;

export async function putUser(deps: AdminDeps, userId: string, body: z.output<typeof PutUserBody>) {
  // Create-or-replace never answers 404: a DELETE landing between the write and the read back is followed by
  // the PUT applied once more (PUT is idempotent, so the user ends as the request describes).
  let created = false;
  for (let attempt = 1; ; attempt++) {
    created = (await deps.store.upsertUser({ id: userId, ...body })) === 'created' || created;
    const user = await deps.store.getUser(userId);
    if (user) return { created, user: detail(user) };
    if (attempt >= PUT_ATTEMPTS)
      throw new ConflictError(`user ${userId} was deleted while it was being written`);
  }
}

export async function getUser(deps: AdminDeps, userId: string): Promise<z.output<typeof UserDetail>> {
  return detail(await mustGetUser(deps, userId));
}

export async function deleteUser(deps: AdminDeps, userId: string): Promise<void> {
  await deps.store.deleteUser(userId);
}

export async function listUsers(
  deps: AdminDeps,
  cursor: string | undefined,
  limit = DEFAULT_PAGE,
): Promise<z.output<typeof UserPage>> {
  const page = await deps.store.listUsers(cursor, limit);
  return {
    users: page.items.map((u) => ({ ...userView(u), taskCount: u.taskCount })),
    nextCursor: page.nextCursor,
  };
}

export async function enableUserTask(deps: AdminDeps, userId: string, taskId: string, params: TaskParams) {
  const task = findTask(deps.catalog, taskId);
  if (!task) throw new NotFoundError(`task type ${taskId} not found`);
  if (!task.enabled) throw new ConflictError(`task type ${taskId} is disabled in the catalog`);
  const issues = headerParamIssues(task.target, params);
  if (issues.length > 0) throw new ValidationError(issues);
  const outcome: EnableOutcome = await deps.store.enableTask(userId, taskId, params, task.zone.policy);
  return { userId, taskId, params, outcome };
}

/** Params this task sends in a header must be valid header text, or every run would fail at the call. */
function headerParamIssues(target: { headers: Record<string, string> }, params: TaskParams): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const name of headerParamNames(target)) {
    const value = params[name];
    const problem = typeof value === 'string' ? headerValueProblem(value) : undefined;
    if (problem) issues.push({ path: `body.params.${name}`, message: problem });
  }
  return issues;
}

/** Idempotent; 404 only for an unknown user, or a task id neither in the catalog nor enabled for the user. */
export async function disableUserTask(deps: AdminDeps, userId: string, taskId: string): Promise<void> {
  const removed = await deps.store.disableTask(userId, taskId);
  if (!removed && !findTask(deps.catalog, taskId)) throw new NotFoundError(`task type ${taskId} not found`);
}

export async function listUserTasks(deps: AdminDeps, userId: string): Promise<z.output<typeof UserTaskList>> {
  // Issued together, so the client's auto-pipelining sends both in one round trip.
  const [user, stats] = await Promise.all([deps.store.getUser(userId), deps.store.taskStats()]);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  const now = deps.now();
  const tasks = Object.entries(user.tasks)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([taskId, params]): z.output<typeof UserTaskView> => {
      const task = findTask(deps.catalog, taskId);
      if (!task)
        return {
          taskId,
          params,
          description: null,
          schedule: null,
          zone: null,
          status: 'task_unknown',
          nextRun: null,
        };
      const status = !task.enabled
        ? 'task_disabled'
        : stats.paused.has(taskId)
          ? 'task_paused'
          : !user.enabled
            ? 'user_disabled'
            : 'active';
      const zone = zoneOf(task, user.zone);
      const next = status === 'active' ? nextDue(task.schedule, now, zone) : undefined;
      return {
        taskId,
        params,
        description: task.description,
        schedule: scheduleView(task.schedule),
        zone: task.zone,
        status,
        nextRun: next
          ? {
              periodKey: next.key,
              zone,
              dueAt: iso(next.dueAtMs),
              windowEnd: iso(next.dueAtMs + task.spreadMs),
            }
          : null,
      };
    });
  return { userId, tasks };
}

// stagger/client: a typed client of the admin and operator API (types generated from GET /openapi.json, openapi-fetch).
import createClient, { type Client } from 'openapi-fetch';
import { DEFAULT_RETRY_POLICY, retryingFetch, type RetryPolicy } from './retrying-fetch.js';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retrying-fetch.js';

type Json<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer B } }> ? B : never;
type Body<O extends keyof operations> = operations[O] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type User = Json<'getUser', 200>;
export type UserPage = Json<'listUsers', 200>;
/** The document lists the canonical zone names; aliases (Asia/Kolkata) are accepted too, so any string may be tried. */
export type PutUserBody = Omit<Body<'putUser'>, 'zone'> & { zone: string };
export type TaskParams = NonNullable<NonNullable<Body<'putUserTask'>>['params']>;
export type UserTaskResult = Json<'putUserTask', 200>;
export type UserTaskList = Json<'listUserTasks', 200>;
export type TaskTypeList = Json<'listTaskTypes', 200>;
export type TaskType = Json<'getTaskType', 200>;
export type PauseResult = Json<'pauseTaskType', 200>;
export type Job = Json<'getJob', 200>;
export type RunList = Json<'listRuns', 200>;
export type Published = Json<'runNow', 202>;
export type DeadLetterPage = Json<'listDeadLetters', 200>;
export type DeadLetter = DeadLetterPage['items'][number];
export type SchedulerStatus = Json<'getSchedulerStatus', 200>;
export type TickSummary = Json<'runScheduler', 200>;
export type Overview = Json<'getOverview', 200>;
export type Health = Json<'getHealth', 200>;
export type ErrorBody = components['schemas']['Error'];

export interface StaggerClientOptions extends Partial<RetryPolicy> {
  /** Where the API is, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com` or `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** An admin API key (one of STAGGER_ADMIN_API_KEYS). */
  adminKey: string;
  /** A fetch of your own (tests, proxies); the timeout and retries wrap it. */
  fetch?: (input: Request) => Promise<Response>;
}

/** A non-2xx answer: the HTTP status and the API's error body (`code`, `message`, `requestId`, `details`). */
export class StaggerApiError extends Error {
  override readonly name = 'StaggerApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }

  static async of(error: unknown, response: Response): Promise<StaggerApiError> {
    const e = (error as Partial<ErrorBody> | undefined)?.error;
    if (e && typeof e.code === 'string') {
      return new StaggerApiError(response.status, e.code, e.message, e.requestId, e.details ?? []);
    }
    return new StaggerApiError(response.status, 'http_error', `HTTP ${response.status}`, undefined);
  }
}

async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw await StaggerApiError.of(error, response);
  return data as T;
}

/** The whole API, typed by path: `client.raw.GET('/v1/users/{userId}', { params: { path: { userId } } })`. */
export type RawClient = Client<paths>;

export function createStaggerClient(options: StaggerClientOptions) {
  const policy: RetryPolicy = {
    timeoutMs: options.timeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
    retries: options.retries ?? DEFAULT_RETRY_POLICY.retries,
    retryBaseMs: options.retryBaseMs ?? DEFAULT_RETRY_POLICY.retryBaseMs,
  };
  const raw: RawClient = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.adminKey}` },
    fetch: retryingFetch(policy, options.fetch),
  });
  const user = (userId: string) => ({ path: { userId } });
  const userTask = (userId: string, taskId: string) => ({ path: { userId, taskId } });
  const task = (taskId: string) => ({ path: { taskId } });

  return {
    raw,
    users: {
      /** Create (201) or replace (200) a user. */
      put: (userId: string, body: PutUserBody) =>
        unwrap(raw.PUT('/v1/users/{userId}', { params: user(userId), body: body as Body<'putUser'> })),
      get: (userId: string) => unwrap(raw.GET('/v1/users/{userId}', { params: user(userId) })),
      list: (query: { cursor?: string; limit?: number } = {}) =>
        unwrap(raw.GET('/v1/users', { params: { query } })),
      /** Every user, page after page. */
      async *all(pageSize = 500): AsyncGenerator<UserPage['users'][number]> {
        let cursor: string | undefined;
        do {
          const page: UserPage = await unwrap(
            raw.GET('/v1/users', { params: { query: { limit: pageSize, ...(cursor ? { cursor } : {}) } } }),
          );
          yield* page.users;
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      },
      delete: (userId: string) =>
        unwrap(raw.DELETE('/v1/users/{userId}', { params: user(userId) })).then(() => undefined),
    },
    tasks: {
      /** Enable a task type for a user (201 enabled, 200 updated or unchanged). */
      enable: (userId: string, taskId: string, params?: TaskParams) =>
        unwrap(
          raw.PUT('/v1/users/{userId}/tasks/{taskId}', {
            params: userTask(userId, taskId),
            body: params ? { params } : {},
          }),
        ),
      disable: (userId: string, taskId: string) =>
        unwrap(raw.DELETE('/v1/users/{userId}/tasks/{taskId}', { params: userTask(userId, taskId) })).then(
          () => undefined,
        ),
      /** The user's enabled task types, each with its next run. */
      list: (userId: string) => unwrap(raw.GET('/v1/users/{userId}/tasks', { params: user(userId) })),
      /** Run a task for a user now, outside its schedule. */
      runNow: (userId: string, taskId: string) =>
        unwrap(raw.POST('/v1/users/{userId}/tasks/{taskId}/run', { params: userTask(userId, taskId) })),
    },
    taskTypes: {
      list: () => unwrap(raw.GET('/v1/task-types')),
      get: (taskId: string) => unwrap(raw.GET('/v1/task-types/{taskId}', { params: task(taskId) })),
      pause: (taskId: string) => unwrap(raw.POST('/v1/task-types/{taskId}/pause', { params: task(taskId) })),
      resume: (taskId: string) =>
        unwrap(raw.POST('/v1/task-types/{taskId}/resume', { params: task(taskId) })),
    },
    runs: {
      /** A user's run history, newest first. */
      list: (userId: string, query: { taskId?: string; limit?: number } = {}) =>
        unwrap(raw.GET('/v1/users/{userId}/runs', { params: { path: { userId }, query } })),
    },
    jobs: {
      get: (jobId: string) => unwrap(raw.GET('/v1/jobs/{jobId}', { params: { path: { jobId } } })),
    },
    deadLetters: {
      list: (query: { cursor?: string; limit?: number } = {}) =>
        unwrap(raw.GET('/v1/dead-letters', { params: { query } })),
      /** Every dead letter, page after page (newest first). */
      async *all(pageSize = 100): AsyncGenerator<DeadLetter> {
        let cursor: string | undefined;
        do {
          const page: DeadLetterPage = await unwrap(
            raw.GET('/v1/dead-letters', {
              params: { query: { limit: pageSize, ...(cursor ? { cursor } : {}) } },
            }),
          );
          yield* page.items;
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      },
      replay: (id: string) => unwrap(raw.POST('/v1/dead-letters/{id}/replay', { params: { path: { id } } })),
      delete: (id: string) =>
        unwrap(raw.DELETE('/v1/dead-letters/{id}', { params: { path: { id } } })).then(() => undefined),
    },
    scheduler: {
      status: () => unwrap(raw.GET('/v1/scheduler')),
      /** One tick now; `now` is honoured on the local stage only. */
      run: (body: { now?: string } = {}) => unwrap(raw.POST('/v1/scheduler/run', { body })),
    },
    /** Everything the dashboard shows, in one read. */
    overview: (query: { chart?: string } = {}) => unwrap(raw.GET('/v1/overview', { params: { query } })),
    /** Prometheus text exposition. */
    metrics: () => unwrap(raw.GET('/metrics', { parseAs: 'text' })),
    health: () => unwrap(raw.GET('/health')),
  };
}

export type StaggerClient = ReturnType<typeof createStaggerClient>;

// Users, their enabled task types with params, and the reverse indexes the scheduler reads: every change is one Lua script.
import type { Redis } from '@upstash/redis';
import { z } from 'zod';
import { ConflictError, NotFoundError, type AppError } from '../errors.js';
import type { Keys } from './keys.js';
import { jsonReply, runScript, type LuaScript, type ScriptRedis } from './lua/script.js';
import {
  deleteUser,
  disableTask,
  enableTask,
  listUsers,
  pageTaskIndex,
  readTaskStats,
  readUser,
  upsertUser,
} from './lua/scripts.generated.js';

/** `user`: the task runs in each user's zone (indexed under it); `fixed`: in the task's zone (indexed under `_`). */
export type ZonePolicy = 'user' | 'fixed';

export type TaskParams = Record<string, unknown>;
export type Labels = Record<string, string>;

export interface UserInput {
  id: string;
  zone: string;
  enabled: boolean;
  labels: Labels;
}

export interface UserRecord extends UserInput {
  createdAt: number;
  updatedAt: number;
}

export interface UserWithTasks extends UserRecord {
  /** Enabled task types and their params. */
  tasks: Record<string, TaskParams>;
}

export interface UserSummary extends UserRecord {
  taskCount: number;
}

export interface Page<T> {
  items: T[];
  /** Last id of this page when more may follow, else null. */
  nextCursor: string | null;
}

export interface TaskStats {
  /** Users indexed (enabled users with the task enabled) per task type; absent means 0. */
  counts: Record<string, number>;
  paused: Set<string>;
  /** Users per zone group of the task asked for, if any. */
  zones: Record<string, number>;
}

export type PreferencesRedis = ScriptRedis & Pick<Redis, 'sadd' | 'srem'>;

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';
export type EnableOutcome = 'enabled' | 'updated' | 'unchanged';

// The one place negative script replies become errors.
const SCRIPT_ERRORS: Record<number, (subject: { userId?: string; taskId?: string }) => AppError> = {
  [-1]: ({ userId }) => new NotFoundError(`user ${userId ?? ''} not found`),
  [-3]: ({ taskId }) => new ConflictError(`task type ${taskId ?? ''} is paused`),
};

function checked(reply: unknown, script: LuaScript, subject: { userId?: string; taskId?: string }): number {
  const code = Number(reply);
  if (!Number.isInteger(code)) throw new Error(`${script.name} replied ${String(reply)}`);
  if (code < 0) {
    const toError = SCRIPT_ERRORS[code];
    throw toError ? toError(subject) : new Error(`${script.name} failed with code ${code}`);
  }
  return code;
}

// Replies of our own scripts still cross a boundary: decode them, and accept {} for an empty list (cjson).
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (Array.isArray(v) ? v : []), z.array(item));
const labelsText = z.preprocess(
  (v) => (typeof v === 'string' ? JSON.parse(v) : (v ?? {})),
  z.record(z.string(), z.string()),
);
const paramsText = z.preprocess(
  (v) => (typeof v === 'string' ? JSON.parse(v) : v),
  z.record(z.string(), z.unknown()),
);
const UserFields = {
  zone: z.string(),
  enabled: z.boolean(),
  labels: labelsText,
  createdAt: z.number(),
  updatedAt: z.number(),
};
const ReadUserReply = z.object({
  ...UserFields,
  tasks: z.preprocess((v) => (Array.isArray(v) ? {} : v), z.record(z.string(), paramsText)),
});
const ListUsersReply = z.object({
  users: list(z.object({ id: z.coerce.string(), taskCount: z.number(), ...UserFields })),
  more: z.boolean(),
});
const PageIndexReply = z.object({ ids: list(z.coerce.string()), more: z.boolean() });
const countMap = z.preprocess((v) => (Array.isArray(v) ? {} : v), z.record(z.string(), z.number()));
const TaskStatsReply = z.object({ counts: countMap, paused: list(z.coerce.string()), zones: countMap });

export class PreferencesStore {
  constructor(
    private readonly redis: PreferencesRedis,
    private readonly keys: Keys,
    private readonly clock: () => number = Date.now,
  ) {}

  async upsertUser(user: UserInput): Promise<UpsertOutcome> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      upsertUser,
      [k.users, k.user(user.id), k.userTaskZones(user.id)],
      [k.prefix, user.id, user.zone, user.enabled ? 1 : 0, JSON.stringify(user.labels), this.clock()],
    );
    return (
      (['updated', 'created', 'unchanged'] as const)[checked(reply, upsertUser, { userId: user.id })] ??
      'updated'
    );
  }

  /** Deletes the user and everything of it; NotFoundError when there is no such user. */
  async deleteUser(userId: string): Promise<void> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      deleteUser,
      [k.users, k.user(userId), k.userTasks(userId), k.userTaskZones(userId)],
      [k.prefix, userId],
    );
    checked(reply, deleteUser, { userId });
  }

  async getUser(userId: string): Promise<UserWithTasks | undefined> {
    const reply = await runScript(
      this.redis,
      readUser,
      [this.keys.user(userId), this.keys.userTasks(userId)],
      [],
    );
    if (reply === null || reply === undefined) return undefined;
    return { id: userId, ...ReadUserReply.parse(jsonReply(reply)) };
  }

  async listUsers(cursor: string | undefined, limit: number): Promise<Page<UserSummary>> {
    const reply = await runScript(
      this.redis,
      listUsers,
      [this.keys.users],
      [this.keys.prefix, cursor ?? '', limit],
    );
    const { users, more } = ListUsersReply.parse(jsonReply(reply));
    return { items: users, nextCursor: more ? (users.at(-1)?.id ?? null) : null };
  }

  /** Enables a task type for a user (idempotent); NotFoundError for no user, ConflictError when paused. */
  async enableTask(
    userId: string,
    taskId: string,
    params: TaskParams,
    policy: ZonePolicy,
  ): Promise<EnableOutcome> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      enableTask,
      [k.user(userId), k.userTasks(userId), k.userTaskZones(userId), k.pausedTasks],
      [k.prefix, userId, taskId, JSON.stringify(params), policy, this.clock()],
    );
    return (
      (['unchanged', 'enabled', 'updated'] as const)[checked(reply, enableTask, { userId, taskId })] ??
      'updated'
    );
  }

  /** Disables a task type for a user; false when it was not enabled. NotFoundError for no user. */
  async disableTask(userId: string, taskId: string): Promise<boolean> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      disableTask,
      [k.user(userId), k.userTasks(userId), k.userTaskZones(userId)],
      [k.prefix, userId, taskId, this.clock()],
    );
    return checked(reply, disableTask, { userId, taskId }) === 1;
  }

  /** One page of the user ids in a task's index for one zone group, in id order. */
  async taskIndexPage(
    taskId: string,
    zoneGroup: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<string>> {
    const reply = await runScript(
      this.redis,
      pageTaskIndex,
      [this.keys.taskIndex(taskId, zoneGroup)],
      [cursor ?? '', limit],
    );
    const { ids, more } = PageIndexReply.parse(jsonReply(reply));
    return { items: ids, nextCursor: more ? (ids.at(-1) ?? null) : null };
  }

  async taskStats(taskId?: string): Promise<TaskStats> {
    const k = this.keys;
    const reply = await runScript(
      this.redis,
      readTaskStats,
      [k.taskCounts, k.pausedTasks],
      [k.prefix, taskId ?? ''],
    );
    const { counts, paused, zones } = TaskStatsReply.parse(jsonReply(reply));
    return { counts, paused: new Set(paused), zones };
  }

  /** Pauses a task type (new enables are refused; the scheduler skips it). True when it was not paused. */
  async pauseTask(taskId: string): Promise<boolean> {
    return (await this.redis.sadd(this.keys.pausedTasks, taskId)) === 1;
  }

  async resumeTask(taskId: string): Promise<boolean> {
    return (await this.redis.srem(this.keys.pausedTasks, taskId)) === 1;
  }
}

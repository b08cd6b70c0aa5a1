// The `stagger` command line (commander): each command calls stagger/client and prints a table, or JSON with --json.
import { Command, Option } from 'commander';
import { collect, nonNegativeInt, paramValue, positiveInt } from './arguments.js';
import { createStaggerClient, type StaggerClient } from '../lib/client/index.js';
import type { Terminal } from './confirm.js';
import { addDeadLetterCommands } from './dead-letters.js';
import { cellText, fields, json, keyValues, table, UsageError } from './output.js';

export interface CliIo extends Terminal {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** Set when a command ends with a code other than 0 without throwing (a bulk action partly failed). */
  setExitCode(code: number): void;
}

interface GlobalOptions {
  url?: string;
  adminKey?: string;
  json?: boolean;
  timeout: number;
  retries: number;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('stagger')
    .description(
      'Operate a stagger deployment: users, their tasks, task types, runs, jobs, dead letters, scheduler',
    )
    .addOption(new Option('--url <url>', 'API base URL').env('STAGGER_URL'))
    .addOption(new Option('--admin-key <key>', 'admin API key').env('STAGGER_ADMIN_KEY'))
    .option('--json', 'print the API answer as JSON (for scripts)')
    .option('--timeout <ms>', 'per-request timeout in ms', positiveInt, 10_000)
    .option('--retries <n>', 'retries on 429/503', nonNegativeInt, 2)
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(add --help for usage)')
    // Parser errors are thrown (mapped to exit code 2), in subcommands too: they inherit settings made before them.
    .exitOverride()
    .addHelpText(
      'after',
      `
Environment: STAGGER_URL, STAGGER_ADMIN_KEY (flags win).
Exit codes: 0 ok, 1 API error, 2 usage, 3 not found, 4 unreachable, 5 unauthorized, 6 not confirmed.`,
    );

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const clientOf = (cmd: Command): StaggerClient => {
    const g = globals(cmd);
    if (!g.url) throw new UsageError('no API URL: pass --url or set STAGGER_URL');
    if (!g.adminKey) throw new UsageError('no admin key: pass --admin-key or set STAGGER_ADMIN_KEY');
    return createStaggerClient({
      baseUrl: g.url,
      adminKey: g.adminKey,
      timeoutMs: g.timeout,
      retries: g.retries,
    });
  };
  /** Prints `value` as JSON with --json, else what `human` makes of it. */
  const show = <T>(cmd: Command, value: T, human: (v: T) => string) =>
    io.out(globals(cmd).json ? json(value) : human(value));

  // ---- users
  const users = program.command('users').description('create, read, list and delete users');
  users
    .command('put <userId>')
    .description('create or replace a user')
    .requiredOption('--zone <zone>', 'IANA time zone, e.g. Europe/London')
    .option('--label <key=value>', 'a label (repeatable)', collect)
    .option('--disabled', 'keep the user but never schedule it')
    .action(
      async (userId: string, o: { zone: string; label?: string[]; disabled?: boolean }, cmd: Command) => {
        const user = await clientOf(cmd).users.put(userId, {
          zone: o.zone,
          enabled: !o.disabled,
          labels: keyValues(o.label ?? [], '--label'),
        });
        show(cmd, user, (u) => userFields(u));
      },
    );
  users
    .command('get <userId>')
    .description('one user with its enabled task types')
    .action(async (userId: string, _o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).users.get(userId), (u) => userFields(u));
    });
  users
    .command('list')
    .description('users in id order, one page (or --all)')
    .option('--limit <n>', 'page size (1-1000)', positiveInt)
    .option('--cursor <userId>', 'start after this user (nextCursor of the previous page)')
    .option('--all', 'every page')
    .action(async (o: { limit?: number; cursor?: string; all?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const page = o.all
        ? { users: await fromAsync(client.users.all(o.limit ?? 500)), nextCursor: null }
        : await client.users.list({
            ...(o.limit ? { limit: o.limit } : {}),
            ...(o.cursor ? { cursor: o.cursor } : {}),
          });
      show(cmd, page, (p) => {
        const rows = p.users.map((u) => [
          u.id,
          u.zone,
          u.enabled ? 'yes' : 'no',
          u.taskCount,
          labelsText(u.labels),
        ]);
        const more = p.nextCursor ? `\nmore: --cursor ${p.nextCursor}` : '';
        return table(['USER', 'ZONE', 'ENABLED', 'TASKS', 'LABELS'], rows) + more;
      });
    });
  users
    .command('delete <userId>')
    .description('delete a user with all its preferences')
    .action(async (userId: string, _o: unknown, cmd: Command) => {
      await clientOf(cmd).users.delete(userId);
      show(cmd, { deleted: userId }, () => `deleted user ${userId}`);
    });

  // ---- a user's tasks
  const tasks = program.command('tasks').description("a user's task types: enable, disable, list, run now");
  tasks
    .command('enable <userId> <taskId>')
    .description('enable a task type for a user, with params')
    .option('--param <name=value>', 'a param (repeatable; numbers and true/false are typed)', collect)
    .option('--params <json>', 'all params as one JSON object')
    .action(
      async (userId: string, taskId: string, o: { param?: string[]; params?: string }, cmd: Command) => {
        let params: Record<string, string | number | boolean> = {};
        if (o.params !== undefined) {
          try {
            params = JSON.parse(o.params) as typeof params;
          } catch {
            throw new UsageError('--params: not valid JSON');
          }
        }
        for (const [k, v] of Object.entries(keyValues(o.param ?? [], '--param'))) params[k] = paramValue(v);
        const r = await clientOf(cmd).tasks.enable(userId, taskId, params);
        show(cmd, r, (x) => `${x.outcome}: ${x.taskId} for ${x.userId} ${JSON.stringify(x.params)}`);
      },
    );
  tasks
    .command('disable <userId> <taskId>')
    .description('disable a task type for a user')
    .action(async (userId: string, taskId: string, _o: unknown, cmd: Command) => {
      await clientOf(cmd).tasks.disable(userId, taskId);
      show(cmd, { userId, taskId, disabled: true }, () => `disabled: ${taskId} for ${userId}`);
    });
  tasks
    .command('list <userId>')
    .description("a user's enabled task types with status and next run")
    .action(async (userId: string, _o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).tasks.list(userId), (l) =>
        table(
          ['TASK', 'STATUS', 'NEXT PERIOD', 'DUE', 'WINDOW END', 'ZONE', 'PARAMS'],
          l.tasks.map((t) => [
            t.taskId,
            t.status,
            t.nextRun?.periodKey,
            t.nextRun?.dueAt,
            t.nextRun?.windowEnd,
            t.nextRun?.zone,
            JSON.stringify(t.params),
          ]),
        ),
      );
    });
  tasks
    .command('run <userId> <taskId>')
    .description('run a task for a user now, outside its schedule')
    .action(async (userId: string, taskId: string, _o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).tasks.runNow(userId, taskId), (p) => `published job ${p.jobId}`);
    });

  // ---- task types
  const types = program.command('task-types').description('the catalog: list, show, pause, resume');
  types
    .command('list')
    .description('every task type with its users and paused flag')
    .action(async (_o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).taskTypes.list(), (l) =>
        table(
          ['TASK TYPE', 'SCHEDULE', 'ZONE', 'USERS', 'STATE'],
          l.taskTypes.map((t) => [t.id, scheduleText(t.schedule), zoneText(t.zone), t.users, typeState(t)]),
        ),
      );
    });
  types
    .command('get <taskId>')
    .description('one task type with its users per zone group')
    .action(async (taskId: string, _o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).taskTypes.get(taskId), (t) =>
        fields([
          ['id', t.id],
          ['description', t.description],
          ['schedule', scheduleText(t.schedule)],
          ['zone', zoneText(t.zone)],
          ['state', typeState(t)],
          ['users', t.users],
          ['zone groups', labelsText(t.zoneGroups)],
          ['rate limits', t.rateLimits.join(', ')],
        ]),
      );
    });
  for (const verb of ['pause', 'resume'] as const) {
    types
      .command(`${verb} <taskId>`)
      .description(
        verb === 'pause' ? 'stop scheduling a task type (and new enables)' : 'resume a paused task type',
      )
      .action(async (taskId: string, _o: unknown, cmd: Command) => {
        const r = await clientOf(cmd).taskTypes[verb](taskId);
        show(cmd, r, (x) => `${x.id}: ${x.paused ? 'paused' : 'running'}${x.changed ? '' : ' (unchanged)'}`);
      });
  }

  // ---- runs and jobs
  program
    .command('runs <userId>')
    .description("a user's run history, newest first")
    .option('--task <taskId>', 'one task type')
    .option('--limit <n>', 'runs to show', positiveInt)
    .action(async (userId: string, o: { task?: string; limit?: number }, cmd: Command) => {
      const runs = await clientOf(cmd).runs.list(userId, {
        ...(o.task ? { taskId: o.task } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
      });
      show(cmd, runs, (r) =>
        table(
          ['AT', 'JOB', 'ATTEMPT', 'OUTCOME', 'STATUS', 'MS', 'ORIGIN', 'ERROR'],
          r.items.map((x) => [
            x.at,
            x.jobId,
            x.attempt,
            x.outcome,
            x.status,
            x.durationMs,
            x.origin,
            x.error,
          ]),
        ),
      );
    });
  program
    .command('job <jobId>')
    .description('state, attempts and last result of one job')
    .action(async (jobId: string, _o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).jobs.get(jobId), (j) =>
        fields(
          Object.entries(j).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v] as const),
        ),
      );
    });

  addDeadLetterCommands(program, { clientOf, show, io });

  // ---- scheduler
  const scheduler = program.command('scheduler').description('the scheduler: status, or one tick now');
  scheduler
    .command('status')
    .description('last tick, lock holder, slots still fanning out')
    .action(async (_o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).scheduler.status(), (s) => {
        const head = fields([
          ['last tick', s.lastTick?.at],
          ['fence', s.lastTick?.fence],
          [
            'lock',
            s.lock.held ? `held by ${cellText(s.lock.holder)} since ${cellText(s.lock.since)}` : 'free',
          ],
          ['active slots', s.slots.length],
        ]);
        if (s.slots.length === 0) return head;
        const rows = s.slots.map((x) => [
          x.taskId,
          x.group,
          x.periodKey,
          `${x.count}/${x.total}`,
          x.backfilled ? 'yes' : 'no',
          x.updatedAt,
        ]);
        return `${head}\n\n${table(['TASK', 'GROUP', 'PERIOD', 'PUBLISHED', 'BACKFILLED', 'UPDATED'], rows)}`;
      });
    });
  scheduler
    .command('tick')
    .description('run one scheduler tick now')
    .action(async (_o: unknown, cmd: Command) => {
      show(cmd, await clientOf(cmd).scheduler.run(), (t) =>
        t.locked
          ? 'another tick holds the lock; nothing done'
          : `claimed ${t.claimed}, resumed ${t.resumed}, published ${t.published}, done ${t.done}, continued ${t.continued}, failed ${t.failed}`,
      );
    });
  return program;
}

async function fromAsync<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const labelsText = (l: Record<string, string | number>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
const scheduleText = (s: { every: string; at: string } | { cron: string } | null) =>
  s === null ? '-' : 'cron' in s ? `cron ${s.cron}` : `every ${s.every} at ${s.at}`;
const zoneText = (z: { policy: 'fixed'; tz: string } | { policy: 'user' } | null) =>
  z === null ? '-' : z.policy === 'fixed' ? z.tz : 'user zone';
const typeState = (t: { enabled: boolean; paused: boolean }) =>
  !t.enabled ? 'disabled' : t.paused ? 'paused' : 'active';

function userFields(u: {
  id: string;
  zone: string;
  enabled: boolean;
  labels: Record<string, string>;
  tasks: string[];
  createdAt: string;
  updatedAt: string;
}): string {
  return fields([
    ['id', u.id],
    ['zone', u.zone],
    ['enabled', u.enabled ? 'yes' : 'no'],
    ['labels', labelsText(u.labels)],
    ['tasks', u.tasks.join(', ')],
    ['created', u.createdAt],
    ['updated', u.updatedAt],
  ]);
}

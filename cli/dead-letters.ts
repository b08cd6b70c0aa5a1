// `stagger dead-letters ...`: list with filters, replay and delete one or --all matching (asking first).
import type { Command } from 'commander';
import type { DeadLetter, StaggerClient } from '../lib/client/index.js';
import { positiveInt } from './arguments.js';
import { confirm } from './confirm.js';
import { EXIT } from './exit-codes.js';
import { oneLine, table, UsageError } from './output.js';
import type { CliIo } from './program.js';

export interface CommandContext {
  clientOf(cmd: Command): StaggerClient;
  show<T>(cmd: Command, value: T, human: (v: T) => string): void;
  io: CliIo;
}

export function addDeadLetterCommands(program: Command, { clientOf, show, io }: CommandContext): void {
  // ---- dead letters
  const dl = program.command('dead-letters').description('jobs that kept failing: list, replay, delete');
  const filtered = (c: Command) =>
    c
      .option('--task <taskId>', 'only this task type')
      .option('--user <userId>', 'only this user')
      .option('--reason <reason>', 'only permanent | retries_exhausted');
  filtered(dl.command('list').description('dead letters, newest first'))
    .option('--limit <n>', 'at most this many', positiveInt)
    .action(async (o: DeadLetterFilter & { limit?: number }, cmd: Command) => {
      const items = (await matching(clientOf(cmd), o)).slice(0, o.limit);
      show(cmd, { items }, (p) =>
        table(
          ['ID', 'REASON', 'STATUS', 'ATTEMPTS', 'DEAD AT', 'LAST ERROR'],
          p.items.map((d) => [d.id, d.reason, d.lastStatus, d.attempts, d.deadAt, oneLine(d.lastError)]),
        ),
      );
    });
  for (const verb of ['replay', 'delete'] as const) {
    filtered(
      dl
        .command(`${verb} [id]`)
        .description(
          verb === 'replay'
            ? 'publish a dead letter again (one id, or --all matching the filter)'
            : 'drop a dead letter for good (one id, or --all matching the filter)',
        ),
    )
      .option('--all', 'every dead letter matching the filter (asks first)')
      .option('-y, --yes', 'do not ask')
      .action(
        async (
          id: string | undefined,
          o: DeadLetterFilter & { all?: boolean; yes?: boolean },
          cmd: Command,
        ) => {
          const client = clientOf(cmd);
          const filterGiven = Boolean(o.task || o.user || o.reason);
          if (id !== undefined && (o.all || filterGiven))
            throw new UsageError('give an id or --all with filters, not both');
          if (id === undefined && !o.all)
            throw new UsageError('give a dead-letter id, or --all (with --task/--user/--reason)');
          const act = (dlId: string) =>
            verb === 'replay' ? client.deadLetters.replay(dlId) : client.deadLetters.delete(dlId);
          if (id !== undefined) {
            const r = await act(id);
            show(cmd, { id, ...(r ? { jobId: r.jobId, messageId: r.messageId } : {}) }, () =>
              verb === 'replay' ? `replayed ${id}` : `deleted ${id}`,
            );
            return;
          }
          const targets = await matching(client, o);
          if (targets.length === 0) {
            show(cmd, { matched: 0, done: [], failed: [] }, () => 'no dead letter matches');
            return;
          }
          await confirm(
            `${verb === 'replay' ? 'Replay' : 'Delete'} ${targets.length} dead letter(s)?`,
            Boolean(o.yes),
            io,
          );
          const done: string[] = [];
          const failed: { id: string; error: string }[] = [];
          for (const d of targets) {
            try {
              await act(d.id);
              done.push(d.id);
            } catch (err) {
              failed.push({ id: d.id, error: err instanceof Error ? err.message : String(err) });
            }
          }
          if (failed.length > 0) io.setExitCode(EXIT.apiError);
          show(cmd, { matched: targets.length, done, failed }, (r) =>
            [
              `${verb === 'replay' ? 'replayed' : 'deleted'} ${r.done.length} of ${r.matched}`,
              ...r.failed.map((f) => `failed ${f.id}: ${f.error}`),
            ].join('\n'),
          );
        },
      );
  }
}

interface DeadLetterFilter {
  task?: string;
  user?: string;
  reason?: string;
}

async function matching(client: StaggerClient, f: DeadLetterFilter): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for await (const d of client.deadLetters.all()) {
    if (f.task && d.taskId !== f.task) continue;
    if (f.user && d.userId !== f.user) continue;
    if (f.reason && d.reason !== f.reason) continue;
    out.push(d);
  }
  return out;
}

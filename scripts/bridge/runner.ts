// Runs Upstash REST commands on one shared ioredis connection and reports each outcome in Upstash's shape.
import { ReplyError, type Redis } from 'ioredis';
import { prepareCommand, refusalOf, ScriptShaMap, type PreparedCommand } from './commands.js';
import {
  BridgeRequestError,
  encodeReply,
  type CommandArgs,
  type Outcome,
  type RedisReply,
} from './protocol.js';

/** Redis did not answer (connection lost, retries exhausted): not a command error, so HTTP 500. */
export class RedisUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`ERR the bridge could not reach Redis: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'RedisUnavailableError';
  }
}

function isReplyError(err: unknown): err is Error {
  return err instanceof (ReplyError as ErrorConstructor);
}

function outcomeOf(
  settled: PromiseSettledResult<RedisReply>,
  prepared: PreparedCommand,
  base64: boolean,
): Outcome {
  if (settled.status === 'rejected') {
    if (isReplyError(settled.reason)) return { error: settled.reason.message };
    throw new RedisUnavailableError(settled.reason);
  }
  const reply = prepared.adaptReply ? prepared.adaptReply(settled.value) : settled.value;
  return { result: encodeReply(reply, base64) };
}

export class CommandRunner {
  constructor(
    private readonly redis: Redis,
    private readonly scripts = new ScriptShaMap(),
  ) {}

  /** Upper-case names through callBuffer: ioredis applies no reply transformers and keeps raw bytes. */
  private send(prepared: PreparedCommand): Promise<RedisReply> {
    return this.redis.callBuffer(prepared.name, ...prepared.args) as Promise<RedisReply>;
  }

  /** `POST /`: one command; a refused command is a 400 before Redis sees it. */
  async single(command: CommandArgs, base64: boolean): Promise<Outcome> {
    const refused = refusalOf(command);
    if (refused !== null) return { error: refused };
    const prepared = prepareCommand(command, this.scripts);
    const [settled] = await Promise.allSettled([this.send(prepared)]);
    return outcomeOf(settled!, prepared, base64);
  }

  /** `POST /pipeline`: in order, not atomic; each command succeeds or fails on its own. */
  async pipeline(commands: CommandArgs[], base64: boolean): Promise<Outcome[]> {
    // Every command is handed to ioredis in this same tick, so they reach Redis back to back and in order.
    const runs = commands.map((command) => {
      const refused = refusalOf(command);
      if (refused !== null) return { refused };
      const prepared = prepareCommand(command, this.scripts);
      return { prepared, reply: this.send(prepared) };
    });
    const settled = await Promise.allSettled(runs.map((r) => r.reply ?? Promise.resolve(null)));
    return runs.map((run, i) =>
      run.prepared ? outcomeOf(settled[i]!, run.prepared, base64) : { error: run.refused },
    );
  }

  /**
   * `POST /multi-exec`: MULTI, the commands and EXEC are written to the shared connection in one tick,
   * with no await in between, so no other request's command can land inside the transaction.
   * An aborted transaction (EXECABORT) or a refused command fails the whole request with a 400.
   */
  async multiExec(commands: CommandArgs[], base64: boolean): Promise<Outcome[]> {
    for (const command of commands) {
      const refused = refusalOf(command);
      if (refused !== null) throw new BridgeRequestError(400, refused);
    }
    const prepared = commands.map((command) => prepareCommand(command, this.scripts));
    const sent = [
      this.redis.callBuffer('MULTI') as Promise<RedisReply>,
      ...prepared.map((p) => this.send(p)),
      this.redis.callBuffer('EXEC') as Promise<RedisReply>,
    ];
    const settled = await Promise.allSettled(sent);
    const exec = settled[settled.length - 1]!;
    if (exec.status === 'rejected') {
      if (isReplyError(exec.reason)) throw new BridgeRequestError(400, exec.reason.message);
      throw new RedisUnavailableError(exec.reason);
    }
    if (!Array.isArray(exec.value) || exec.value.length !== prepared.length) {
      throw new BridgeRequestError(400, 'EXECABORT Transaction discarded');
    }
    return exec.value.map((reply, i) =>
      reply instanceof Error
        ? { error: reply.message }
        : outcomeOf({ status: 'fulfilled', value: reply }, prepared[i]!, base64),
    );
  }
}

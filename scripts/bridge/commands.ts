// What the bridge refuses (commands Upstash does not serve over REST) and how it adapts Lua scripts for stock Redis.
import { createHash } from 'node:crypto';
import type { CommandArgs, RedisReply } from './protocol.js';

const words = (text: string): string[] => text.trim().split(/\s+/);
const BLOCKING = words('BLPOP BRPOP BLMOVE BLMPOP BRPOPLPUSH BZPOPMIN BZPOPMAX BZMPOP WAIT WAITAOF');
const CONNECTION_STATE = words('SELECT SWAPDB WATCH UNWATCH MULTI EXEC DISCARD AUTH HELLO QUIT RESET');
const STREAMING = words(
  'MONITOR SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE SYNC PSYNC',
);
const ADMIN = words(`SHUTDOWN DEBUG CONFIG MODULE SAVE BGSAVE BGREWRITEAOF
  REPLICAOF SLAVEOF FAILOVER CLUSTER READONLY READWRITE`);
// CLIENT subcommands that would change or break the bridge's one shared Redis connection.
const CLIENT_REFUSED = ['REPLY', 'KILL', 'PAUSE', 'UNPAUSE', 'TRACKING', 'CACHING', 'NO-EVICT', 'NO-TOUCH'];

const REFUSED = new Map<string, string>([
  ...BLOCKING.map((c) => [c, 'blocking commands are not served over REST'] as const),
  ...CONNECTION_STATE.map(
    (c) =>
      [c, 'connection state is not kept between REST requests; use /multi-exec for transactions'] as const,
  ),
  ...STREAMING.map((c) => [c, 'streaming commands are not served by this bridge'] as const),
  ...ADMIN.map((c) => [c, 'server administration is not available over REST'] as const),
]);

function refusal(command: string, why: string): string {
  return `ERR Command is not available: '${command}' (${why})`;
}

/** The error text for a command the bridge will not run, or null when Redis may run it. */
export function refusalOf(args: CommandArgs): string | null {
  const name = args[0].toUpperCase();
  const why = REFUSED.get(name);
  if (why !== undefined) return refusal(name, why);
  if (name === 'XREAD' || name === 'XREADGROUP') {
    // Options come before STREAMS; after it, "block" could be a key name.
    const streamsAt = args.findIndex((a, i) => i > 0 && a.toUpperCase() === 'STREAMS');
    const options = args.slice(1, streamsAt === -1 ? args.length : streamsAt);
    if (options.some((a) => a.toUpperCase() === 'BLOCK'))
      return refusal(`${name} BLOCK`, 'blocking commands are not served over REST');
  }
  if (name === 'CLIENT') {
    const sub = (args[1] ?? '').toUpperCase();
    if (CLIENT_REFUSED.includes(sub))
      return refusal(`CLIENT ${sub}`, 'it would change the bridge’s shared connection');
  }
  return null;
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

// Upstash-only shebang flags that stock Redis 7 rejects with "Unexpected flag in script shebang".
const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking']);

/**
 * Drops Upstash-only flags from a script's `#!lua flags=...` line, keeping the shebang itself (so the
 * script keeps shebang semantics, e.g. EVAL_RO still needs `no-writes`) and the line count (so Lua error
 * line numbers match). Returns the script unchanged when there is nothing to drop.
 */
export function rewriteScript(script: string): string {
  if (!script.startsWith('#!')) return script;
  const lineEnd = script.indexOf('\n');
  const line = lineEnd === -1 ? script : script.slice(0, lineEnd);
  const tokens = line.split(' ');
  let changed = false;
  const kept = tokens.flatMap((token) => {
    if (!token.startsWith('flags=')) return [token];
    const flags = token.slice('flags='.length).split(',');
    const rest = flags.filter((f) => !UPSTASH_ONLY_FLAGS.has(f));
    if (rest.length === flags.length) return [token];
    changed = true;
    return rest.length > 0 ? [`flags=${rest.join(',')}`] : [];
  });
  if (!changed) return script;
  return kept.join(' ') + (lineEnd === -1 ? '' : script.slice(lineEnd));
}

/**
 * Maps the SHA a client computed over its original script to the SHA of the script Redis really holds.
 * Learned from EVAL and SCRIPT LOAD; a bridge restart forgets it, which only costs one NOSCRIPT round
 * trip because the clients fall back to EVAL.
 */
export class ScriptShaMap {
  private readonly bySha = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  /** Rewrites a script and remembers the SHA mapping when the text changed. */
  adapt(script: string): { script: string; originalSha: string; changed: boolean } {
    const rewritten = rewriteScript(script);
    const originalSha = sha1Hex(script);
    const changed = rewritten !== script;
    if (changed) {
      if (this.bySha.size >= this.capacity) this.bySha.clear();
      this.bySha.set(originalSha, sha1Hex(rewritten));
    }
    return { script: rewritten, originalSha, changed };
  }

  resolve(sha: string): string {
    return this.bySha.get(sha.toLowerCase()) ?? sha;
  }
}

/** A command ready for ioredis: upper-case name, adapted args, and an optional fix-up of its reply. */
export interface PreparedCommand {
  readonly name: string;
  readonly args: string[];
  readonly adaptReply?: (reply: RedisReply) => RedisReply;
}

/** Upper-cases the name (ioredis transforms replies of some lower-case names) and adapts script commands. */
export function prepareCommand(command: CommandArgs, scripts: ScriptShaMap): PreparedCommand {
  const name = command[0].toUpperCase();
  const args = command.slice(1);
  const [first, ...rest] = args;
  if (first === undefined) return { name, args };
  if (name === 'EVAL' || name === 'EVAL_RO') {
    return { name, args: [scripts.adapt(first).script, ...rest] };
  }
  if (name === 'EVALSHA' || name === 'EVALSHA_RO') {
    return { name, args: [scripts.resolve(first), ...rest] };
  }
  if (name === 'SCRIPT') {
    const sub = first.toUpperCase();
    if (sub === 'LOAD' && rest[0] !== undefined && rest.length === 1) {
      const adapted = scripts.adapt(rest[0]);
      // The client expects the SHA of the text it sent; answer with that one.
      const adaptReply = adapted.changed
        ? (reply: RedisReply) => (Buffer.isBuffer(reply) ? Buffer.from(adapted.originalSha) : reply)
        : undefined;
      return { name, args: [first, adapted.script], ...(adaptReply ? { adaptReply } : {}) };
    }
    if (sub === 'EXISTS') return { name, args: [first, ...rest.map((sha) => scripts.resolve(sha))] };
  }
  return { name, args };
}

// Test helper: the README's shell blocks as commands, and running them as written in one bash session against a stack.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ReadmeCommand {
  /** The command as the README has it (continuation lines joined). */
  command: string;
  /** Its trailing `# ...` comment, if any: what the README says it prints. */
  comment: string;
}

/** The ```sh blocks of the README section titled `title` (a `## ` heading). */
export function readmeBlocks(title: string, file = 'README.md'): string[] {
  const readme = readFileSync(file, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (!section) throw new Error(`${file} has no section "${title}"`);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A block's commands: comment-only and blank lines dropped, `\` continuations joined. */
export function commandsOf(block: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let pending = '';
  let afterCommand = false;
  for (const raw of block.split('\n')) {
    if (!pending && raw.trim() === '') {
      afterCommand = false;
      continue;
    }
    if (!pending && /^\s*#/.test(raw)) {
      // A comment line right under a command (no blank line between) shows that command's output.
      const last = out.at(-1);
      if (afterCommand && last && !last.comment) last.comment = raw.replace(/^\s*#\s?/, '');
      afterCommand = false;
      continue;
    }
    const line = pending + raw;
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)}`;
      continue;
    }
    pending = '';
    // A comment starts at a `#` after two spaces or more, outside quotes (the README's own style).
    const m = /^(.*?\S)\s{2,}#\s?(.*)$/.exec(line);
    out.push(m ? { command: m[1]!, comment: m[2]! } : { command: line.trim(), comment: '' });
    afterCommand = true;
  }
  return out;
}

export interface CommandResult extends ReadmeCommand {
  code: number;
  output: string;
}

/**
 * Runs `commands` in order in one bash session (variables carry over), each with its exit code and output.
 * `rewrite` maps a command to what runs (e.g. the stack's port instead of 3000); `env` is the session's environment.
 */
export async function runInBash(
  commands: readonly ReadmeCommand[],
  env: NodeJS.ProcessEnv,
  rewrite: (command: string) => string = (c) => c,
  timeoutMs = 300_000,
): Promise<CommandResult[]> {
  const marker = `@@readme-${process.pid}-${Date.now()}`;
  const script = commands
    .map((c, i) => `echo "${marker} start ${i}"\n${rewrite(c.command)}\necho "${marker} end ${i} $?"`)
    .join('\n');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  return commands.map((c, i) => {
    const m = new RegExp(`${marker} start ${i}\\n([\\s\\S]*?)${marker} end ${i} (\\d+)`).exec(output);
    return { ...c, code: m ? Number(m[2]) : -1, output: m ? m[1]!.trim() : `(did not run)\n${output}` };
  });
}

/**
 * What a README comment promises about the output, as a regex: a JSON fragment such as
 * `{"users":[...],"nextCursor":"alice"}` (`...` matches anything), else undefined.
 */
export function promisedOutput(comment: string): RegExp | undefined {
  // JSON only (`{"...`): prose such as `nextRun {periodKey, zone}` describes fields, it is no fragment.
  const fragment = /(\{".*\})/.exec(comment)?.[1];
  if (!fragment) return undefined;
  const parts = fragment.replace(/^\{|\}$/g, '').split('...');
  return new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?'));
}

// Test helper: a real terminal (a tmux pane on a private server socket) to run commands in as a person would,
// reading back what the screen shows and each command's exit status.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';

export interface TerminalRun {
  /** The pane's text after the command finished (the command line, its output, the status line). */
  screen: string;
  code: number;
}

export interface Terminal {
  /** Types `command` and Enter, waits for it to finish; the screen is cleared before. */
  run(command: string, timeoutMs?: number): Promise<TerminalRun>;
  /** Types `command` and Enter without waiting for it (answer prompts with `type`, then `finish`). */
  start(command: string): void;
  type(keys: string): void;
  /** Waits until the screen shows `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command begun with `start` to end. */
  finish(timeoutMs?: number): Promise<TerminalRun>;
  screen(): string;
  close(): void;
}

export function openTerminal(opts: { cwd: string; env: Record<string, string>; width?: number }): Terminal {
  const socket = `stagger-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux(
    'new-session',
    '-d',
    '-s',
    'cli',
    '-x',
    String(opts.width ?? 220),
    '-y',
    '50',
    '-c',
    opts.cwd,
    ...Object.entries(opts.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    'bash --norc --noprofile',
  );
  tmux('set-option', '-t', 'cli', 'history-limit', '5000');
  // tmux leaves its socket file behind when the server is killed.
  const socketPath = tmux('display-message', '-p', '-t', 'cli', '#{socket_path}').trim();
  let n = 0;
  let pending = '';
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'cli').replace(/\s+$/, '');
  const send = (text: string, enter: boolean) => {
    tmux('send-keys', '-t', 'cli', '-l', text);
    if (enter) tmux('send-keys', '-t', 'cli', 'Enter');
  };
  const waitFor = async (text: string | RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = screen();
      if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
      if (Date.now() > deadline)
        throw new Error(`terminal: no ${String(text)} within ${timeoutMs} ms; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const start = (command: string) => {
    tmux('send-keys', '-t', 'cli', 'clear', 'Enter');
    tmux('clear-history', '-t', 'cli');
    n += 1;
    pending = `__status_${n}`;
    // The marker is printed after the command, on its own line, with the command's status.
    send(`${command}; echo "${pending}=$?"`, true);
  };
  const finish = async (timeoutMs = 30_000): Promise<TerminalRun> => {
    const marker = new RegExp(`^${pending}=(\\d+)$`, 'm');
    const s = await waitFor(marker, timeoutMs);
    const code = Number(marker.exec(s)![1]);
    const text = s
      .split('\n')
      .filter((l) => !marker.test(l) && l.trim() !== 'clear')
      .join('\n')
      .replace(/; echo "__status_\d+=\$\?"/, '')
      .trim();
    return { screen: text, code };
  };
  return {
    async run(command, timeoutMs) {
      start(command);
      return finish(timeoutMs);
    },
    start,
    type: (keys) => void send(keys, true),
    waitFor,
    finish,
    screen,
    close: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
      rmSync(socketPath, { force: true });
    },
  };
}

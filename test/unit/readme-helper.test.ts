// The README command reader the README tests rely on: commands, their comments, and the output a comment promises.
import { describe, expect, it } from 'vitest';
import { commandsOf, promisedOutput } from '../helpers/readme.js';

describe('commandsOf', () => {
  it('joins continuation lines, keeps trailing comments, and takes a comment right under a command as its output', () => {
    const block = [
      'API=http://127.0.0.1:3000',
      '',
      '# a heading comment, not a command',
      'curl -s -X PUT "$API/v1/users/alice" \\',
      '  -d \'{"zone":"UTC"}\'',
      'curl -s "$API/v1/users?limit=0"    # 400 naming query.limit',
      'curl -s "$API/health"',
      '# {"status":"ok",...}',
    ].join('\n');
    expect(commandsOf(block)).toEqual([
      { command: 'API=http://127.0.0.1:3000', comment: '' },
      { command: 'curl -s -X PUT "$API/v1/users/alice"   -d \'{"zone":"UTC"}\'', comment: '' },
      { command: 'curl -s "$API/v1/users?limit=0"', comment: '400 naming query.limit' },
      { command: 'curl -s "$API/health"', comment: '{"status":"ok",...}' },
    ]);
  });
});

describe('promisedOutput', () => {
  it('reads a JSON fragment with ... as a wildcard, and nothing from prose', () => {
    const re = promisedOutput('{"users":[...],"nextCursor":"load-0000001"}')!;
    expect(re.test('{"users":[{"id":"alice"},{"id":"load-0000001"}],"nextCursor":"load-0000001"}')).toBe(
      true,
    );
    expect(re.test('{"users":[{"id":"alice"}],"nextCursor":"alice"}')).toBe(false);
    expect(promisedOutput('each with nextRun {periodKey, zone, dueAt, windowEnd}')).toBeUndefined();
  });
});

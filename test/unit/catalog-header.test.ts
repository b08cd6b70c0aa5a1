// The header of config/tasks.yaml documents every field the catalog schema accepts (and nothing else), every
// target field, and every environment override the catalog reads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ENV_ALLOWED_HOSTS,
  ENV_BASE_URL,
  ENV_DISABLED_TASKS,
  ENV_RATE_LIMIT_PREFIX,
} from '../../lib/domain/catalog-env.js';
import { catalogFieldNames } from '../../lib/domain/catalog.js';
import { HTTP_METHODS, TargetSchema } from '../../lib/domain/target.js';

const header = readFileSync('config/tasks.yaml', 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('#'))
  .map((line) => line.replace(/^# ?/, ''));

/** The field names a header section documents: its lines `  <name>  <text>` up to the next blank line. */
function documented(section: string): string[] {
  const start = header.indexOf(section);
  expect(start, `config/tasks.yaml's header has no "${section}" section`).toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of header.slice(start + 1)) {
    if (line.trim() === '') break;
    const m = /^ {2}([A-Za-z]+) {2,}\S/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** The text documenting `field` in `section`, continuation lines included. */
function textOf(section: string, field: string): string {
  const lines = header.slice(header.indexOf(section) + 1);
  const at = lines.findIndex((l) => new RegExp(`^ {2}${field} {2,}`).test(l));
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => !/^ {4,}/.test(l));
  return [lines[at], ...rest.slice(0, end < 0 ? rest.length : end)].join(' ');
}

describe("config/tasks.yaml's header", () => {
  const fields = catalogFieldNames();

  it('documents every top-level field, in the schema order', () => {
    expect(documented('Top level:')).toEqual(fields.top);
  });

  it('documents every task field, in the schema order', () => {
    expect(documented('A task type:')).toEqual(fields.task);
    expect(textOf('A task type:', 'description')).toContain('required');
  });

  it('names every target field and method', () => {
    const target = textOf('A task type:', 'target');
    for (const key of Object.keys(TargetSchema.shape))
      expect(target, key).toMatch(new RegExp(`\\b${key}\\b`));
    for (const method of HTTP_METHODS) expect(target, method).toContain(method);
  });

  it('names every environment override', () => {
    const text = header.join('\n');
    for (const name of [ENV_ALLOWED_HOSTS, ENV_BASE_URL, ENV_DISABLED_TASKS, `${ENV_RATE_LIMIT_PREFIX}<KEY>`])
      expect(text).toContain(name);
  });
});

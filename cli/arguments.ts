// Parsers of command-line values (commander calls them; a bad value is a usage error, exit code 2).
import { InvalidArgumentError } from 'commander';

export const positiveInt = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
export const nonNegativeInt = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected an integer >= 0');
  return Number(v);
};
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A param value as the API takes it: numbers and true/false typed, everything else text; --params for exact JSON. */
export function paramValue(v: string): string | number | boolean {
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

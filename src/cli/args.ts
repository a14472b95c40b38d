/**
 * Parsers for option values. Each rejects nonsense with commander's InvalidArgumentError, which
 * commander turns into one line naming the option and the value, and exit code 1.
 */
import { InvalidArgumentError } from 'commander';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

export interface NumberRange {
  min?: number;
  /** The minimum itself is not allowed. */
  above?: number;
  max?: number;
  /** The maximum itself is not allowed. */
  below?: number;
}

export function number(range: NumberRange): (value: string) => number {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`>= ${range.min}`);
  if (range.above !== undefined) parts.push(`> ${range.above}`);
  if (range.max !== undefined) parts.push(`<= ${range.max}`);
  if (range.below !== undefined) parts.push(`< ${range.below}`);
  const expected = `expected a number${parts.length ? ' ' + parts.join(' and ') : ''}`;
  return (value) => {
    const n = Number(value);
    const ok =
      value.trim() !== '' && Number.isFinite(n) &&
      (range.min === undefined || n >= range.min) && (range.above === undefined || n > range.above) &&
      (range.max === undefined || n <= range.max) && (range.below === undefined || n < range.below);
    if (!ok) throw new InvalidArgumentError(expected);
    return n;
  };
}

export function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!allowed.includes(value as T)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** A MIDI track: an index, 'most' (the non-drum track with the most notes) or 'merge'. */
export function track(value: string): number | 'most' | 'merge' {
  if (value === 'most' || value === 'merge') return value;
  return integer(0, 65535)(value);
}

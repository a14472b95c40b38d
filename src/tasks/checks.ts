/**
 * Checks of recipe options. The CLI validates its flags first with the flag's own name; these guard
 * the recipes when the playground (or a library user) builds one directly.
 */

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${name} must be an integer ${range}, received ${String(value)}`);
  }
  return value;
}

export function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a number > 0, received ${String(value)}`);
  }
  return value;
}

export function checkNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a number >= 0, received ${String(value)}`);
  }
  return value;
}

/** In [0, 1): a dropout rate or a validation share. */
export function checkProbability(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new Error(`${name} must be a number in [0, 1), received ${String(value)}`);
  }
  return value;
}

export function checkChoice<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, received ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Validation of constructor options, with messages that name the layer and the option. */
export function positiveInt(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function nonNegativeInt(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${where}: ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

export function probability(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new Error(`${where}: ${name} must be a number in [0, 1), got ${String(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`${where}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

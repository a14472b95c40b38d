/** Validation of constructor options and forward inputs, with messages that name the layer and the option. */
import type { DType } from '../kernels/index.js';
import { Tensor } from '../tensor/index.js';
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

export function checkDtype(where: string, value: unknown): DType {
  return oneOf(where, 'dtype', value, ['float32', 'float64'] as const);
}

/** A forward input must be a Tensor: a plain or nested array gets a message saying how to make one. */
export function checkTensorInput(where: string, x: unknown, expected: string, name = 'input'): asserts x is Tensor {
  if (x instanceof Tensor) return;
  const got = Array.isArray(x) ? 'a plain array (make a tensor with tensor([...]))'
    : ArrayBuffer.isView(x) ? `a ${(x as object).constructor.name} (make a tensor with tensor(array, shape))`
    : x === null || typeof x !== 'object' ? String(x) : `a ${(x as object).constructor?.name ?? 'object'}`;
  throw new Error(`${where}: ${name} must be a Tensor ${expected}, got ${got}`);
}

/** A short description of a value for an error message ("a Linear", "an array", "null"). */
export function describeValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `a ${(value as object).constructor?.name ?? 'object'}`;
}

/** PyTorch's padding_idx for a table of `num` rows: an integer in [-num, num), returned as a row (negative counts from the end). */
export function paddingRow(where: string, paddingIdx: unknown, num: number): number | null {
  if (paddingIdx === null || paddingIdx === undefined) return null;
  if (typeof paddingIdx !== 'number' || !Number.isInteger(paddingIdx) || paddingIdx < -num || paddingIdx >= num) {
    throw new Error(`${where}: paddingIdx must be an integer in [${-num}, ${num}), got ${String(paddingIdx)}`);
  }
  return paddingIdx < 0 ? paddingIdx + num : paddingIdx;
}

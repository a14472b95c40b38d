/**
 * Checks for hyper-parameters. Each throws an Error that names where the value came from, the option,
 * the accepted range and the value received, so a typo in a training script is found at once.
 */
import { checkOptionKeys } from '../tensor/index.js';

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return String(value);
}

/** A finite number >= 0 (learning rates, weight decay, eps, momentum). */
export function checkNonNegative(where: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${where}: ${name} must be a finite number >= 0, got ${show(value)}`);
  }
}

/** A finite number (values whose sign PyTorch leaves free, such as dampening). */
export function checkFinite(where: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${where}: ${name} must be a finite number, got ${show(value)}`);
  }
}

/** A number in [0, 1): Adam's betas. */
export function checkUnitInterval(where: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new Error(`${where}: ${name} must be a number in [0, 1), got ${show(value)}`);
  }
}

export function checkBoolean(where: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new Error(`${where}: ${name} must be true or false, got ${show(value)}`);
}

/** An integer >= min (step sizes, epoch counters, step counts). */
export function checkInteger(where: string, name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${where}: ${name} must be an integer >= ${min}, got ${show(value)}`);
  }
}

/** Rejects option names the receiver does not know (a snake_case `weight_decay` would otherwise be ignored). */
export function checkKnownKeys(where: string, options: object, known: readonly string[]): void {
  checkOptionKeys(where, options, known);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

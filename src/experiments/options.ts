/** Options shared by the experiments: the budget every training experiment takes, defaults, checks. */
import type { ExperimentCell } from './models.js';

/** What every experiment that trains several cells over several seeds is given. */
export interface TrainingBudget {
  cells?: readonly ExperimentCell[];
  /** Training steps per run. */
  steps?: number;
  /** Runs per cell, with seeds seed, seed + 1, ... */
  seeds?: number;
  seed?: number;
  batch?: number;
  /** Adam's learning rate. */
  lr?: number;
  /** Parameters each model gets, approximately (each cell's hidden size is chosen to match). */
  parameters?: number;
  /** Validate every this many steps. */
  evalEvery?: number;
}

/** The defaults, overridden by every option the caller set (an option given as undefined keeps its default). */
export function withDefaults<D extends object>(defaults: D, options: object): D {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as D;
}

export function checkInteger(where: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${where}: ${name} must be an integer >= ${min}, got ${value}`);
}

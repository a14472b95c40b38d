/**
 * Learning-rate schedules: each sets every param group's lr from the group's base lr (its lr when the
 * scheduler was created) and the epoch counter, with PyTorch's closed forms. As in PyTorch, creating a
 * scheduler counts as epoch 0 and each `step()` advances one epoch, usually once per epoch after
 * `optimizer.step()`.
 *
 * A scheduler needs only the optimizer's param groups, so it works with any optimizer here.
 */
import { checkInteger, checkKnownKeys, checkNonNegative, isPlainObject } from './validate.js';

export interface SchedulableOptimizer {
  readonly paramGroups: readonly { lr: number }[];
}

/** An option's value: one number, or one per param group (OneCycleLR's maxLr, as PyTorch's lists). */
export type SchedulerOption = number | number[];

/** Plain JSON: a checkpoint can store it in its `extra` metadata. */
export interface SchedulerState {
  scheduler: string;
  lastEpoch: number;
  baseLrs: number[];
  options: Record<string, SchedulerOption>;
}

export abstract class LRScheduler<O extends Record<string, SchedulerOption>> {
  lastEpoch = 0;
  baseLrs: number[];
  protected options: O;

  protected constructor(readonly name: string, readonly optimizer: SchedulableOptimizer, options: O) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) {
      throw new Error(`${name}: expected an optimizer with paramGroups, got ${String(optimizer)}`);
    }
    this.checkOptions(name, options);
    this.options = { ...options };
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  /** The lr at `epoch` for param group `group`, whose base lr is `baseLr`. */
  protected abstract lrAt(baseLr: number, epoch: number, group: number): number;
  protected abstract checkOptions(where: string, options: O): void;

  /** Advances one epoch and sets the optimizer's learning rates. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  /** The learning rates the last step set, one per param group. */
  getLastLr(): number[] {
    return this.baseLrs.map((base, i) => this.lrAt(base, this.lastEpoch, i));
  }

  stateDict(): SchedulerState {
    const options: Record<string, SchedulerOption> = {};
    for (const [key, value] of Object.entries(this.options)) options[key] = Array.isArray(value) ? [...value] : value;
    return { scheduler: this.name, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], options };
  }

  /**
   * Restores the epoch counter, base lrs and options. Like PyTorch it does not touch the optimizer:
   * its learning rates come back with the optimizer's own state.
   */
  loadStateDict(state: SchedulerState): void {
    const where = `${this.name}.loadStateDict`;
    if (!isPlainObject(state) || state.scheduler !== this.name) {
      throw new Error(`${where}: expected the state of a ${this.name}, got ${isPlainObject(state) ? `one of ${JSON.stringify(state.scheduler)}` : String(state)}`);
    }
    checkInteger(where, 'lastEpoch', state.lastEpoch, 0);
    const groups = this.optimizer.paramGroups.length;
    if (!Array.isArray(state.baseLrs) || state.baseLrs.length !== groups) {
      throw new Error(`${where}: expected ${groups} base lr(s), one per param group, got ${JSON.stringify(state.baseLrs)}`);
    }
    state.baseLrs.forEach((lr, i) => checkNonNegative(where, `baseLrs[${i}]`, lr));
    if (!isPlainObject(state.options)) throw new Error(`${where}: options must be an object`);
    checkKnownKeys(where, state.options, Object.keys(this.options));
    for (const [key, value] of Object.entries(state.options)) {
      const current = this.options[key];
      if (Array.isArray(current) !== Array.isArray(value)) {
        throw new Error(`${where}: option ${key} must be ${Array.isArray(current) ? 'an array' : 'a number'}, got ${JSON.stringify(value)}`);
      }
    }
    const options = { ...this.options, ...state.options } as O;
    this.checkOptions(where, options);
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.options = options;
  }

  protected apply(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = this.lrAt(this.baseLrs[i] ?? group.lr, this.lastEpoch, i);
    });
  }
}

export interface StepLROptions {
  /** Epochs between decays (a positive integer). */
  stepSize: number;
  /** Multiplicative factor of each decay. Default 0.1. */
  gamma?: number;
}

/** lr = baseLr · gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler<{ stepSize: number; gamma: number }> {
  constructor(optimizer: SchedulableOptimizer, options: StepLROptions) {
    if (!isPlainObject(options)) throw new Error(`StepLR: options must be { stepSize, gamma? }, got ${String(options)}`);
    checkKnownKeys('StepLR', options, ['stepSize', 'gamma']);
    super('StepLR', optimizer, { stepSize: options.stepSize, gamma: options.gamma ?? 0.1 });
  }

  protected checkOptions(where: string, o: { stepSize: number; gamma: number }): void {
    checkInteger(where, 'stepSize', o.stepSize, 1);
    checkNonNegative(where, 'gamma', o.gamma);
  }

  protected lrAt(baseLr: number, epoch: number): number {
    return baseLr * this.options.gamma ** Math.floor(epoch / this.options.stepSize);
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of one half cosine period (a positive integer). */
  tMax: number;
  /** The lowest learning rate. Default 0. */
  etaMin?: number;
}

/**
 * lr = etaMin + (baseLr − etaMin)·(1 + cos(π·epoch/tMax))/2. Past tMax the closed form rises again
 * (period 2·tMax), which is where PyTorch's recursive form also goes.
 */
export class CosineAnnealingLR extends LRScheduler<{ tMax: number; etaMin: number }> {
  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingLROptions) {
    if (!isPlainObject(options)) throw new Error(`CosineAnnealingLR: options must be { tMax, etaMin? }, got ${String(options)}`);
    checkKnownKeys('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    super('CosineAnnealingLR', optimizer, { tMax: options.tMax, etaMin: options.etaMin ?? 0 });
  }

  protected checkOptions(where: string, o: { tMax: number; etaMin: number }): void {
    checkInteger(where, 'tMax', o.tMax, 1);
    checkNonNegative(where, 'etaMin', o.etaMin);
  }

  protected lrAt(baseLr: number, epoch: number): number {
    const { tMax, etaMin } = this.options;
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
  }
}

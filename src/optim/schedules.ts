/**
 * More of PyTorch 1.13's schedules: LinearLR (linear warmup), OneCycleLR and ReduceLROnPlateau. The
 * first two are closed forms over the epoch counter like StepLR; ReduceLROnPlateau reacts to a
 * metric, so it keeps its own counters and changes the optimizer's lrs only when it reduces them.
 */
import { checkOptionKeys } from '../tensor/index.js';
import { LRScheduler, type SchedulableOptimizer } from './lr-scheduler.js';
import { checkInteger, checkNonNegative, isPlainObject } from './validate.js';

export interface LinearLROptions {
  /** Factor of the base lr at epoch 0. Default 1/3. */
  startFactor?: number;
  /** Factor reached at totalIters and kept. Default 1. */
  endFactor?: number;
  /** Epochs of the ramp. Default 5. */
  totalIters?: number;
}

/** lr = baseLr·(start + (end − start)·min(epoch, totalIters)/totalIters): linear warmup (or decay). */
export class LinearLR extends LRScheduler<{ startFactor: number; endFactor: number; totalIters: number }> {
  constructor(optimizer: SchedulableOptimizer, options: LinearLROptions = {}) {
    if (!isPlainObject(options)) throw new Error(`LinearLR: options must be { startFactor?, endFactor?, totalIters? }, got ${String(options)}`);
    checkOptionKeys('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    const o: LinearLROptions = options;
    super('LinearLR', optimizer, { startFactor: o.startFactor ?? 1 / 3, endFactor: o.endFactor ?? 1, totalIters: o.totalIters ?? 5 });
  }

  protected checkOptions(where: string, o: { startFactor: number; endFactor: number; totalIters: number }): void {
    if (!(o.startFactor > 0 && o.startFactor <= 1)) throw new Error(`${where}: startFactor must be in (0, 1], got ${o.startFactor}`);
    if (!(o.endFactor >= 0 && o.endFactor <= 1)) throw new Error(`${where}: endFactor must be in [0, 1], got ${o.endFactor}`);
    checkInteger(where, 'totalIters', o.totalIters, 1);
  }

  protected lrAt(baseLr: number, epoch: number): number {
    const { startFactor, endFactor, totalIters } = this.options;
    return baseLr * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, epoch)) / totalIters);
  }
}

export interface OneCycleLROptions {
  /** The peak lr: one for every param group, or one per group (PyTorch's list). */
  maxLr: number | number[];
  totalSteps: number;
  /** Fraction of the steps spent rising. Default 0.3. */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's momentum, Adam's beta1) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  /** The lowest momentum, reached with the peak lr: one, or one per group. Default 0.85. */
  baseMomentum?: number | number[];
  /** The highest momentum, at the start and the end: one, or one per group. Default 0.95. */
  maxMomentum?: number | number[];
  /** The first lr is maxLr/divFactor. Default 25. */
  divFactor?: number;
  /** The last lr is maxLr/divFactor/finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  threePhase?: boolean;
}

/** Numbers only, so that the state stays plain JSON (flags as 0/1); the per-group values as arrays. */
type OneCycleState = {
  maxLr: number[]; totalSteps: number; pctStart: number; cosine: number; cycleMomentum: number;
  baseMomentum: number[]; maxMomentum: number[]; divFactor: number; finalDivFactor: number; threePhase: number;
};

type MomentumGroup = { lr: number; momentum?: number; betas?: [number, number] };

/** One value per param group from a number (the same for all) or an array of exactly one per group. */
function perGroup(where: string, name: string, value: number | number[], groups: number): number[] {
  if (!Array.isArray(value)) return new Array<number>(groups).fill(value);
  if (value.length !== groups) throw new Error(`${where}: expected ${groups} value(s) for ${name}, one per param group, got ${value.length}`);
  return [...value];
}

function checkPerGroup(where: string, name: string, values: unknown, groups: number): void {
  if (!Array.isArray(values) || values.length !== groups) throw new Error(`${where}: ${name} must hold ${groups} value(s), one per param group, got ${JSON.stringify(values)}`);
  values.forEach((v, i) => checkNonNegative(where, `${name}[${i}]`, v));
}

/**
 * PyTorch's OneCycleLR (Smith and Topin, super-convergence), stepped once per batch. Each param
 * group cycles between its own maxLr/divFactor and maxLr (PyTorch's `initial_lr` and `max_lr`).
 */
export class OneCycleLR extends LRScheduler<OneCycleState> {
  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    if (!isPlainObject(options)) throw new Error(`OneCycleLR: options must be { maxLr, totalSteps, ... }, got ${String(options)}`);
    checkOptionKeys('OneCycleLR', options, ['maxLr', 'totalSteps', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase']);
    const anneal = options.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw new Error(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${JSON.stringify(anneal)}`);
    const cycleMomentum = options.cycleMomentum ?? true;
    if (cycleMomentum) {
      for (const group of optimizer.paramGroups as readonly MomentumGroup[]) {
        if (group.momentum === undefined && group.betas === undefined) throw new Error('OneCycleLR: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false');
      }
    }
    const groups = optimizer.paramGroups.length;
    super('OneCycleLR', optimizer, {
      maxLr: perGroup('OneCycleLR', 'maxLr', options.maxLr, groups), totalSteps: options.totalSteps, pctStart: options.pctStart ?? 0.3,
      cosine: anneal === 'cos' ? 1 : 0, cycleMomentum: cycleMomentum ? 1 : 0,
      baseMomentum: perGroup('OneCycleLR', 'baseMomentum', options.baseMomentum ?? 0.85, groups),
      maxMomentum: perGroup('OneCycleLR', 'maxMomentum', options.maxMomentum ?? 0.95, groups),
      divFactor: options.divFactor ?? 25, finalDivFactor: options.finalDivFactor ?? 1e4, threePhase: options.threePhase ? 1 : 0,
    });
  }

  protected checkOptions(where: string, o: OneCycleState): void {
    const groups = this.optimizer.paramGroups.length;
    checkPerGroup(where, 'maxLr', o.maxLr, groups);
    checkInteger(where, 'totalSteps', o.totalSteps, 1);
    if (!(o.pctStart >= 0 && o.pctStart <= 1)) throw new Error(`${where}: pctStart must be in [0, 1], got ${o.pctStart}`);
    checkPerGroup(where, 'baseMomentum', o.baseMomentum, groups);
    checkPerGroup(where, 'maxMomentum', o.maxMomentum, groups);
    if (!(o.divFactor > 0)) throw new Error(`${where}: divFactor must be > 0, got ${o.divFactor}`);
    if (!(o.finalDivFactor > 0)) throw new Error(`${where}: finalDivFactor must be > 0, got ${o.finalDivFactor}`);
  }

  override step(): void {
    if (this.lastEpoch + 1 > this.options.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${this.lastEpoch + 2} times; the specified number of total steps is ${this.options.totalSteps}`);
    }
    super.step();
  }

  /**
   * Which phase `epoch` is in, how far through it, and each phase's [start, end] of lr and momentum
   * for param group `group`.
   */
  private phaseAt(epoch: number, group: number): { pct: number; lr: [number, number]; momentum: [number, number] } {
    const o = this.options;
    const maxLr = o.maxLr[group]!, low = o.baseMomentum[group]!, high = o.maxMomentum[group]!;
    const initial = maxLr / o.divFactor;
    const min = initial / o.finalDivFactor;
    const up = o.pctStart * o.totalSteps - 1;
    const phases: { end: number; lr: [number, number]; momentum: [number, number] }[] = o.threePhase
      ? [
        { end: up, lr: [initial, maxLr], momentum: [high, low] },
        { end: 2 * o.pctStart * o.totalSteps - 2, lr: [maxLr, initial], momentum: [low, high] },
        { end: o.totalSteps - 1, lr: [initial, min], momentum: [high, high] },
      ]
      : [
        { end: up, lr: [initial, maxLr], momentum: [high, low] },
        { end: o.totalSteps - 1, lr: [maxLr, min], momentum: [low, high] },
      ];
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i]!;
      if (epoch <= phase.end || i === phases.length - 1) return { pct: (epoch - start) / (phase.end - start), lr: phase.lr, momentum: phase.momentum };
      start = phase.end;
    }
    throw new Error('unreachable');
  }

  private anneal([from, to]: [number, number], pct: number): number {
    return this.options.cosine ? to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1) : (to - from) * pct + from;
  }

  protected lrAt(_baseLr: number, epoch: number, group: number): number {
    const { pct, lr } = this.phaseAt(epoch, group);
    return this.anneal(lr, pct);
  }

  protected override apply(): void {
    super.apply();
    if (!this.options.cycleMomentum) return;
    (this.optimizer.paramGroups as readonly MomentumGroup[]).forEach((group, i) => {
      const { pct, momentum } = this.phaseAt(this.lastEpoch, i);
      const value = this.anneal(momentum, pct);
      if (group.betas) group.betas = [value, group.betas[1]];
      else group.momentum = value;
    });
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  /** The floor of the lr: one for every param group, or one per group (PyTorch's list). */
  minLr?: number | number[];
  eps?: number;
}

type PlateauSettings = Required<Omit<ReduceLROnPlateauOptions, 'minLr'>> & { minLr: number[] };

/**
 * Plain JSON, for a checkpoint's `extra`. JSON has no infinity, and the best metric starts at
 * ±Infinity (PyTorch's mode_worse), so a non-finite best is written as the string "Infinity" or
 * "-Infinity".
 */
export interface PlateauState {
  scheduler: 'ReduceLROnPlateau';
  lastEpoch: number;
  best: number | 'Infinity' | '-Infinity';
  numBadEpochs: number;
  cooldownCounter: number;
  options: PlateauSettings;
}

const PLATEAU_KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

/** Divides the lrs by 1/factor when the metric has not improved for more than `patience` steps. */
export class ReduceLROnPlateau {
  options: Readonly<PlateauSettings>;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(readonly optimizer: SchedulableOptimizer & { paramGroups: readonly { lr: number }[] }, options: ReduceLROnPlateauOptions = {}) {
    const where = 'ReduceLROnPlateau';
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new Error(`${where}: expected an optimizer with paramGroups, got ${String(optimizer)}`);
    if (!isPlainObject(options)) throw new Error(`${where}: options must be an object, got ${String(options)}`);
    checkOptionKeys(where, options, PLATEAU_KEYS);
    const merged = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...options } as const;
    this.options = { ...merged, minLr: perGroup(where, 'minLr', merged.minLr, optimizer.paramGroups.length) };
    this.checkSettings(where, this.options);
    this.best = this.worst();
  }

  private checkSettings(where: string, o: PlateauSettings): void {
    if (o.mode !== 'min' && o.mode !== 'max') throw new Error(`${where}: mode must be 'min' or 'max', got ${JSON.stringify(o.mode)}`);
    if (o.thresholdMode !== 'rel' && o.thresholdMode !== 'abs') throw new Error(`${where}: thresholdMode must be 'rel' or 'abs', got ${JSON.stringify(o.thresholdMode)}`);
    if (!(o.factor >= 0 && o.factor < 1)) throw new Error(`${where}: factor must be in [0, 1), got ${o.factor}`);
    checkInteger(where, 'patience', o.patience, 0);
    checkInteger(where, 'cooldown', o.cooldown, 0);
    checkNonNegative(where, 'threshold', o.threshold);
    checkPerGroup(where, 'minLr', o.minLr, this.optimizer.paramGroups.length);
    checkNonNegative(where, 'eps', o.eps);
  }

  /** PyTorch's mode_worse: where `best` starts. */
  private worst(): number {
    return this.options.mode === 'min' ? Infinity : -Infinity;
  }

  /** One epoch's metric (a validation loss, say); reduces the lrs when it has stopped improving. */
  step(metric: number | { item(): number }): void {
    const current = typeof metric === 'number' ? metric : metric.item();
    if (Number.isNaN(current)) throw new Error('ReduceLROnPlateau.step: the metric is NaN');
    this.lastEpoch += 1;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.options.patience) {
      (this.optimizer.paramGroups as { lr: number }[]).forEach((group, i) => {
        const reduced = Math.max(group.lr * this.options.factor, this.options.minLr[i]!);
        if (group.lr - reduced > this.options.eps) group.lr = reduced;
      });
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The counters and options (PyTorch's state_dict); the lrs themselves are the optimizer's state. */
  stateDict(): PlateauState {
    const best = Number.isFinite(this.best) ? this.best : this.best > 0 ? 'Infinity' : '-Infinity';
    return {
      scheduler: 'ReduceLROnPlateau', lastEpoch: this.lastEpoch, best, numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter, options: { ...this.options, minLr: [...this.options.minLr] },
    };
  }

  /** Restores what stateDict() returned; everything is checked before anything changes. */
  loadStateDict(state: PlateauState): void {
    const where = 'ReduceLROnPlateau.loadStateDict';
    if (!isPlainObject(state) || state.scheduler !== 'ReduceLROnPlateau') {
      throw new Error(`${where}: expected the state of a ReduceLROnPlateau, got ${isPlainObject(state) ? `one of ${JSON.stringify(state.scheduler)}` : String(state)}`);
    }
    checkInteger(where, 'lastEpoch', state.lastEpoch, 0);
    checkInteger(where, 'numBadEpochs', state.numBadEpochs, 0);
    checkInteger(where, 'cooldownCounter', state.cooldownCounter, 0);
    const best = state.best === 'Infinity' ? Infinity : state.best === '-Infinity' ? -Infinity : state.best;
    if (typeof best !== 'number' || Number.isNaN(best)) throw new Error(`${where}: best must be a number, "Infinity" or "-Infinity", got ${JSON.stringify(state.best)}`);
    if (!isPlainObject(state.options)) throw new Error(`${where}: options must be an object`);
    checkOptionKeys(where, state.options, PLATEAU_KEYS);
    const options = { ...this.options, ...state.options } as PlateauSettings;
    this.checkSettings(where, options);
    this.options = { ...options, minLr: [...options.minLr] };
    this.lastEpoch = state.lastEpoch;
    this.best = best;
    this.numBadEpochs = state.numBadEpochs;
    this.cooldownCounter = state.cooldownCounter;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode, threshold } = this.options;
    if (mode === 'min') return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (threshold + 1) : a > this.best + threshold;
  }
}

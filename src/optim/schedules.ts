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
  maxLr: number;
  totalSteps: number;
  /** Fraction of the steps spent rising. Default 0.3. */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's momentum, Adam's beta1) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** The first lr is maxLr/divFactor. Default 25. */
  divFactor?: number;
  /** The last lr is maxLr/divFactor/finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  threePhase?: boolean;
}

/** Numbers only, so that the state stays plain JSON (flags as 0/1). */
type OneCycleState = {
  maxLr: number; totalSteps: number; pctStart: number; cosine: number; cycleMomentum: number;
  baseMomentum: number; maxMomentum: number; divFactor: number; finalDivFactor: number; threePhase: number;
};

type MomentumGroup = { lr: number; momentum?: number; betas?: [number, number] };

/** PyTorch's OneCycleLR (Smith and Topin, super-convergence), stepped once per batch. */
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
    super('OneCycleLR', optimizer, {
      maxLr: options.maxLr, totalSteps: options.totalSteps, pctStart: options.pctStart ?? 0.3, cosine: anneal === 'cos' ? 1 : 0,
      cycleMomentum: cycleMomentum ? 1 : 0, baseMomentum: options.baseMomentum ?? 0.85, maxMomentum: options.maxMomentum ?? 0.95,
      divFactor: options.divFactor ?? 25, finalDivFactor: options.finalDivFactor ?? 1e4, threePhase: options.threePhase ? 1 : 0,
    });
  }

  protected checkOptions(where: string, o: OneCycleState): void {
    checkNonNegative(where, 'maxLr', o.maxLr);
    checkInteger(where, 'totalSteps', o.totalSteps, 1);
    if (!(o.pctStart >= 0 && o.pctStart <= 1)) throw new Error(`${where}: pctStart must be in [0, 1], got ${o.pctStart}`);
    checkNonNegative(where, 'baseMomentum', o.baseMomentum);
    checkNonNegative(where, 'maxMomentum', o.maxMomentum);
    if (!(o.divFactor > 0)) throw new Error(`${where}: divFactor must be > 0, got ${o.divFactor}`);
    if (!(o.finalDivFactor > 0)) throw new Error(`${where}: finalDivFactor must be > 0, got ${o.finalDivFactor}`);
  }

  override step(): void {
    if (this.lastEpoch + 1 > this.options.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${this.lastEpoch + 2} times; the specified number of total steps is ${this.options.totalSteps}`);
    }
    super.step();
  }

  /** Which phase `epoch` is in and how far through it: [start, end] values of lr and momentum. */
  private phaseAt(epoch: number): { pct: number; lr: [number, number]; momentum: [number, number] } {
    const o = this.options;
    const initial = o.maxLr / o.divFactor;
    const min = initial / o.finalDivFactor;
    const up = o.pctStart * o.totalSteps - 1;
    const phases: { end: number; lr: [number, number]; momentum: [number, number] }[] = o.threePhase
      ? [
        { end: up, lr: [initial, o.maxLr], momentum: [o.maxMomentum, o.baseMomentum] },
        { end: 2 * o.pctStart * o.totalSteps - 2, lr: [o.maxLr, initial], momentum: [o.baseMomentum, o.maxMomentum] },
        { end: o.totalSteps - 1, lr: [initial, min], momentum: [o.maxMomentum, o.maxMomentum] },
      ]
      : [
        { end: up, lr: [initial, o.maxLr], momentum: [o.maxMomentum, o.baseMomentum] },
        { end: o.totalSteps - 1, lr: [o.maxLr, min], momentum: [o.baseMomentum, o.maxMomentum] },
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

  protected lrAt(_baseLr: number, epoch: number): number {
    const { pct, lr } = this.phaseAt(epoch);
    return this.anneal(lr, pct);
  }

  protected override apply(): void {
    super.apply();
    if (!this.options.cycleMomentum) return;
    const { pct, momentum } = this.phaseAt(this.lastEpoch);
    const value = this.anneal(momentum, pct);
    for (const group of this.optimizer.paramGroups as readonly MomentumGroup[]) {
      if (group.betas) group.betas = [value, group.betas[1]];
      else group.momentum = value;
    }
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/** Divides the lrs by 1/factor when the metric has not improved for more than `patience` steps. */
export class ReduceLROnPlateau {
  readonly options: Required<ReduceLROnPlateauOptions>;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(readonly optimizer: SchedulableOptimizer & { paramGroups: readonly { lr: number }[] }, options: ReduceLROnPlateauOptions = {}) {
    const where = 'ReduceLROnPlateau';
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new Error(`${where}: expected an optimizer with paramGroups, got ${String(optimizer)}`);
    if (!isPlainObject(options)) throw new Error(`${where}: options must be an object, got ${String(options)}`);
    checkOptionKeys(where, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.options = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...options };
    const o = this.options;
    if (o.mode !== 'min' && o.mode !== 'max') throw new Error(`${where}: mode must be 'min' or 'max', got ${JSON.stringify(o.mode)}`);
    if (o.thresholdMode !== 'rel' && o.thresholdMode !== 'abs') throw new Error(`${where}: thresholdMode must be 'rel' or 'abs', got ${JSON.stringify(o.thresholdMode)}`);
    if (!(o.factor >= 0 && o.factor < 1)) throw new Error(`${where}: factor must be in [0, 1), got ${o.factor}`);
    checkInteger(where, 'patience', o.patience, 0);
    checkInteger(where, 'cooldown', o.cooldown, 0);
    checkNonNegative(where, 'threshold', o.threshold);
    checkNonNegative(where, 'minLr', o.minLr);
    checkNonNegative(where, 'eps', o.eps);
    this.best = o.mode === 'min' ? Infinity : -Infinity;
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
      for (const group of this.optimizer.paramGroups as { lr: number }[]) {
        const reduced = Math.max(group.lr * this.options.factor, this.options.minLr);
        if (group.lr - reduced > this.options.eps) group.lr = reduced;
      }
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode, threshold } = this.options;
    if (mode === 'min') return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (threshold + 1) : a > this.best + threshold;
  }
}

/**
 * `recurrent experiment adding`: trains each cell on the adding problem at several lengths and seeds
 * under one step budget, and records the test MSE, the first step at which the validation MSE fell
 * below the "solved" threshold, and the success rate across seeds.
 */
import { checkAllocation } from '../data/limits.js';
import { mseLoss } from '../nn/index.js';
import { Adam, clipGradNorm } from '../optim/index.js';
import { Generator, noGrad } from '../tensor/index.js';
import { ADDING_BASELINE_MSE, addingBatch, type AddingBatch } from './adding-data.js';
import { EXPERIMENT_CELLS, LastStepRegressor, hiddenForBudget, type ExperimentCell, type SequenceRegressor } from './models.js';
import { checkInteger, withDefaults, type TrainingBudget } from './options.js';
import { deriveSeed } from './seeds.js';

/** `steps` is the budget: a run stops early once solved. */
export interface AddingOptions extends TrainingBudget {
  lengths?: readonly number[];
  /** Total gradient norm is clipped to this (0: no clipping). */
  clip?: number;
  /** Validation MSE below which a run counts as solved (0.01 in the literature). */
  threshold?: number;
  validationSize?: number;
  testSize?: number;
  /** Replaces the model of a cell (tests use it for a deliberately broken model). */
  makeModel?: (cell: ExperimentCell, generator: Generator) => SequenceRegressor;
  /** Called after each run, for progress. */
  onRun?: (run: AddingRun) => void;
}

export const ADDING_DEFAULTS = {
  cells: ['rnn', 'lstm', 'gru', 'peephole'] as readonly ExperimentCell[],
  lengths: [50, 100, 200, 400] as readonly number[],
  steps: 2000,
  seeds: 3,
  seed: 0,
  batch: 32,
  lr: 0.01,
  clip: 1,
  parameters: 4500,
  evalEvery: 50,
  threshold: 0.01,
  validationSize: 256,
  testSize: 1000,
};

export interface AddingRun {
  cell: string;
  length: number;
  seed: number;
  hidden: number;
  parameters: number;
  /** Steps taken (the budget, or fewer when solved early). */
  steps: number;
  /** First step whose validation MSE was below the threshold, or null. */
  solvedAt: number | null;
  testMse: number;
  /** Validation MSE at each evaluation. */
  curve: { step: number; mse: number }[];
  seconds: number;
}

export interface AddingCellSummary {
  cell: string;
  length: number;
  hidden: number;
  parameters: number;
  seeds: number;
  solved: number;
  successRate: number;
  /** Mean and median over seeds. */
  meanTestMse: number;
  medianSolvedAt: number | null;
}

export interface AddingResult {
  options: Omit<Required<AddingOptions>, 'makeModel' | 'onRun'>;
  baselineMse: number;
  runs: AddingRun[];
  summary: AddingCellSummary[];
}

function resolve(options: AddingOptions): AddingResult['options'] {
  const o = withDefaults(ADDING_DEFAULTS, options) as AddingResult['options'];
  const where = 'experiment adding';
  for (const name of ['steps', 'seeds', 'batch', 'parameters', 'evalEvery', 'validationSize', 'testSize'] as const) checkInteger(where, name, o[name]);
  checkInteger(where, 'seed', o.seed, 0);
  for (const length of o.lengths) checkInteger(where, 'each length', length, 2);
  if (o.lengths.length === 0) throw new Error(`${where}: lengths must name at least one length`);
  if (o.cells.length === 0) throw new Error(`${where}: cells must name at least one cell`);
  for (const cell of o.cells) {
    if (!EXPERIMENT_CELLS.includes(cell)) throw new Error(`${where}: cell must be one of ${EXPERIMENT_CELLS.join(', ')}, got ${String(cell)}`);
  }
  if (!(o.lr > 0)) throw new Error(`${where}: lr must be > 0, got ${o.lr}`);
  if (!(o.clip >= 0)) throw new Error(`${where}: clip must be >= 0, got ${o.clip}`);
  if (!(o.threshold > 0)) throw new Error(`${where}: threshold must be > 0, got ${o.threshold}`);
  return o;
}

/**
 * Refuses sizes whose recurrent workspace (about eight values per hidden unit, step and sequence:
 * gates, states and their gradients) would exhaust memory, naming them, before anything is run.
 */
export function checkWorkspace(model: SequenceRegressor, set: AddingBatch): void {
  const [length, batch] = set.inputs.shape as [number, number, number];
  checkAllocation('experiment', `${length} steps × ${batch} sequences × ${model.hiddenSize} hidden units (× 8 for the recurrent workspace)`, length * batch * model.hiddenSize * 8);
}

/** Mean squared error of a model over a fixed set, without recording gradients. */
export function evaluateMse(model: SequenceRegressor, set: AddingBatch): number {
  checkWorkspace(model, set);
  return noGrad(() => mseLoss(model.predict(set.inputs), set.targets).item());
}

export interface TrainRegressorOptions {
  steps: number;
  lr: number;
  clip: number;
  evalEvery: number;
  /** Stop at the first evaluation below this (null: run the whole budget). */
  stopBelow: number | null;
  /** Replaces "validation MSE below stopBelow" as the test of a solved task, checked at each evaluation. */
  solved?: (model: SequenceRegressor, validationMse: number) => boolean;
  /** A fresh training batch for each step. */
  nextBatch: () => AddingBatch;
  validation: AddingBatch;
}

/** Adam on fresh batches with clipping; validates every evalEvery steps. */
export function trainRegressor(model: SequenceRegressor, o: TrainRegressorOptions): { steps: number; solvedAt: number | null; curve: { step: number; mse: number }[] } {
  const params = [...model.parameters()];
  const optimizer = new Adam(params, { lr: o.lr });
  const curve: { step: number; mse: number }[] = [{ step: 0, mse: evaluateMse(model, o.validation) }];
  let solvedAt: number | null = null;
  let step = 0;
  try {
    while (step < o.steps) {
      const batch = o.nextBatch();
      if (step === 0) checkWorkspace(model, batch);
      optimizer.zeroGrad();
      const loss = mseLoss(model.predict(batch.inputs), batch.targets);
      loss.backward();
      if (o.clip > 0) clipGradNorm(params, o.clip);
      optimizer.step();
      step++;
      if (step % o.evalEvery === 0 || step === o.steps) {
        const mse = evaluateMse(model, o.validation);
        curve.push({ step, mse });
        if (o.solved ? o.solved(model, mse) : o.stopBelow !== null && mse < o.stopBelow) {
          solvedAt = step;
          break;
        }
      }
    }
  } finally {
    optimizer.dispose();
  }
  return { steps: step, solvedAt, curve };
}

/** One cell at one length and seed. */
export function runAdding(cell: ExperimentCell, length: number, seed: number, options: AddingOptions = {}): AddingRun {
  const weights = new Generator(deriveSeed(seed, 'weights'));
  const model = options.makeModel?.(cell, weights) ?? new LastStepRegressor(cell, 2, hiddenForBudget(cell, 2, 1, options.parameters ?? ADDING_DEFAULTS.parameters), 1, weights);
  try {
    return runAddingModel(model, length, seed, options);
  } finally {
    model.dispose();
  }
}

/** Trains a given model on the adding problem at one length (its training data drawn from `seed`). */
export function runAddingModel(model: SequenceRegressor, length: number, seed: number, options: AddingOptions = {}): AddingRun {
  const o = resolve({ ...options, lengths: [length] });
  const started = performance.now();
  const parameters = [...model.parameters()].reduce((n, p) => n + p.size, 0);
  const trainData = new Generator(deriveSeed(seed, `adding-train-${length}`));
  // Validation and test sets come from their own seeds, shared by every cell and run seed, so cells
  // are scored on the same sequences and no training step ever sees them.
  const validation = addingBatch(length, o.validationSize, new Generator(deriveSeed(0, `adding-validation-${length}`)));
  const trained = trainRegressor(model, {
    steps: o.steps, lr: o.lr, clip: o.clip, evalEvery: o.evalEvery, stopBelow: o.threshold,
    nextBatch: () => addingBatch(length, o.batch, trainData), validation,
  });
  const test = addingBatch(length, o.testSize, new Generator(deriveSeed(0, `adding-test-${length}`)));
  return {
    cell: model.cell, length, seed, hidden: model.hiddenSize, parameters, steps: trained.steps, solvedAt: trained.solvedAt,
    testMse: evaluateMse(model, test), curve: trained.curve, seconds: (performance.now() - started) / 1000,
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarizeAdding(runs: readonly AddingRun[]): AddingCellSummary[] {
  const groups = new Map<string, AddingRun[]>();
  for (const run of runs) {
    const key = `${run.cell}\u0000${run.length}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => {
    const solved = group.filter((r) => r.solvedAt !== null);
    const first = group[0]!;
    return {
      cell: first.cell, length: first.length, hidden: first.hidden, parameters: first.parameters, seeds: group.length,
      solved: solved.length, successRate: solved.length / group.length,
      meanTestMse: group.reduce((s, r) => s + r.testMse, 0) / group.length,
      medianSolvedAt: median(solved.map((r) => r.solvedAt!)),
    };
  });
}

/** Every cell × length × seed; lengths outermost so a short budget still covers every cell. */
export function addingExperiment(options: AddingOptions = {}): AddingResult {
  const o = resolve(options);
  const runs: AddingRun[] = [];
  for (const length of o.lengths) {
    for (const cell of o.cells) {
      for (let s = 0; s < o.seeds; s++) {
        const run = runAdding(cell, length, o.seed + s, options);
        runs.push(run);
        options.onRun?.(run);
      }
    }
  }
  return { options: o, baselineMse: ADDING_BASELINE_MSE, runs, summary: summarizeAdding(runs) };
}


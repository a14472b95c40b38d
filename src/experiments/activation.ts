/**
 * `recurrent experiment activation`: the same RNN with tanh, sigmoid and relu as its nonlinearity, at
 * equal size, on the adding problem and on sine continuation. Parity note: tanh and relu are
 * PyTorch's options; sigmoid is our extension of nn.RNN (docs/from-pytorch.md).
 */
import { Generator } from '../tensor/index.js';
import { ADDING_BASELINE_MSE, addingBatch, type AddingBatch } from './adding-data.js';
import { evaluateMse, trainRegressor } from './adding.js';
import { checkInteger, withDefaults, type TrainingBudget } from './options.js';
import { LastStepRegressor, hiddenForBudget, type ExperimentCell } from './models.js';
import { deriveSeed } from './seeds.js';
import { lastValueMse, sineBatch } from './sine-data.js';

export const ACTIVATION_TASKS = ['adding', 'sine'] as const;
export type ActivationTask = (typeof ACTIVATION_TASKS)[number];

export interface ActivationOptions extends TrainingBudget {
  tasks?: readonly ActivationTask[];
  length?: number;
}

export const ACTIVATION_DEFAULTS = {
  cells: ['rnn', 'rnn-sigmoid', 'rnn-relu'] as readonly ExperimentCell[],
  tasks: ACTIVATION_TASKS as readonly ActivationTask[],
  length: 50,
  steps: 1000,
  seeds: 3,
  seed: 0,
  batch: 32,
  lr: 0.005,
  parameters: 4500,
  evalEvery: 50,
};

export interface ActivationRun {
  cell: string;
  task: ActivationTask;
  seed: number;
  testMse: number;
  /** False when the loss became NaN or infinite (relu units can blow up). */
  finite: boolean;
  curve: { step: number; mse: number }[];
}

export interface ActivationSummary {
  cell: string;
  task: ActivationTask;
  seeds: number;
  meanTestMse: number;
  bestTestMse: number;
  /** MSE of the task's simple baseline on the same test set: the mean (adding), the last value (sine). */
  baselineMse: number;
}

export interface ActivationResult {
  options: Required<ActivationOptions>;
  runs: ActivationRun[];
  summary: ActivationSummary[];
}

function makeBatch(task: ActivationTask, length: number, batch: number, generator: Generator): AddingBatch {
  return task === 'adding' ? addingBatch(length, batch, generator) : sineBatch(length, batch, generator);
}

export function activationExperiment(options: ActivationOptions = {}): ActivationResult {
  const o = withDefaults(ACTIVATION_DEFAULTS, options) as Required<ActivationOptions>;
  const where = 'experiment activation';
  for (const name of ['length', 'steps', 'seeds', 'batch', 'parameters', 'evalEvery'] as const) checkInteger(where, name, o[name], name === 'length' ? 2 : 1);
  checkInteger(where, 'seed', o.seed, 0);
  for (const task of o.tasks) {
    if (!ACTIVATION_TASKS.includes(task)) throw new Error(`${where}: task must be one of ${ACTIVATION_TASKS.join(', ')}, got ${String(task)}`);
  }
  const runs: ActivationRun[] = [];
  const summary: ActivationSummary[] = [];
  for (const task of o.tasks) {
    const inputSize = task === 'adding' ? 2 : 1;
    const validation = makeBatch(task, o.length, 256, new Generator(deriveSeed(0, `${task}-validation-${o.length}`)));
    const test = makeBatch(task, o.length, 1000, new Generator(deriveSeed(0, `${task}-test-${o.length}`)));
    const baselineMse = task === 'adding' ? ADDING_BASELINE_MSE : lastValueMse(test);
    for (const cell of o.cells) {
      const cellRuns: ActivationRun[] = [];
      for (let s = o.seed; s < o.seed + o.seeds; s++) {
        const model = new LastStepRegressor(cell, inputSize, hiddenForBudget(cell, inputSize, 1, o.parameters), 1, new Generator(deriveSeed(s, 'weights')));
        try {
          const data = new Generator(deriveSeed(s, `${task}-train-${o.length}`));
          const trained = trainRegressor(model, {
            steps: o.steps, lr: o.lr, clip: 1, evalEvery: o.evalEvery, stopBelow: null,
            nextBatch: () => makeBatch(task, o.length, o.batch, data), validation,
          });
          const testMse = evaluateMse(model, test);
          cellRuns.push({ cell, task, seed: s, testMse, finite: Number.isFinite(testMse), curve: trained.curve });
        } finally {
          model.dispose();
        }
      }
      runs.push(...cellRuns);
      const finite = cellRuns.map((r) => (r.finite ? r.testMse : Infinity));
      summary.push({
        cell, task, seeds: cellRuns.length, baselineMse,
        meanTestMse: finite.reduce((a, b) => a + b, 0) / finite.length,
        bestTestMse: Math.min(...finite),
      });
    }
  }
  return { options: o, runs, summary };
}

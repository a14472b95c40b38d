/**
 * `recurrent experiment timing`: LSTM with and without peepholes on the timed-spike task, several
 * periods and seeds; a run is solved when at least 95% of the validation sequences have every spike
 * on the right step.
 */
import { Generator, noGrad } from '../tensor/index.js';
import { trainRegressor } from './adding.js';
import { EveryStepRegressor, hiddenForBudget, type ExperimentCell, type SequenceRegressor } from './models.js';
import { checkInteger, withDefaults, type TrainingBudget } from './options.js';
import { deriveSeed } from './seeds.js';
import { sequencesCorrect, timingBatch } from './timing-data.js';
import type { AddingBatch } from './adding-data.js';

export interface TimingOptions extends TrainingBudget {
  periods?: readonly number[];
  cycles?: number;
}

export const TIMING_DEFAULTS = {
  cells: ['lstm', 'peephole'] as readonly ExperimentCell[],
  periods: [10, 20] as readonly number[],
  cycles: 4,
  steps: 1500,
  seeds: 3,
  seed: 0,
  batch: 32,
  lr: 0.01,
  parameters: 1200,
  evalEvery: 50,
};

/** Share of validation sequences that must be right for a run to count as solved. */
export const TIMING_SOLVED_SHARE = 0.95;

export interface TimingRun {
  cell: string;
  period: number;
  seed: number;
  steps: number;
  solvedAt: number | null;
  /** Share of test sequences with every step right. */
  testCorrect: number;
}

export interface TimingSummary {
  cell: string;
  period: number;
  seeds: number;
  solved: number;
  successRate: number;
  meanTestCorrect: number;
}

export interface TimingResult {
  options: Required<TimingOptions>;
  runs: TimingRun[];
  summary: TimingSummary[];
}

function correctShare(model: SequenceRegressor, set: AddingBatch): number {
  const [length, batch] = set.inputs.shape as [number, number, number];
  const predictions = noGrad(() => model.predict(set.inputs)).data;
  return sequencesCorrect(predictions, set.targets.data, length, batch);
}

export function timingExperiment(options: TimingOptions = {}): TimingResult {
  const o = withDefaults(TIMING_DEFAULTS, options) as Required<TimingOptions>;
  const where = 'experiment timing';
  for (const name of ['cycles', 'steps', 'seeds', 'batch', 'parameters', 'evalEvery'] as const) checkInteger(where, name, o[name]);
  checkInteger(where, 'seed', o.seed, 0);
  if (o.periods.length === 0) throw new Error(`${where}: periods must name at least one period`);
  for (const period of o.periods) checkInteger(where, 'each period', period, 2);
  const runs: TimingRun[] = [];
  const summary: TimingSummary[] = [];
  for (const period of o.periods) {
    const validation = timingBatch(period, o.cycles, 256, new Generator(deriveSeed(0, `timing-validation-${period}`)));
    const test = timingBatch(period, o.cycles, 1000, new Generator(deriveSeed(0, `timing-test-${period}`)));
    for (const cell of o.cells) {
      const cellRuns: TimingRun[] = [];
      for (let s = o.seed; s < o.seed + o.seeds; s++) {
        const model = new EveryStepRegressor(cell, 1, hiddenForBudget(cell, 1, 1, o.parameters), 1, new Generator(deriveSeed(s, 'weights')));
        try {
          const data = new Generator(deriveSeed(s, `timing-train-${period}`));
          const trained = trainRegressor(model, {
            steps: o.steps, lr: o.lr, clip: 1, evalEvery: o.evalEvery, stopBelow: null,
            solved: (m) => correctShare(m, validation) >= TIMING_SOLVED_SHARE,
            nextBatch: () => timingBatch(period, o.cycles, o.batch, data), validation,
          });
          cellRuns.push({ cell, period, seed: s, steps: trained.steps, solvedAt: trained.solvedAt, testCorrect: correctShare(model, test) });
        } finally {
          model.dispose();
        }
      }
      runs.push(...cellRuns);
      const solved = cellRuns.filter((r) => r.solvedAt !== null).length;
      summary.push({
        cell, period, seeds: cellRuns.length, solved, successRate: solved / cellRuns.length,
        meanTestCorrect: cellRuns.reduce((a, r) => a + r.testCorrect, 0) / cellRuns.length,
      });
    }
  }
  return { options: o, runs, summary };
}


/**
 * `recurrent experiment timing`: LSTM with and without peepholes on a timing task after Gers,
 * Schraudolph & Schmidhuber (2002), several periods and seeds. Two tasks: `spikes` (generate a spike
 * every K steps after one trigger, timing-data.ts) and `intervals` (tell two spikes K and K + 1 steps
 * apart, interval-data.ts). A run is solved when at least 95% of the validation sequences are right;
 * each trained model is then probed for what it times with (timing-probe.ts).
 */
import { Generator, noGrad, type Tensor } from '../tensor/index.js';
import type { AddingBatch } from './adding-data.js';
import { trainRegressor } from './adding.js';
import { intervalBatch, intervalsCorrect } from './interval-data.js';
import { EveryStepRegressor, LastStepRegressor, hiddenForBudget, type ExperimentCell } from './models.js';
import { checkInteger, withDefaults, type TrainingBudget } from './options.js';
import { deriveSeed } from './seeds.js';
import { sequencesCorrect, spikeErrors, timingBatch, type SpikeErrors } from './timing-data.js';
import { probeTiming, type TimingProbe } from './timing-probe.js';

/**
 * spikes: generate a spike every period after one trigger; intervals: classify two spikes as `period`
 * or `period + 1` steps apart.
 */
export const TIMING_TASKS = ['spikes', 'intervals'] as const;
export type TimingTask = (typeof TIMING_TASKS)[number];

export interface TimingOptions extends TrainingBudget {
  task?: TimingTask;
  /** spikes: the steps between spikes; intervals: the shorter of the two intervals, K. */
  periods?: readonly number[];
  /** spikes: spikes to generate after the trigger. */
  cycles?: number;
  /** Replaces the model of a cell (tests use it for a model that cannot see its input). */
  makeModel?: (cell: ExperimentCell, hidden: number, generator: Generator) => LastStepRegressor;
}

export type ResolvedTimingOptions = Omit<Required<TimingOptions>, 'makeModel'>;

export const TIMING_DEFAULTS = {
  // spikes stays the default: it is the task the command ran before intervals existed, so the
  // commands in docs/concepts.md and earlier runs keep their meaning.
  task: 'spikes' as TimingTask,
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
export const TIMING_VALIDATION_SIZE = 256;
export const TIMING_TEST_SIZE = 1000;
/** Sequences the gate statistics of the probe are taken over. */
const PROBE_SIZE = 64;

export interface TimingRun {
  cell: string;
  period: number;
  seed: number;
  steps: number;
  solvedAt: number | null;
  /** Share of test sequences right (spikes: every step; intervals: the class). */
  testCorrect: number;
  /** spikes: where the test sequences go wrong (null for intervals). */
  errors: SpikeErrors | null;
  probe: TimingProbe;
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
  options: ResolvedTimingOptions;
  runs: TimingRun[];
  summary: TimingSummary[];
}

/** One task's data, model and scoring, so that the training loop below serves both. */
interface TaskSpec {
  batch(period: number, size: number, generator: Generator): AddingBatch;
  model(cell: ExperimentCell, hidden: number, generator: Generator): LastStepRegressor;
  correct(predictions: ArrayLike<number>, set: AddingBatch): number;
  errors(predictions: ArrayLike<number>, set: AddingBatch): SpikeErrors | null;
}

function taskSpec(task: TimingTask, cycles: number): TaskSpec {
  if (task === 'intervals') {
    return {
      batch: (period, size, generator) => intervalBatch(period, size, generator),
      model: (cell, hidden, generator) => new LastStepRegressor(cell, 1, hidden, 1, generator),
      correct: (predictions, set) => intervalsCorrect(predictions, set.targets.data, set.targets.shape[0]!),
      errors: () => null,
    };
  }
  return {
    batch: (period, size, generator) => timingBatch(period, cycles, size, generator),
    model: (cell, hidden, generator) => new EveryStepRegressor(cell, 1, hidden, 1, generator),
    correct: (predictions, set) => {
      const [length, batch] = set.inputs.shape as [number, number, number];
      return sequencesCorrect(predictions, set.targets.data, length, batch);
    },
    errors: (predictions, set) => {
      const [length, batch] = set.inputs.shape as [number, number, number];
      return spikeErrors(predictions, set.targets.data, length, batch, cycles);
    },
  };
}

function resolve(options: TimingOptions): ResolvedTimingOptions {
  const { makeModel: _replaced, ...rest } = options;
  const o = withDefaults(TIMING_DEFAULTS, rest) as ResolvedTimingOptions;
  const where = 'experiment timing';
  if (!TIMING_TASKS.includes(o.task)) throw new Error(`${where}: task must be one of ${TIMING_TASKS.join(', ')}, got ${String(o.task)}`);
  for (const name of ['cycles', 'steps', 'seeds', 'batch', 'parameters', 'evalEvery'] as const) checkInteger(where, name, o[name]);
  checkInteger(where, 'seed', o.seed, 0);
  if (o.periods.length === 0) throw new Error(`${where}: periods must name at least one period`);
  for (const period of o.periods) checkInteger(where, 'each period', period, 2);
  if (o.cells.length === 0) throw new Error(`${where}: cells must name at least one cell`);
  for (const cell of o.cells) {
    if (cell !== 'lstm' && cell !== 'peephole') throw new Error(`${where}: cells must be lstm or peephole (the task compares the two), got ${String(cell)}`);
  }
  if (!(o.lr > 0)) throw new Error(`${where}: lr must be > 0, got ${o.lr}`);
  return o;
}

export function timingExperiment(options: TimingOptions = {}): TimingResult {
  const o = resolve(options);
  const spec = taskSpec(o.task, o.cycles);
  const predict = (model: LastStepRegressor, set: AddingBatch) => noGrad(() => model.predict(set.inputs)).data;
  const share = (model: LastStepRegressor, set: AddingBatch): number => spec.correct(predict(model, set), set);
  const runs: TimingRun[] = [];
  const summary: TimingSummary[] = [];
  for (const period of o.periods) {
    // Validation, test and probe sets have their own seeds, shared by every cell and run seed.
    const held = (name: string, size: number) => spec.batch(period, size, new Generator(deriveSeed(0, `timing-${o.task}-${name}-${period}`)));
    const validation = held('validation', TIMING_VALIDATION_SIZE);
    const test = held('test', TIMING_TEST_SIZE);
    const probe: Tensor = held('probe', PROBE_SIZE).inputs;
    for (const cell of o.cells) {
      const cellRuns: TimingRun[] = [];
      for (let s = o.seed; s < o.seed + o.seeds; s++) {
        const hidden = hiddenForBudget(cell, 1, 1, o.parameters);
        const weights = new Generator(deriveSeed(s, 'weights'));
        const model = options.makeModel?.(cell, hidden, weights) ?? spec.model(cell, hidden, weights);
        try {
          const data = new Generator(deriveSeed(s, `timing-${o.task}-train-${period}`));
          const trained = trainRegressor(model, {
            steps: o.steps, lr: o.lr, clip: 1, evalEvery: o.evalEvery, stopBelow: null,
            solved: (m) => share(m as LastStepRegressor, validation) >= TIMING_SOLVED_SHARE,
            nextBatch: () => spec.batch(period, o.batch, data), validation,
          });
          cellRuns.push({
            cell, period, seed: s, steps: trained.steps, solvedAt: trained.solvedAt, testCorrect: share(model, test),
            errors: spec.errors(predict(model, test), test),
            probe: probeTiming(model, () => share(model, test), probe),
          });
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

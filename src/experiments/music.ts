/**
 * `recurrent experiment music`: Chung et al. (2014), Table 2, on the JSB chorales: a tanh RNN, a GRU
 * and an LSTM of about equal parameter count learn to predict each quarter-note step's 88 keys from the
 * steps before (a sigmoid per key), trained on the training chorales, the epoch chosen by validation
 * NLL (early stopping), and scored on the test chorales in nats per time step.
 */
import { CHORALE_SPLITS, type ChoraleRoll, type ChoraleSet, type ChoraleSplit } from '../data/chorales.js';
import { bceWithLogits } from '../nn/index.js';
import { Adam, clipGradNorm } from '../optim/index.js';
import { polyBaselines, polyStats, type MusicBaselineStats } from '../tasks/music-baselines.js';
import { Generator, noGrad } from '../tensor/index.js';
import { choraleBatch, summedBernoulliNll } from './chorale-data.js';
import { EXPERIMENT_CELLS, EveryStepRegressor, hiddenForBudget, parameterCount, type ExperimentCell } from './models.js';
import { checkInteger, withDefaults } from './options.js';
import { deriveSeed } from './seeds.js';

export interface MusicOptions {
  /** The chorales (readChorales() in Node); the experiment itself reads no files. */
  data: ChoraleSet;
  cells?: readonly ExperimentCell[];
  /** Passes over the training chorales, at most. */
  epochs?: number;
  /** Stop after this many epochs without a better validation NLL. */
  patience?: number;
  /** Runs per cell, with seeds seed, seed + 1, ... */
  seeds?: number;
  seed?: number;
  /** Chorales per training batch. */
  batch?: number;
  /** Adam's learning rate. */
  lr?: number;
  /** Total gradient norm is clipped to this (0: no clipping). */
  clip?: number;
  /** Parameters each model gets, approximately (each cell's hidden size is chosen to match). */
  parameters?: number;
  /** Called after each run, for progress. */
  onRun?: (run: MusicRun) => void;
}

export const MUSIC_DEFAULTS = {
  cells: ['rnn', 'gru', 'lstm'] as readonly ExperimentCell[],
  epochs: 20,
  patience: 4,
  seeds: 2,
  seed: 0,
  batch: 8,
  lr: 0.02,
  clip: 1,
  parameters: 20_000,
};

/** Chung et al. (2014), Table 2, JSB Chorales: average negative log-probability per time step. */
export const CHUNG_2014_JSB_TEST_NLL: Readonly<Record<string, number>> = { rnn: 9.10, gru: 8.54, lstm: 8.67 };

/** Keys of the piano roll: the 88 of a piano. */
const PITCHES = 88;

export type SplitNll = Record<ChoraleSplit, number>;

export interface MusicRun {
  cell: string;
  seed: number;
  hidden: number;
  parameters: number;
  /** Epochs trained (the budget, or fewer when validation stopped improving). */
  epochs: number;
  /** The epoch chosen by validation NLL; its figures are the run's. */
  bestEpoch: number;
  nll: SplitNll;
  /** Per epoch: the mean training loss during it and the validation NLL after it. */
  curve: { epoch: number; trainLoss: number; valid: number }[];
  seconds: number;
}

export interface MusicSummary {
  cell: string;
  hidden: number;
  parameters: number;
  seeds: number;
  /** Means over seeds of each run's figures at its chosen epoch. */
  mean: SplitNll;
  /** Lowest and highest test NLL across seeds. */
  testRange: [number, number];
  published: number | null;
}

export interface MusicResult {
  options: Omit<Required<MusicOptions>, 'data' | 'onRun'>;
  /** Chorales and scored time steps per split. */
  sizes: Record<ChoraleSplit, { chorales: number; predictions: number }>;
  /** Per-note frequency (unigram) and "the previous step, smoothed" (repeat), fitted on the training chorales. */
  baselines: { unigram: SplitNll; repeat: SplitNll };
  runs: MusicRun[];
  summary: MusicSummary[];
}

function resolve(options: MusicOptions): MusicResult['options'] {
  const { data: _data, onRun: _onRun, ...rest } = options;
  const o = withDefaults(MUSIC_DEFAULTS, rest) as MusicResult['options'];
  const where = 'experiment music';
  for (const name of ['epochs', 'patience', 'seeds', 'batch', 'parameters'] as const) checkInteger(where, name, o[name]);
  checkInteger(where, 'seed', o.seed, 0);
  if (o.cells.length === 0) throw new Error(`${where}: cells must name at least one cell`);
  for (const cell of o.cells) {
    if (!EXPERIMENT_CELLS.includes(cell)) throw new Error(`${where}: cell must be one of ${EXPERIMENT_CELLS.join(', ')}, got ${String(cell)}`);
  }
  if (!(o.lr > 0)) throw new Error(`${where}: lr must be > 0, got ${o.lr}`);
  if (!(o.clip >= 0)) throw new Error(`${where}: clip must be >= 0, got ${o.clip}`);
  for (const split of CHORALE_SPLITS) {
    const chorales = options.data[split];
    if (!Array.isArray(chorales) || chorales.length === 0) throw new Error(`${where}: data.${split} must hold at least one chorale, got ${Array.isArray(chorales) ? 'none' : typeof chorales}`);
    for (const [i, c] of chorales.entries()) {
      if (c.pitches !== PITCHES) throw new Error(`${where}: data.${split}[${i}] must have ${PITCHES} pitches, got ${c.pitches}`);
    }
  }
  return o;
}

/** Chorales scored per evaluation batch: bounds the padded batch's memory. */
const EVAL_CHUNK = 64;

/** NLL per scored time step (nats, summed over the 88 keys) of a model over chorales, without gradients. */
export function choralesNll(model: EveryStepRegressor, chorales: readonly ChoraleRoll[]): number {
  let total = 0;
  let predictions = 0;
  for (let i = 0; i < chorales.length; i += EVAL_CHUNK) {
    const set = choraleBatch(chorales.slice(i, i + EVAL_CHUNK));
    total += summedBernoulliNll(noGrad(() => model.predict(set.inputs)).data, set);
    predictions += set.predictions;
  }
  return total / predictions;
}

function shuffled<T>(items: readonly T[], generator: Generator): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = generator.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One cell and seed: trains with early stopping on validation NLL and reports every split at the chosen epoch. */
export function runMusic(cell: ExperimentCell, seed: number, options: MusicOptions): MusicRun {
  const o = resolve(options);
  const data = options.data;
  const started = performance.now();
  const hidden = hiddenForBudget(cell, PITCHES, PITCHES, o.parameters);
  const model = new EveryStepRegressor(cell, PITCHES, hidden, PITCHES, new Generator(deriveSeed(seed, 'weights')));
  const params = [...model.parameters()];
  const optimizer = new Adam(params, { lr: o.lr });
  const order = new Generator(deriveSeed(seed, 'music-train-order'));
  const curve: MusicRun['curve'] = [];
  let best: { epoch: number; nll: SplitNll } | null = null;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const chorales = shuffled(data.train, order);
      let lossSum = 0;
      let batches = 0;
      for (let i = 0; i < chorales.length; i += o.batch) {
        const set = choraleBatch(chorales.slice(i, i + o.batch));
        optimizer.zeroGrad();
        const perNote = bceWithLogits(model.predict(set.inputs), set.targets, 'none');
        const loss = perNote.mul(set.mask).sum().mul(1 / set.predictions);
        loss.backward();
        if (o.clip > 0) clipGradNorm(params, o.clip);
        optimizer.step();
        lossSum += loss.item();
        batches++;
      }
      const valid = choralesNll(model, data.valid);
      curve.push({ epoch, trainLoss: lossSum / batches, valid });
      if (!Number.isFinite(valid)) throw new Error(`experiment music: ${cell} seed ${seed} diverged at epoch ${epoch} (validation NLL ${valid}); lower lr`);
      if (best === null || valid < best.nll.valid) {
        // Scored now rather than restored later: the choice is made on validation alone either way.
        best = { epoch, nll: { train: choralesNll(model, data.train), valid, test: choralesNll(model, data.test) } };
      } else if (epoch - best.epoch >= o.patience) {
        break;
      }
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return {
    cell, seed, hidden, parameters: parameterCount(cell, PITCHES, hidden, PITCHES), epochs: curve.length, bestEpoch: best!.epoch,
    nll: best!.nll, curve, seconds: (performance.now() - started) / 1000,
  };
}

/** The two baselines' NLL per scored step on each split, with statistics from the training chorales. */
export function musicBaselines(data: ChoraleSet): MusicResult['baselines'] {
  const perChorale = data.train.map((c) => polyStats(c.active, c.steps, c.pitches) as Extract<MusicBaselineStats, { encoding: 'poly' }>);
  const stats = perChorale.reduce((sum, s) => ({
    ...sum, pitchOn: sum.pitchOn.map((n, j) => n + s.pitchOn[j]!), frames: sum.frames + s.frames, onAfterOn: sum.onAfterOn + s.onAfterOn,
    onBefore: sum.onBefore + s.onBefore, onAfterOff: sum.onAfterOff + s.onAfterOff, offBefore: sum.offBefore + s.offBefore,
  }));
  const unigram = {} as SplitNll;
  const repeat = {} as SplitNll;
  for (const split of CHORALE_SPLITS) {
    let u = 0;
    let r = 0;
    let predictions = 0;
    for (const c of data[split]) {
      const b = polyBaselines(stats, c.active, c.steps, c.pitches);
      u += b.unigram * (c.steps - 1);
      r += b.repeat * (c.steps - 1);
      predictions += c.steps - 1;
    }
    unigram[split] = u / predictions;
    repeat[split] = r / predictions;
  }
  return { unigram, repeat };
}

export function summarizeMusic(runs: readonly MusicRun[]): MusicSummary[] {
  const cells = [...new Set(runs.map((r) => r.cell))];
  return cells.map((cell) => {
    const group = runs.filter((r) => r.cell === cell);
    const mean = (split: ChoraleSplit) => group.reduce((s, r) => s + r.nll[split], 0) / group.length;
    const tests = group.map((r) => r.nll.test);
    return {
      cell, hidden: group[0]!.hidden, parameters: group[0]!.parameters, seeds: group.length,
      mean: { train: mean('train'), valid: mean('valid'), test: mean('test') },
      testRange: [Math.min(...tests), Math.max(...tests)], published: CHUNG_2014_JSB_TEST_NLL[cell] ?? null,
    };
  });
}

/** Every cell × seed, seeds outermost so a short budget still covers every cell. */
export function musicExperiment(options: MusicOptions): MusicResult {
  const o = resolve(options);
  const runs: MusicRun[] = [];
  for (let s = 0; s < o.seeds; s++) {
    for (const cell of o.cells) {
      const run = runMusic(cell, o.seed + s, options);
      runs.push(run);
      options.onRun?.(run);
    }
  }
  const sizes = Object.fromEntries(CHORALE_SPLITS.map((split) => [split, {
    chorales: options.data[split].length, predictions: options.data[split].reduce((n, c) => n + c.steps - 1, 0),
  }])) as MusicResult['sizes'];
  return { options: o, sizes, baselines: musicBaselines(options.data), runs, summary: summarizeMusic(runs) };
}

/**
 * Denoise: "an RNN averaging noisy samples yields less noisy results". A sequence-to-sequence model
 * reads a noisy signal (clean + Gaussian noise at a chosen SNR) and outputs the clean one at every
 * step. Signals are random sine mixtures drawn fresh for every batch, or windows of a real series
 * (z-scored with training statistics). The score is the SNR before and after, beside the classical
 * answer: a centred moving average with the best window for the same validation signals.
 */
import { mseLoss } from '../nn/index.js';
import { fromArray, noGrad } from '../tensor/index.js';
import { addNoise, bestMovingAverage, DataRng, movingAverage, randomSineMixture, randomWindows, snrDb, stackTimeMajor, ZScore } from '../data/index.js';
import type { Series, ZScoreJSON } from '../data/index.js';
import { checkInteger } from './checks.js';
import type { ModelConfig, SequenceModel } from './model.js';
import { buildModel, chronologicalSplit, dataRngPersistence, type Evaluation, type ExportedTaskData, type Task, type TrainingConfig } from './task.js';

export interface DenoiseOptions {
  training: TrainingConfig;
  model: Omit<ModelConfig, 'input' | 'outputSize'>;
  /** Signal-to-noise ratio of the noisy inputs, in dB. */
  snr: number;
  /** Validation signals (default 64). */
  validationSignals?: number;
  /** A saved run's normalisation of a real series; fitted on the training part when absent. */
  normalization?: ZScoreJSON;
}

export interface DenoiseSummary {
  signal: string;
  snr: number;
  length: number | null;
  splitIndex: number | null;
  /** First test value of a file-based run (null for generated signals and for runs made before test parts). */
  testIndex?: number | null;
  normalization: ZScoreJSON | null;
  validationSignals: number;
}

export interface DenoiseExample {
  clean: Float32Array;
  noisy: Float32Array;
  denoised: Float32Array;
  movingAverage: Float32Array;
  window: number;
}

export interface DenoiseTask extends Task {
  readonly name: 'denoise';
  readonly summary: DenoiseSummary;
  /** The first validation signal: clean, noisy, the model's output and the best moving average. */
  example(): DenoiseExample;
  /** The validation pairs, the training values (series runs) and the SNR (docs/scaling.md). */
  exportData(): ExportedTaskData;
}

/** The model's output for each noisy signal (all of one length). */
function denoiseSignals(model: SequenceModel, noisy: Float32Array[]): Float32Array[] {
  const seqLen = noisy[0]!.length;
  model.eval();
  return noGrad(() => {
    const { output } = model.forward({ data: stackTimeMajor(noisy), steps: seqLen, batch: noisy.length });
    const d = output.data;
    return noisy.map((_, b) => Float32Array.from({ length: seqLen }, (_, t) => d[t * noisy.length + b]!));
  });
}

function concat(xs: Float32Array[]): Float32Array {
  const all = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) {
    all.set(x, at);
    at += x.length;
  }
  return all;
}

/** MSE to the clean signals, and the SNR of the noisy input, the model's output and the best moving average. */
function scorePairs(model: SequenceModel, pairs: Pairs): Evaluation {
  const out = denoiseSignals(model, pairs.noisy);
  const clean = concat(pairs.clean);
  const denoised = concat(out);
  let squared = 0;
  for (let i = 0; i < clean.length; i++) squared += (denoised[i]! - clean[i]!) ** 2;
  const ma = bestMovingAverage(pairs.noisy, pairs.clean);
  return {
    loss: squared / clean.length,
    metrics: {
      snr_in_db: snrDb(clean, concat(pairs.noisy)),
      snr_out_db: snrDb(clean, denoised),
      snr_moving_average_db: ma.snrDb,
      moving_average_window: ma.window,
    },
  };
}

/**
 * Scores a model on fresh noisy signals (eval --data): windows tiling a series, z-scored with the
 * run's normalisation (or the series' own when the run was trained on sine mixtures), or new sine
 * mixtures when `series` is null. The noise is drawn from `seed`.
 */
export function evaluateDenoise(model: SequenceModel, summary: DenoiseSummary, seqLen: number, series: Series | null, seed: number): Evaluation {
  const rng = new DataRng(seed);
  if (!series) return scorePairs(model, noisyPairs(Array.from({ length: summary.validationSignals }, () => randomSineMixture(seqLen, rng)), summary.snr, rng));
  const zscore = summary.normalization ? ZScore.fromJSON(summary.normalization) : ZScore.fit(series.values);
  const cleans = tiles(zscore.apply(series.values), seqLen, 100_000);
  if (cleans.length === 0) throw new Error(`${series.source} has ${series.values.length} values, fewer than one signal of --seq-len ${seqLen}`);
  return scorePairs(model, noisyPairs(cleans, summary.snr, rng));
}

/** Signals for one mini-batch of sine mixtures: nominal size of an "epoch" of fresh signals. */
const SINE_EPOCH_SIGNALS = 1024;

interface Pairs {
  clean: Float32Array[];
  noisy: Float32Array[];
}

function noisyPairs(cleans: Float32Array[], snr: number, rng: DataRng): Pairs {
  return { clean: cleans, noisy: cleans.map((c) => addNoise(c, snr, rng)) };
}

/** Non-overlapping windows tiling the values (the tail that does not fill a window is left out). */
function tiles(values: Float32Array, length: number, max: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s + length <= values.length && out.length < max; s += length) out.push(values.slice(s, s + length));
  return out;
}

export function createDenoiseTask(options: DenoiseOptions, series: Series | null): DenoiseTask {
  const { training } = options;
  const { seqLen, batch } = training;
  const snr = options.snr;
  if (typeof snr !== 'number' || !Number.isFinite(snr) || snr < -30 || snr > 60) {
    throw new Error(`snr must be a number of dB in [-30, 60], received ${String(snr)}`);
  }
  const valCount = checkInteger('validation signals', options.validationSignals ?? 64, 1, 100_000);
  if (seqLen < 2) throw new Error(`--seq-len must be at least 2 for denoising (a signal of one sample has nothing to average), received ${seqLen}`);
  const { model, optimizer, generator } = buildModel({ ...options.model, input: { kind: 'dense', size: 1 }, outputSize: 1 }, training);
  const rng = new DataRng(training.seed);
  // Validation noise comes from its own stream, so evaluating never moves the training stream.
  const valRng = new DataRng(training.seed + 7919);

  let trainValues: Float32Array | null = null;
  let zscore: ZScore | null = null;
  let splitIndex: number | null = null;
  let testIndex: number | null = null;
  let validation: Pairs;
  let test: Pairs | null = null;
  // Test noise and synthetic test signals come from a third stream of their own.
  const testRng = new DataRng(training.seed + 104729);
  if (series) {
    const n = series.values.length;
    ({ trainEnd: splitIndex, validationEnd: testIndex } = chronologicalSplit(n, training));
    if (splitIndex < seqLen) {
      throw new Error(`${series.source} has ${n} values; the training part (${splitIndex}) is shorter than one signal of --seq-len ${seqLen} (use a shorter --seq-len or a smaller --val-split)`);
    }
    zscore = options.normalization ? ZScore.fromJSON(options.normalization) : ZScore.fit(series.values.subarray(0, splitIndex));
    const z = zscore.apply(series.values);
    trainValues = z.subarray(0, splitIndex);
    const valValues = splitIndex < testIndex ? z.subarray(splitIndex, testIndex) : trainValues;
    if (valValues.length < seqLen) {
      throw new Error(
        `the validation part of ${series.source} has ${valValues.length} values, fewer than one signal of --seq-len ${seqLen} (raise --val-split or shorten --seq-len)`,
      );
    }
    validation = noisyPairs(tiles(valValues, seqLen, valCount), snr, valRng);
    if (testIndex < n) {
      if (n - testIndex < seqLen) {
        throw new Error(`the test part of ${series.source} has ${n - testIndex} values, fewer than one signal of --seq-len ${seqLen} (raise --test-split or shorten --seq-len)`);
      }
      test = noisyPairs(tiles(z.subarray(testIndex), seqLen, valCount), snr, testRng);
    }
  } else {
    validation = noisyPairs(Array.from({ length: valCount }, () => randomSineMixture(seqLen, valRng)), snr, valRng);
    if ((training.testSplit ?? 0) > 0) test = noisyPairs(Array.from({ length: valCount }, () => randomSineMixture(seqLen, testRng)), snr, testRng);
  }
  const hasValidation = series === null || splitIndex! < testIndex!;
  const summary: DenoiseSummary = {
    signal: series ? series.name : 'sine-mixture',
    snr,
    length: series ? series.values.length : null,
    splitIndex,
    testIndex,
    normalization: zscore ? zscore.toJSON() : null,
    validationSignals: validation.clean.length,
  };

  const denoise = (noisy: Float32Array[]): Float32Array[] => denoiseSignals(model, noisy);
  const score = (pairs: Pairs): Evaluation => scorePairs(model, pairs);

  const trainSignals = (): Float32Array[] =>
    trainValues ? randomWindows(trainValues, seqLen, batch, rng) : Array.from({ length: batch }, () => randomSineMixture(seqLen, rng));

  return {
    name: 'denoise',
    model,
    optimizer,
    generator,
    summary,
    tokensPerStep: seqLen * batch,
    stepsPerEpoch: Math.max(1, Math.ceil((trainValues ? trainValues.length - seqLen + 1 : SINE_EPOCH_SIGNALS) / batch)),
    hasValidation,
    hasTest: test !== null,

    trainLoss() {
      model.train();
      const pairs = noisyPairs(trainSignals(), snr, rng);
      const { output } = model.forward({ data: stackTimeMajor(pairs.noisy), steps: seqLen, batch });
      // A fresh array nobody else holds: shared rather than copied.
      return mseLoss(output, fromArray(stackTimeMajor(pairs.clean), [seqLen, batch, 1]));
    },

    evaluate(part = 'validation') {
      if (part === 'test') {
        if (!test) throw new Error('this run holds out no test part (test-split 0)');
        return score(test);
      }
      return score(validation);
    },

    exportData() {
      const stack = (signals: Float32Array[]) => ({ data: concat(signals), shape: [signals.length, seqLen] });
      const tensors: ExportedTaskData['tensors'] = { val_clean: stack(validation.clean), val_noisy: stack(validation.noisy) };
      if (trainValues) tensors['train_values'] = { data: trainValues.slice(), shape: [trainValues.length] };
      return { tensors, meta: { snr, signal: trainValues ? 'series' : 'sine-mixture' } };
    },

    example() {
      const clean = validation.clean[0]!;
      const noisy = validation.noisy[0]!;
      const window = bestMovingAverage(validation.noisy, validation.clean).window;
      return { clean, noisy, denoised: denoise([noisy])[0]!, movingAverage: movingAverage(noisy, window), window };
    },

    ...dataRngPersistence(rng),
  };
}

/**
 * Series for next-value forecasting: a chronological split, sliding windows batched in the
 * time-major layout the recurrent layers take ([seq, batch, 1], batchFirst false), and a seeded
 * sine-wave generator for a synthetic task that needs no file.
 */
import { checkAllocation } from './limits.js';
import { DataRng } from './random.js';

export interface SeriesSplit {
  train: Float32Array;
  /** Starts `context` values before splitIndex, so the first validation window can begin right away. */
  validation: Float32Array;
  /** Index of the first value that is validation-only. */
  splitIndex: number;
}

export interface SplitSeriesOptions {
  /** Share of the values (from the end) held out for validation, in [0, 1). Default 0.2. */
  validationFraction?: number;
  /** How many training values to repeat in front of the validation part (usually seqLen). Default 0. */
  context?: number;
}

function checkPositiveInteger(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${fn}: ${name} must be a positive integer, received ${value}`);
  }
}

/**
 * Splits in time order, never shuffled: validating on the past of the training data would leak the
 * future into training.
 */
export function splitSeries(values: Float32Array, options: SplitSeriesOptions = {}): SeriesSplit {
  const fraction = options.validationFraction ?? 0.2;
  const context = options.context ?? 0;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new Error(`splitSeries: validationFraction must be in [0, 1), received ${fraction}`);
  }
  if (!Number.isInteger(context) || context < 0) {
    throw new Error(`splitSeries: context must be a non-negative integer, received ${context}`);
  }
  const splitIndex = values.length - Math.round(values.length * fraction);
  if (splitIndex < 1) {
    throw new Error(`splitSeries: a series of ${values.length} value(s) leaves no training values with validationFraction ${fraction}`);
  }
  return {
    train: values.subarray(0, splitIndex),
    validation: values.subarray(Math.max(0, splitIndex - context)),
    splitIndex,
  };
}

/** A batch of windows in time-major layout. */
export interface SeriesBatch {
  /** [seqLen, batchSize, 1]: inputs[(t * batchSize + b)] = series[starts[b] + t]. */
  inputs: Float32Array;
  /** [seqLen, batchSize, 1]: the value following each input step (inputs shifted by one). */
  targets: Float32Array;
  /** [batchSize, 1]: the value following each whole window (the last time step of targets). */
  next: Float32Array;
  seqLen: number;
  batchSize: number;
  /** Where each window begins in the series. */
  starts: Int32Array;
}

/** Number of windows of seqLen inputs that still have a next value to predict. */
export function windowCount(length: number, seqLen: number): number {
  return Math.max(0, length - seqLen);
}

function checkWindowable(fn: string, length: number, seqLen: number): void {
  checkPositiveInteger(fn, 'seqLen', seqLen);
  if (length < seqLen + 1) {
    throw new Error(`${fn}: a series of ${length} value(s) is too short for seqLen ${seqLen}; at least seqLen + 1 = ${seqLen + 1} values are needed`);
  }
}

/** Builds one batch from the windows beginning at `starts`. */
export function windowBatch(values: Float32Array, starts: ArrayLike<number>, seqLen: number): SeriesBatch {
  checkWindowable('windowBatch', values.length, seqLen);
  const batchSize = starts.length;
  if (batchSize === 0) throw new Error('windowBatch: starts is empty; expected at least one window start');
  checkAllocation('windowBatch', `a batch of ${batchSize} windows of seqLen ${seqLen}`, batchSize * seqLen);
  const last = windowCount(values.length, seqLen) - 1;
  const inputs = new Float32Array(seqLen * batchSize);
  const targets = new Float32Array(seqLen * batchSize);
  const next = new Float32Array(batchSize);
  const startCopy = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const s = starts[b]!;
    if (!Number.isInteger(s) || s < 0 || s > last) {
      throw new Error(`windowBatch: starts[${b}] = ${s} is out of range; expected an integer in [0, ${last}] for ${values.length} values and seqLen ${seqLen}`);
    }
    startCopy[b] = s;
    for (let t = 0; t < seqLen; t++) {
      inputs[t * batchSize + b] = values[s + t]!;
      targets[t * batchSize + b] = values[s + t + 1]!;
    }
    next[b] = values[s + seqLen]!;
  }
  return { inputs, targets, next, seqLen, batchSize, starts: startCopy };
}

export interface SeriesBatchOptions {
  seqLen: number;
  batchSize: number;
  /** Shuffles the window order when given; otherwise windows come in time order. */
  rng?: DataRng;
  /** Skip a final batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** How many batches seriesBatches yields for these options. */
export function seriesBatchCount(length: number, options: SeriesBatchOptions): number {
  const windows = windowCount(length, options.seqLen);
  return options.dropLast ? Math.floor(windows / options.batchSize) : Math.ceil(windows / options.batchSize);
}

/** One pass (epoch) over every sliding window of the series, in batches. */
export function seriesBatches(values: Float32Array, options: SeriesBatchOptions): IterableIterator<SeriesBatch> {
  const { seqLen, batchSize } = options;
  checkWindowable('seriesBatches', values.length, seqLen);
  checkPositiveInteger('seriesBatches', 'batchSize', batchSize);
  const order = new Int32Array(windowCount(values.length, seqLen));
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (options.rng) options.rng.shuffle(order);
  const count = seriesBatchCount(values.length, options);
  return (function* () {
    for (let k = 0; k < count; k++) {
      yield windowBatch(values, order.subarray(k * batchSize, (k + 1) * batchSize), seqLen);
    }
  })();
}

/**
 * Stacks equal-length signals into one time-major array [seqLen, signals.length, 1], the layout of a
 * batch of inputs (used by the denoise task, whose targets are whole clean signals).
 */
export function stackTimeMajor(signals: readonly ArrayLike<number>[]): Float32Array {
  const batch = signals.length;
  const first = signals[0];
  if (!first) throw new Error('stackTimeMajor: expected at least one signal, received 0');
  const seqLen = first.length;
  checkAllocation('stackTimeMajor', `${batch} signals of length ${seqLen}`, seqLen * batch);
  const out = new Float32Array(seqLen * batch);
  signals.forEach((signal, b) => {
    if (signal.length !== seqLen) {
      throw new Error(`stackTimeMajor: signal ${b} has length ${signal.length}; expected ${seqLen} like signal 0`);
    }
    for (let t = 0; t < seqLen; t++) out[t * batch + b] = signal[t]!;
  });
  return out;
}

export interface SineWaveOptions {
  length: number;
  /** Samples per cycle (default 25). */
  period?: number;
  amplitude?: number;
  /** Radians; by default drawn from the seed, so each seed gives a different window of the wave. */
  phase?: number;
  /** Standard deviation of added Gaussian noise (default 0). */
  noiseStd?: number;
  seed?: number;
}

/** amplitude * sin(2π t / period + phase) (+ noise), reproducible from the seed. */
export function sineWave(options: SineWaveOptions): Float32Array {
  const { length, period = 25, amplitude = 1, noiseStd = 0, seed = 0 } = options;
  checkPositiveInteger('sineWave', 'length', length);
  checkAllocation('sineWave', `length ${length}`, length);
  if (!(period > 0) || !Number.isFinite(period)) throw new Error(`sineWave: period must be a positive number, received ${period}`);
  if (!(noiseStd >= 0)) throw new Error(`sineWave: noiseStd must be >= 0, received ${noiseStd}`);
  const rng = new DataRng(seed);
  const phase = options.phase ?? rng.uniform(0, 2 * Math.PI);
  const out = new Float32Array(length);
  for (let t = 0; t < length; t++) {
    out[t] = amplitude * Math.sin((2 * Math.PI * t) / period + phase) + (noiseStd > 0 ? rng.normal(0, noiseStd) : 0);
  }
  return out;
}

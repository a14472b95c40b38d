/**
 * Series: next-value prediction of a univariate series. Values are z-scored with statistics of the
 * training part only; the model reads windows of `seqLen` values and predicts the value after each
 * one (every step of the window is trained, the classic sequence-to-sequence exercise). Validation
 * is one step ahead on the chronological tail, scored on the original scale beside the forecasts a
 * model must beat: the last value, the value one season (the data's frequency) ago, and Holt-Winters
 * fitted on the values before the scored part.
 */
import { mseLoss } from '../nn/index.js';
import { fromArray, noGrad, type Tensor } from '../tensor/index.js';
import { baselineScores, DataRng, errorInterval, fitHoltWinters, forecastScores, holtWintersOneStep, mae, rmse, seasonalNaiveHorizon, sineWave, windowBatch, windowCount, ZScore } from '../data/index.js';
import type { Score, Series, ZScoreJSON } from '../data/index.js';
import { checkChoice, checkInteger } from './checks.js';
import type { ModelConfig, SequenceModel } from './model.js';
import { buildModel, chronologicalSplit, dataRngPersistence, type Evaluation, type ExportedTaskData, type Task, type TrainingConfig } from './task.js';

/**
 * 'delta': the model outputs the change from the last input (a residual connection), so a trend that
 * leaves the training range is followed instead of flattening at the edge of tanh's range.
 */
export const SERIES_TARGETS = ['level', 'delta'] as const;
export type SeriesTarget = (typeof SERIES_TARGETS)[number];

export interface SeriesOptions {
  training: TrainingConfig;
  model: Omit<ModelConfig, 'input' | 'outputSize'>;
  target: SeriesTarget;
  /** A saved run's normalisation; fitted on the training part when absent. */
  normalization?: ZScoreJSON;
}

/** What a run records about its data, so that eval and predict can rebuild the same split. */
export interface SeriesSummary {
  name: string;
  length: number;
  frequency: number;
  splitIndex: number;
  /** First test value (absent in runs made before test parts: the series length). */
  testIndex?: number;
  normalization: ZScoreJSON;
  target: SeriesTarget;
}

/** One-step-ahead predictions over a stretch of the series, on the original scale. */
export interface SeriesPredictions {
  time: Float64Array;
  target: Float32Array;
  prediction: Float32Array;
}

/** The classic first exercise: 1,000 samples of a sine with a period of 25 samples. */
export function sineSeries(seed = 0, length = 1000, period = 25): Series {
  const values = sineWave({ length, period, seed, phase: 0 });
  return { source: 'sine', name: 'sine', time: Float64Array.from(values, (_, i) => i), values, frequency: period };
}

export interface SeriesTask extends Task {
  readonly name: 'series';
  readonly data: Series;
  readonly summary: SeriesSummary;
  /** One-step-ahead predictions on the validation part (or the whole series without one). */
  validationPredictions(): SeriesPredictions;
  /** The z-scored series and the split (docs/scaling.md). */
  exportData(): ExportedTaskData;
}

/** A trained series model with what it needs to read raw values: its window length, target and scaling. */
export interface SeriesModel {
  model: SequenceModel;
  seqLen: number;
  target: SeriesTarget;
  zscore: ZScore;
}

export function seriesModel(model: SequenceModel, summary: SeriesSummary, seqLen: number): SeriesModel {
  return { model, seqLen, target: summary.target, zscore: ZScore.fromJSON(summary.normalization) };
}

/** Model predictions (z-scale) for every step of a batch of windows: [seqLen, batch, 1]. */
function predictWindows(m: SeriesModel, inputs: Float32Array, count: number): Tensor {
  const { output } = m.model.forward({ data: inputs, steps: m.seqLen, batch: count });
  // add reads its operands only here (it saves nothing for backward), so the caller's array can be shared.
  return m.target === 'delta' ? output.add(fromArray(inputs, [m.seqLen, count, 1])) : output;
}

/** One-step-ahead predictions (z-scale) of zs[from..], each from the seqLen values before it. */
function oneStepAhead(m: SeriesModel, zs: Float32Array, from: number): Float32Array {
  const { seqLen } = m;
  const starts = Int32Array.from({ length: zs.length - from }, (_, i) => from - seqLen + i);
  const out = new Float32Array(starts.length);
  m.model.eval();
  noGrad(() => {
    // Chunks bound the memory of a long validation tail.
    for (let k = 0; k < starts.length; k += 512) {
      const chunk = starts.subarray(k, k + 512);
      const b = windowBatch(zs, chunk, seqLen);
      const pred = predictWindows(m, b.inputs, chunk.length).data;
      for (let i = 0; i < chunk.length; i++) out[k + i] = pred[(seqLen - 1) * chunk.length + i]!;
    }
  });
  return out;
}

/** Holt-Winters' one-step-ahead score on values[from..] and the form fitted; null scores where it does not apply. */
export interface HoltWintersBaseline {
  score: Score | null;
  form: string | null;
}

// A bound on the fit's cost, which grows with the values fitted (fitHoltWinters bounds the cost that
// grows with the period itself).
const HOLT_WINTERS_FIT_VALUES = 5000;

/** Holt-Winters fitted on the last HOLT_WINTERS_FIT_VALUES values of a history, to forecast from its end. */
function fitRecentHoltWinters(history: Float32Array, period: number): ReturnType<typeof fitHoltWinters> {
  return fitHoltWinters(history.subarray(Math.max(0, history.length - HOLT_WINTERS_FIT_VALUES)), period);
}

/**
 * Holt-Winters' one-step-ahead score on values[from..], fitted on values[..from) only (never on the
 * scored values). Only the additive trend-and-season form exists here (the one `recurrent forecast`
 * uses, initial states chosen by AICc), so a series with no season, or fewer than two seasons before
 * `from`, has none. Long histories are fitted on their last HOLT_WINTERS_FIT_VALUES values.
 */
export function holtWintersBaseline(values: Float32Array, from: number, period: number): HoltWintersBaseline {
  if (period < 2 || from < 2 * period || from >= values.length) return { score: null, form: null };
  const skip = Math.max(0, from - HOLT_WINTERS_FIT_VALUES);
  const { forecast, fit } = holtWintersOneStep(values.subarray(skip), from - skip, period);
  const actual = values.subarray(from);
  const window = skip > 0 ? `, fitted on the last ${from - skip} values before the scored part` : '';
  return { score: { rmse: rmse(forecast, actual), mae: mae(forecast, actual) }, form: `additive trend and season, ${fit.initial} initial states${window}` };
}

/**
 * Scores one-step-ahead predictions of values[from..] on the original scale, beside the naive
 * baselines and Holt-Winters (whose fit the caller may cache: it costs more than a validation pass).
 */
function scoreOneStep(m: SeriesModel, values: Float32Array, from: number, period: number, fitHoltWintersBaseline: () => HoltWintersBaseline): Evaluation {
  const zs = m.zscore.apply(values);
  const predZ = oneStepAhead(m, zs, from);
  const pred = m.zscore.invert(predZ);
  const actual = values.subarray(from);
  let loss = 0;
  for (let i = 0; i < predZ.length; i++) loss += (predZ[i]! - zs[from + i]!) ** 2;
  const baselines = baselineScores(values, from, period);
  // A seasonal naive forecast with no error at all (a pure sine whose period is the frequency) is exact
  // by construction, not a competitor: it is reported as not applicable rather than as a winner.
  const exact = baselines.seasonal !== undefined && baselines.seasonal.rmse <= 1e-9 * (baselines.naive.rmse || 1);
  // Holt-Winters reproduces such a series exactly too, so it is left out with the seasonal forecast.
  const holtWinters = exact ? { score: null, form: null } : fitHoltWintersBaseline();
  return {
    loss: loss / predZ.length,
    metrics: {
      rmse: rmse(pred, actual),
      mae: mae(pred, actual),
      rmse_last: baselines.naive.rmse,
      mae_last: baselines.naive.mae,
      rmse_seasonal: exact ? null : (baselines.seasonal?.rmse ?? null),
      mae_seasonal: exact ? null : (baselines.seasonal?.mae ?? null),
      rmse_holt_winters: holtWinters.score?.rmse ?? null,
      mae_holt_winters: holtWinters.score?.mae ?? null,
    },
    labels: { holt_winters_form: holtWinters.form },
  };
}

function checkLength(m: SeriesModel, series: Series): void {
  if (series.values.length < m.seqLen + 1) {
    throw new Error(`${series.source} has ${series.values.length} values; this model reads windows of ${m.seqLen}, so at least ${m.seqLen + 1} are needed`);
  }
}

/** Scores one-step-ahead predictions on every predictable point of a series (eval --data). */
export function evaluateSeries(m: SeriesModel, series: Series): Evaluation {
  checkLength(m, series);
  return scoreOneStep(m, series.values, m.seqLen, series.frequency, () => holtWintersBaseline(series.values, m.seqLen, series.frequency));
}

/**
 * Multi-step scores: the model forecasts values[origin..origin+horizon) from values[..origin) by
 * feeding its predictions back, beside Holt-Winters (our own fit) and the seasonal naive forecast
 * from the same history; RMSE, MAE, sMAPE and MASE for each (MASE scaled by the history's in-sample
 * seasonal naive error).
 */
export function evaluateHorizon(m: SeriesModel, series: Series, origin: number, horizon: number): Record<string, number | null> {
  checkInteger('horizon', horizon, 1, series.values.length - origin);
  const history = series.values.subarray(0, origin);
  const actual = series.values.subarray(origin, origin + horizon);
  const period = series.frequency;
  const forecasts: Record<string, ArrayLike<number> | null> = {
    '': forecastSeries(m, { ...series, values: history, time: series.time.subarray(0, origin) }, horizon),
    _holt_winters: period >= 2 && history.length >= 2 * period ? fitRecentHoltWinters(history, period).forecast(horizon) : null,
    _seasonal: period >= 2 && history.length > period ? seasonalNaiveHorizon(history, period, horizon) : null,
    _last: seasonalNaiveHorizon(history, 1, horizon),
  };
  const scalePeriod = period >= 2 && history.length > period ? period : 1;
  const out: Record<string, number | null> = { horizon };
  for (const [suffix, f] of Object.entries(forecasts)) {
    const scores = f ? forecastScores(f, actual, history, scalePeriod) : null;
    for (const key of ['rmse', 'mae', 'smape', 'mase'] as const) out[`h_${key}${suffix}`] = scores ? scores[key] : null;
  }
  return out;
}

/**
 * An interval for each step of forecastSeries' forecast, from the model's own k-step errors when it
 * forecasts from earlier points of the same series (at most `origins` of them, evenly spread). In
 * sample for a training part, so it can be too narrow: a lower bound on the uncertainty.
 */
export function forecastIntervals(m: SeriesModel, series: Series, forecast: ArrayLike<number>, coverage: number, origins = 40): { lower: Float64Array; upper: Float64Array } {
  const { values } = series;
  const horizon = forecast.length;
  const first = m.seqLen;
  const last = values.length - 2;
  const count = Math.max(0, Math.min(origins, last - first + 1));
  const starts = Array.from({ length: count }, (_, i) => (count === 1 ? last : Math.round(first + ((last - first) * i) / (count - 1))));
  const past = forecastFrom(m, values, starts, horizon);
  const errors: number[][] = Array.from({ length: horizon }, () => []);
  starts.forEach((origin, i) => {
    for (let k = 0; k < past[i]!.length; k++) errors[k]!.push(values[origin + 1 + k]! - past[i]![k]!);
  });
  const lower = new Float64Array(horizon);
  const upper = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++) {
    const { below, above } = errorInterval(errors[k]!, coverage);
    lower[k] = forecast[k]! + below;
    upper[k] = forecast[k]! + above;
  }
  return { lower, upper };
}

/**
 * forecastSeries from several points of one series at once: after each origin, as many values as
 * are known after it (at most `horizon`), each forecast from values[..origin].
 */
function forecastFrom(m: SeriesModel, values: Float32Array, origins: readonly number[], horizon: number): Float32Array[] {
  const z = m.zscore.apply(values);
  const windows = origins.map((origin) => z.subarray(origin + 1 - m.seqLen, origin + 1));
  const steps = origins.map((origin) => Math.min(horizon, values.length - 1 - origin));
  return rollOut(m, windows, steps).map((forecast) => m.zscore.invert(forecast));
}

/**
 * Feeds each prediction back as the next input, `steps[b]` times after window b (z-scale, seqLen
 * values each); returns the z-scale forecasts. The windows run as the rows of one batch, a forward
 * per step rather than one per step and window; with steps not increasing, the rows still
 * forecasting are always the first ones.
 */
function rollOut(m: SeriesModel, windows: readonly Float32Array[], steps: readonly number[]): Float32Array[] {
  const { seqLen } = m;
  const histories = windows.map((window, b) => {
    const history = new Float32Array(seqLen + steps[b]!);
    history.set(window);
    return history;
  });
  m.model.eval();
  noGrad(() => {
    for (let h = 0; h < (steps[0] ?? 0); h++) {
      const rows = steps.filter((n) => n > h).length;
      const inputs = new Float32Array(seqLen * rows);
      for (let b = 0; b < rows; b++) for (let t = 0; t < seqLen; t++) inputs[t * rows + b] = histories[b]![h + t]!;
      const predicted = predictWindows(m, inputs, rows).data;
      for (let b = 0; b < rows; b++) histories[b]![seqLen + h] = predicted[(seqLen - 1) * rows + b]!;
    }
  });
  return histories.map((history) => history.subarray(seqLen));
}

/** Forecasts `horizon` values past the end of the series by feeding each prediction back as input. */
export function forecastSeries(m: SeriesModel, series: Series, horizon: number): Float32Array {
  checkInteger('horizon', horizon, 1, 1_000_000);
  checkLength(m, series);
  const window = m.zscore.apply(series.values.subarray(series.values.length - m.seqLen));
  return m.zscore.invert(rollOut(m, [window], [horizon])[0]!);
}

export function createSeriesTask(options: SeriesOptions, data: Series): SeriesTask {
  const { training } = options;
  const target = checkChoice('target', options.target, SERIES_TARGETS);
  const { seqLen, batch } = training;
  const n = data.values.length;
  const { trainEnd: splitIndex, validationEnd: testIndex } = chronologicalSplit(n, training);
  if (splitIndex < seqLen + 1) {
    throw new Error(
      `${data.source} has ${n} values; with val-split ${training.valSplit} and test-split ${training.testSplit ?? 0} the training part has ${splitIndex}, ` +
        `but seq-len ${seqLen} needs at least ${seqLen + 1} (use a shorter --seq-len or smaller splits)`,
    );
  }
  const hasValidation = splitIndex < testIndex;
  const hasTest = testIndex < n;
  const zscore = options.normalization ? ZScore.fromJSON(options.normalization) : ZScore.fit(data.values.subarray(0, splitIndex));
  const z = zscore.apply(data.values);
  const train = z.subarray(0, splitIndex);
  const windows = windowCount(train.length, seqLen);
  const { model, optimizer, generator } = buildModel(
    { ...options.model, input: { kind: 'dense', size: 1 }, outputSize: 1 },
    training,
  );
  const rng = new DataRng(training.seed);
  const summary: SeriesSummary = { name: data.name, length: n, frequency: data.frequency, splitIndex, testIndex, normalization: zscore.toJSON(), target };

  const view: SeriesModel = { model, seqLen, target, zscore };
  const predict = (inputs: Float32Array, count: number): Tensor => predictWindows(view, inputs, count);

  // Without a validation part, the last windows of the training data stand in (and say so by hasValidation).
  const evalFrom = hasValidation ? splitIndex : seqLen;
  // Validation looks back into training values as inputs but never forward into the test part.
  const seenValues = data.values.subarray(0, testIndex);
  // Fitted once per part, on first use: validation runs many times during training.
  const holtWinters: Partial<Record<'validation' | 'test', HoltWintersBaseline>> = {};
  const holtWintersOn = (part: 'validation' | 'test', values: Float32Array, from: number) => (): HoltWintersBaseline =>
    (holtWinters[part] ??= holtWintersBaseline(values, from, data.frequency));

  return {
    name: 'series',
    model,
    optimizer,
    generator,
    data,
    summary,
    tokensPerStep: seqLen * batch,
    stepsPerEpoch: Math.ceil(windows / batch),
    hasValidation,
    hasTest,

    trainLoss() {
      model.train();
      const starts = new Int32Array(batch);
      for (let b = 0; b < batch; b++) starts[b] = rng.int(windows);
      const wb = windowBatch(train, starts, seqLen);
      return mseLoss(predict(wb.inputs, batch), fromArray(wb.targets, [seqLen, batch, 1])); // a fresh array: shared
    },

    evaluate(part = 'validation') {
      if (part === 'test') {
        if (!hasTest) throw new Error('this run holds out no test part (test-split 0)');
        return scoreOneStep(view, data.values, testIndex, data.frequency, holtWintersOn('test', data.values, testIndex));
      }
      return scoreOneStep(view, seenValues, evalFrom, data.frequency, holtWintersOn('validation', seenValues, evalFrom));
    },

    exportData() {
      return { tensors: { z: { data: z.slice(), shape: [n] } }, meta: { splitIndex, testIndex, evalFrom, target } };
    },

    validationPredictions() {
      const prediction = zscore.invert(oneStepAhead(view, z.subarray(0, testIndex), evalFrom));
      return { time: data.time.slice(evalFrom, testIndex), target: data.values.slice(evalFrom, testIndex), prediction };
    },

    ...dataRngPersistence(rng),
  };
}

/**
 * Error measures and the naive forecasts a trained model must beat to be worth anything: "tomorrow
 * equals today" and "this month equals the same month last year". Reporting them beside the model's
 * score keeps a low-looking loss honest.
 */

function checkPair(fn: string, predictions: ArrayLike<number>, targets: ArrayLike<number>): void {
  if (predictions.length !== targets.length) {
    throw new Error(`${fn}: predictions and targets differ in length: ${predictions.length} vs ${targets.length}`);
  }
  if (predictions.length === 0) throw new Error(`${fn}: expected at least one prediction, received 0`);
  for (let i = 0; i < predictions.length; i++) {
    if (!Number.isFinite(predictions[i]!) || !Number.isFinite(targets[i]!)) {
      throw new Error(`${fn}: non-finite value at index ${i} (prediction ${predictions[i]}, target ${targets[i]})`);
    }
  }
}

/** Root mean squared error. */
export function rmse(predictions: ArrayLike<number>, targets: ArrayLike<number>): number {
  checkPair('rmse', predictions, targets);
  let sum = 0;
  for (let i = 0; i < predictions.length; i++) sum += (predictions[i]! - targets[i]!) ** 2;
  return Math.sqrt(sum / predictions.length);
}

/** Mean absolute error. */
export function mae(predictions: ArrayLike<number>, targets: ArrayLike<number>): number {
  checkPair('mae', predictions, targets);
  let sum = 0;
  for (let i = 0; i < predictions.length; i++) sum += Math.abs(predictions[i]! - targets[i]!);
  return sum / predictions.length;
}

/**
 * One-step-ahead seasonal naive forecast: the prediction for values[i] is values[i - period], for
 * every i from `start` to the end. Period 1 is the plain last-value forecast.
 */
export function seasonalNaiveForecast(values: ArrayLike<number>, period: number, start = period): Float32Array {
  if (!Number.isInteger(period) || period < 1) {
    throw new Error(`seasonalNaiveForecast: period must be a positive integer, received ${period}`);
  }
  if (!Number.isInteger(start) || start < period || start > values.length) {
    throw new Error(`seasonalNaiveForecast: start must be an integer in [period, length] = [${period}, ${values.length}], received ${start}`);
  }
  const out = new Float32Array(values.length - start);
  for (let i = start; i < values.length; i++) out[i - start] = values[i - period]!;
  return out;
}

/** One-step-ahead last-value forecast for values[start..]. */
export function naiveForecast(values: ArrayLike<number>, start = 1): Float32Array {
  return seasonalNaiveForecast(values, 1, start);
}

export interface Score {
  rmse: number;
  mae: number;
}

export interface BaselineScores {
  naive: Score;
  /** Absent when the period is 1 (it would repeat `naive`) or the training part is shorter than one season. */
  seasonal?: Score;
}

/**
 * Scores both baselines on values[start..] (usually the validation part of the whole series, so the
 * forecasts may look back into the training part as a model's inputs do).
 */
export function baselineScores(values: Float32Array, start: number, period: number): BaselineScores {
  const targets = values.subarray(start);
  const naive = naiveForecast(values, start);
  const scores: BaselineScores = { naive: { rmse: rmse(naive, targets), mae: mae(naive, targets) } };
  if (period > 1 && start >= period) {
    const seasonal = seasonalNaiveForecast(values, period, start);
    scores.seasonal = { rmse: rmse(seasonal, targets), mae: mae(seasonal, targets) };
  }
  return scores;
}

/** Symmetric mean absolute percentage error, in percent (the M3/M4 definition). */
export function smape(predictions: ArrayLike<number>, targets: ArrayLike<number>): number {
  checkPair('smape', predictions, targets);
  let sum = 0;
  for (let i = 0; i < predictions.length; i++) {
    const denominator = Math.abs(predictions[i]!) + Math.abs(targets[i]!);
    sum += denominator === 0 ? 0 : (2 * Math.abs(predictions[i]! - targets[i]!)) / denominator;
  }
  return (100 * sum) / predictions.length;
}

/**
 * Mean absolute scaled error (Hyndman & Koehler 2006): the MAE divided by the in-sample MAE of the
 * one-season-ago forecast over `history`, so 1 means "as good as seasonal naive was in the past".
 */
export function mase(predictions: ArrayLike<number>, targets: ArrayLike<number>, history: ArrayLike<number>, period: number): number {
  const scale = maseScale('mase', history, period);
  if (scale === 0) throw new Error('mase: the history repeats exactly every period, so the scale is 0');
  return mae(predictions, targets) / scale;
}

/** The in-sample MAE of the one-season-ago forecast over `history`: MASE's denominator. */
function maseScale(fn: string, history: ArrayLike<number>, period: number): number {
  if (!Number.isInteger(period) || period < 1 || history.length <= period) {
    throw new Error(`${fn}: needs a history longer than the period (${period}), received ${history.length} values`);
  }
  let scale = 0;
  for (let t = period; t < history.length; t++) scale += Math.abs(history[t]! - history[t - period]!);
  return scale / (history.length - period);
}

export interface ForecastScores {
  rmse: number;
  mae: number;
  /** Percent. */
  smape: number;
  /** Null where the history repeats exactly every period (a pure sine): MASE's scale is then 0. */
  mase: number | null;
}

/** The four scores a multi-step forecast is judged by, MASE scaled over `history` at `period`. */
export function forecastScores(forecast: ArrayLike<number>, actual: ArrayLike<number>, history: ArrayLike<number>, period: number): ForecastScores {
  const scale = maseScale('forecastScores', history, period);
  const error = mae(forecast, actual);
  return { rmse: rmse(forecast, actual), mae: error, smape: smape(forecast, actual), mase: scale === 0 ? null : error / scale };
}

/** The next `horizon` values as the seasonal naive forecast sees them: the last season, repeated. */
export function seasonalNaiveHorizon(history: ArrayLike<number>, period: number, horizon: number): Float64Array {
  if (!Number.isInteger(period) || period < 1 || history.length < period) {
    throw new Error(`seasonalNaiveHorizon: needs at least one season (${period} values), received ${history.length}`);
  }
  return Float64Array.from({ length: horizon }, (_, k) => history[history.length - period + (k % period)]!);
}

/**
 * A central interval around a forecast from past errors at one horizon step: the spread of the errors
 * between their (1 - coverage)/2 and (1 + coverage)/2 quantiles, centred on their median, so the
 * point forecast always lies inside. No errors: a zero-width interval.
 */
export function errorInterval(errors: ArrayLike<number>, coverage: number): { below: number; above: number } {
  if (!(coverage > 0 && coverage < 1)) throw new Error(`errorInterval: coverage must be in (0, 1), received ${coverage}`);
  if (errors.length === 0) return { below: 0, above: 0 };
  const sorted = Float64Array.from(errors).sort();
  const quantile = (q: number): number => {
    const at = q * (sorted.length - 1);
    const lo = Math.floor(at);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
  };
  const centre = quantile(0.5);
  return { below: quantile((1 - coverage) / 2) - centre, above: quantile((1 + coverage) / 2) - centre };
}

/**
 * Multi-step forecasts in the spirit of Smyl's exponential-smoothing + RNN hybrid (M4, 2020): Holt-
 * Winters supplies the level, trend and season; a small GRU reads the last window of deseasonalised,
 * level-relative values and predicts, for every step of the horizon at once, the correction to
 * Holt-Winters' forecast. Direct multi-step output means errors do not compound through fed-back
 * predictions. Training uses a window ending at every point of the history. How long to train (and
 * whether the correction helps at all) is chosen on the last `horizon` values of the history, held
 * out; the final models are then retrained on the whole history for the chosen number of steps and
 * averaged over seeds.
 */
import { GRU, Linear, mseLoss } from '../nn/index.js';
import { Adam } from '../optim/index.js';
import { Generator, noGrad, tensor } from '../tensor/index.js';
import { errorInterval, fitHoltWinters, holtWintersPath, rmse, ZScore } from '../data/index.js';
import { checkInteger } from './checks.js';

export interface HybridForecastOptions {
  horizon: number;
  /** Values per season (12 for monthly data). */
  period: number;
  /** Values the GRU reads before each forecast origin. Default 2 * period. */
  window?: number;
  hidden?: number;
  /** Most training steps tried; validation picks a multiple of `evalEvery` up to it (or none). */
  maxSteps?: number;
  evalEvery?: number;
  /** Models averaged. */
  seeds?: number;
  seed?: number;
  lr?: number;
  /** Central coverage of the prediction interval, e.g. 0.8. */
  coverage?: number;
}

export interface HybridForecast {
  forecast: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  /** Holt-Winters alone, fitted on the same history. */
  holtWinters: Float64Array;
  /** Training steps chosen on validation; 0 means the correction did not help there and was left out. */
  steps: number;
  validation: { holtWintersRmse: number; hybridRmse: number };
}

interface Prepared {
  history: Float32Array;
  scale: number;
  /** [window, origins, 1] time-major inputs and [origins, horizon] targets for every training origin. */
  inputs: Float32Array;
  targets: Float32Array;
  origins: number;
  /** Inputs for the window ending at the last value. */
  lastInputs: Float32Array;
  /** Holt-Winters forecasts from every origin, [history.length, horizon]. */
  baseline: Float64Array;
}

function prepare(history: Float32Array, o: Required<HybridForecastOptions>): Prepared {
  const { horizon, period, window } = o;
  const n = history.length;
  const path = holtWintersPath(history, period, fitHoltWinters(history, period).params, horizon);
  const scale = ZScore.fit(history).std;
  const windowAt = (end: number, into: Float32Array, stride: number, column: number): void => {
    for (let i = 0; i < window; i++) {
      const t = end - window + 1 + i;
      into[i * stride + column] = (history[t]! - path.seasonUsed[t]! - path.level[end]!) / scale;
    }
  };
  const first = window - 1;
  const origins = Math.max(0, n - horizon - first);
  const inputs = new Float32Array(window * origins);
  const targets = new Float32Array(origins * horizon);
  for (let b = 0; b < origins; b++) {
    const end = first + b;
    windowAt(end, inputs, origins, b);
    for (let k = 0; k < horizon; k++) targets[b * horizon + k] = (history[end + 1 + k]! - path.forecasts[end * horizon + k]!) / scale;
  }
  const lastInputs = new Float32Array(window);
  windowAt(n - 1, lastInputs, 1, 0);
  return { history, scale, inputs, targets, origins, lastInputs, baseline: path.forecasts };
}

/** One GRU + linear head trained on every origin; `onEval` sees the forecast every evalEvery steps. */
function trainCorrection(p: Prepared, o: Required<HybridForecastOptions>, steps: number, seed: number, onEval?: (step: number, forecast: Float64Array) => void) {
  const { window, hidden, horizon } = o;
  const generator = new Generator(seed);
  const gru = new GRU({ inputSize: 1, hiddenSize: hidden, generator });
  const head = new Linear(hidden, horizon, { generator });
  const optimizer = new Adam([...gru.parameters(), ...head.parameters()], { lr: o.lr });
  const x = tensor(p.inputs, [window, p.origins, 1]);
  const y = tensor(p.targets, [p.origins, horizon]);
  const last = p.history.length - 1;
  const corrections = (inputs: Float32Array, count: number): Float32Array =>
    noGrad(() => Float32Array.from(head.forward(gru.forward(tensor(inputs, [window, count, 1]))[1].reshape([count, hidden])).data));
  const forecast = (): Float64Array => {
    const c = corrections(p.lastInputs, 1);
    return Float64Array.from({ length: horizon }, (_, k) => p.baseline[last * horizon + k]! + c[k]! * p.scale);
  };
  for (let step = 1; step <= steps; step++) {
    const [, h] = gru.forward(x);
    const loss = mseLoss(head.forward(h.reshape([p.origins, hidden])), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    if (onEval && step % o.evalEvery === 0) onEval(step, forecast());
  }
  const result = { forecast: forecast() };
  gru.dispose();
  head.dispose();
  optimizer.dispose();
  return result;
}

const mean = (rows: readonly Float64Array[]): Float64Array =>
  Float64Array.from(rows[0]!, (_, k) => rows.reduce((sum, r) => sum + r[k]!, 0) / rows.length);

function withDefaults(options: HybridForecastOptions): Required<HybridForecastOptions> {
  const o = { window: 2 * options.period, hidden: 16, maxSteps: 300, evalEvery: 25, seeds: 3, seed: 0, lr: 0.005, coverage: 0.8, ...options };
  checkInteger('horizon', o.horizon, 1, 10_000);
  checkInteger('period', o.period, 2, 10_000);
  checkInteger('window', o.window, 1, 10_000);
  checkInteger('hidden', o.hidden, 1, 4096);
  checkInteger('maxSteps', o.maxSteps, 0, 1_000_000);
  checkInteger('evalEvery', o.evalEvery, 1, 1_000_000);
  checkInteger('seeds', o.seeds, 1, 100);
  if (!(o.coverage > 0 && o.coverage < 1)) throw new Error(`hybridForecast: coverage must be in (0, 1), received ${o.coverage}`);
  return o;
}

export function hybridForecast(history: Float32Array, options: HybridForecastOptions): HybridForecast {
  const o = withDefaults(options);
  const { horizon } = o;
  const fitLength = history.length - horizon;
  if (fitLength < 2 * o.period) {
    throw new Error(`hybridForecast: a history of ${history.length} values is too short for horizon ${horizon} and period ${o.period}; Holt-Winters needs two seasons before the held-out ${horizon}, so at least ${2 * o.period + horizon} values`);
  }

  // Choose the number of steps on the held-out tail, by the seeds' average forecast.
  const validation = history.subarray(fitLength);
  const fitPart = prepare(history.subarray(0, fitLength), o);
  const holtWintersValidation = fitPart.baseline.subarray((fitLength - 1) * horizon, fitLength * horizon);
  const curves: Float64Array[][] = [];
  // Too short for one window before the held-out part: nothing to learn a correction from.
  for (let s = 0; s < (fitPart.origins > 0 ? o.seeds : 0); s++) {
    const curve: Float64Array[] = [];
    trainCorrection(fitPart, o, o.maxSteps, o.seed + s, (_, f) => curve.push(f));
    curves.push(curve);
  }
  let steps = 0;
  const holtWintersRmse = rmse(holtWintersValidation, validation);
  let hybridRmse = holtWintersRmse;
  curves[0]?.forEach((_, i) => {
    const score = rmse(mean(curves.map((c) => c[i]!)), validation);
    if (score < hybridRmse) [hybridRmse, steps] = [score, (i + 1) * o.evalEvery];
  });

  // Retrain on the whole history. The interval at step k comes from the spread of Holt-Winters' own
  // k-step errors over the history (every origin after its first season).
  const all = prepare(history, o);
  const last = history.length - 1;
  const holtWinters = all.baseline.slice(last * horizon, (last + 1) * horizon);
  const runs = steps > 0 ? Array.from({ length: o.seeds }, (_, s) => trainCorrection(all, o, steps, o.seed + 1000 + s)) : [];
  const forecast = runs.length > 0 ? mean(runs.map((r) => r.forecast)) : holtWinters.slice();
  const lower = new Float64Array(horizon);
  const upper = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++) {
    const errors: number[] = [];
    for (let t = o.period; t + k + 1 < history.length; t++) errors.push(history[t + k + 1]! - all.baseline[t * horizon + k]!);
    const { below, above } = errorInterval(errors, o.coverage);
    lower[k] = forecast[k]! + below;
    upper[k] = forecast[k]! + above;
  }
  return { forecast, lower, upper, holtWinters, steps, validation: { holtWintersRmse, hybridRmse } };
}

/**
 * Holt-Winters exponential smoothing with additive trend and additive season: the baseline a
 * forecaster reaches for first, and the one a recurrent model's multi-step forecast must beat.
 * The smoother and its fit follow statsmodels' `ExponentialSmoothing(trend='add', seasonal='add')`
 * (the recursion, its parameter bounds and the "estimated" initial states), so figures can be checked
 * against it.
 */
import { minimizeNelderMead } from './nelder-mead.js';

export interface HoltWintersParams {
  /** Level smoothing, in [0, 1]. */
  alpha: number;
  /** Trend smoothing, in [0, alpha]. */
  beta: number;
  /** Season smoothing, in [0, 1 - alpha]. */
  gamma: number;
  /** Level before the first value. */
  level: number;
  /** Trend before the first value. */
  trend: number;
  /** One seasonal offset per position in the period; season[i] applies to values[i]. */
  season: ArrayLike<number>;
}

export interface HoltWintersState {
  /** One-step-ahead predictions of every value, each made before seeing it. */
  fitted: Float64Array;
  /** Sum of squared one-step errors. */
  sse: number;
  level: number;
  trend: number;
  /** The next period's seasonal offsets: season[k] applies to the k-th value after the end. */
  season: Float64Array;
}

function checkSeries(fn: string, values: ArrayLike<number>, period: number): void {
  if (!Number.isInteger(period) || period < 2) throw new Error(`${fn}: period must be an integer >= 2, received ${period}`);
  if (values.length < 2 * period) {
    throw new Error(`${fn}: needs at least two full seasons (${2 * period} values for period ${period}), received ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`${fn}: value ${i} is ${values[i]}; expected a finite number`);
  }
}

/**
 * The smoother's recursion. `observe` sees each value's one-step prediction and, after the update,
 * the new level and trend and the ring of seasonal offsets (slot t % period holds the one for time t).
 */
function smooth(
  values: ArrayLike<number>,
  period: number,
  params: HoltWintersParams,
  observe: (t: number, predicted: number, seasonUsed: number, level: number, trend: number, season: Float64Array) => void,
): void {
  if (params.season.length !== period) {
    throw new Error(`Holt-Winters: season must hold ${period} offsets (one per position in the period), received ${params.season.length}`);
  }
  const { alpha, beta, gamma } = params;
  const season = Float64Array.from(params.season);
  let level = params.level;
  let trend = params.trend;
  for (let t = 0; t < values.length; t++) {
    const y = values[t]!;
    const slot = t % period;
    const base = level + trend;
    const seasonUsed = season[slot]!;
    const newLevel = alpha * (y - seasonUsed) + (1 - alpha) * base;
    trend = beta * (newLevel - level) + (1 - beta) * trend;
    season[slot] = gamma * (y - base) + (1 - gamma) * seasonUsed;
    level = newLevel;
    observe(t, base + seasonUsed, seasonUsed, level, trend, season);
  }
}

/** Runs the smoother over `values` with the given parameters and initial states. */
export function holtWintersFilter(values: ArrayLike<number>, period: number, params: HoltWintersParams): HoltWintersState {
  const fitted = new Float64Array(values.length);
  let sse = 0;
  const end = { level: params.level, trend: params.trend, season: new Float64Array(period) };
  smooth(values, period, params, (t, predicted, _used, level, trend, season) => {
    fitted[t] = predicted;
    sse += (values[t]! - predicted) ** 2;
    if (t === values.length - 1) {
      Object.assign(end, { level, trend });
      for (let k = 0; k < period; k++) end.season[k] = season[(values.length + k) % period]!;
    }
  });
  return { fitted, sse, ...end };
}

/** What the smoother knew at every time step, for models that learn from its states. */
export interface HoltWintersPath {
  /** level[t]: the level after seeing values[t]. */
  level: Float64Array;
  /** seasonUsed[t]: the seasonal offset the smoother assumed for values[t] before seeing it. */
  seasonUsed: Float64Array;
  /** [values.length, horizon]: row t holds the forecasts of values[t+1..t+horizon] made after values[t]. */
  forecasts: Float64Array;
}

export function holtWintersPath(values: ArrayLike<number>, period: number, params: HoltWintersParams, horizon: number): HoltWintersPath {
  if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`holtWintersPath: horizon must be a positive integer, received ${horizon}`);
  const n = values.length;
  const level = new Float64Array(n);
  const seasonUsed = new Float64Array(n);
  const forecasts = new Float64Array(n * horizon);
  smooth(values, period, params, (t, _predicted, used, l, b, season) => {
    level[t] = l;
    seasonUsed[t] = used;
    for (let k = 1; k <= horizon; k++) forecasts[t * horizon + k - 1] = l + k * b + season[(t + 1 + ((k - 1) % period)) % period]!;
  });
  return { level, seasonUsed, forecasts };
}

/**
 * The point forecasts of the `horizon` values after the end of the filtered series.
 * Parity note: every period-th step uses the seasonal offset updated by the last value (Hyndman &
 * Athanasopoulos's formula); statsmodels 0.13 uses the offset from one season earlier there, so the
 * two agree on the other steps only.
 */
export function holtWintersForecast(state: HoltWintersState, horizon: number): Float64Array {
  if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`holtWintersForecast: horizon must be a positive integer, received ${horizon}`);
  const out = new Float64Array(horizon);
  const period = state.season.length;
  for (let k = 0; k < horizon; k++) out[k] = state.level + (k + 1) * state.trend + state.season[k % period]!;
  return out;
}

export interface HoltWintersFit {
  params: HoltWintersParams;
  /** Which initial states the fit estimated ('auto' resolved). */
  initial: 'estimated' | 'simple';
  state: HoltWintersState;
  /** Point forecasts of the next `horizon` values. */
  forecast(horizon: number): Float64Array;
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * Smoothing parameters live in an unbounded space for the search and map into statsmodels' bounds:
 * alpha in (0, 1), beta in (0, alpha), gamma in (0, 1 - alpha).
 */
function decode(x: ArrayLike<number>, period: number): HoltWintersParams {
  const alpha = logistic(x[0]!);
  return {
    alpha,
    beta: alpha * logistic(x[1]!),
    gamma: (1 - alpha) * logistic(x[2]!),
    level: x[3]!,
    trend: x[4]!,
    season: Array.from({ length: period }, (_, i) => x[5 + i]!),
  };
}

/** statsmodels' "simple" initial states (Hyndman & Athanasopoulos, section 7.6): the first two seasons. */
function simpleInitialStates(values: ArrayLike<number>, period: number): number[] {
  let level = 0;
  for (let i = 0; i < period; i++) level += values[i]! / period;
  let trend = 0;
  for (let i = 0; i < period; i++) trend += (values[period + i]! - values[i]!) / (period * period);
  return [level, trend, ...Array.from({ length: period }, (_, i) => values[i]! - level)];
}

/** Which initial states a fit estimates. */
export type HoltWintersInitial = 'estimated' | 'simple' | 'auto';

export interface HoltWintersFitOptions {
  /**
   * 'estimated': level, trend and seasonal offsets fitted with the smoothing parameters
   * (statsmodels' default; period + 5 parameters). 'simple': statsmodels' "simple" states from the
   * first two seasons, only the 3 smoothing parameters fitted. 'auto' (default): the one with the
   * lower AICc, the criterion Hyndman et al. use to choose exponential-smoothing models; on a short
   * series the period + 5 free parameters of 'estimated' overfit (48 monthly values: 17 parameters).
   * The search over period + 5 parameters costs about the square of that times the series' length, so
   * 'auto' estimates states only for periods up to AUTO_ESTIMATED_PERIOD_MAX (simple above), and
   * 'estimated' is refused above ESTIMATED_PERIOD_MAX instead of running for hours.
   */
  initial?: HoltWintersInitial;
}

/** Longest period whose initial states 'auto' considers estimating (hourly data over a day: 24). */
export const AUTO_ESTIMATED_PERIOD_MAX = 24;
/** Longest period 'estimated' takes (weekly data over a year: 52, about ten seconds a fit). */
export const ESTIMATED_PERIOD_MAX = 52;

/** Minimises `sse` over x from `start`, restarting Nelder-Mead until a round no longer improves. */
function leastSquares(sse: (x: ArrayLike<number>) => number, start: number[], steps: number[]): { x: number[]; sse: number } {
  let best = start;
  let bestSse = sse(start);
  for (let round = 0; round < 20; round++) {
    const result = minimizeNelderMead(sse, best, { steps, maxEvaluations: 4000 * best.length });
    const improved = result.value < bestSse * (1 - 1e-9);
    if (result.value <= bestSse) [best, bestSse] = [result.x, result.value];
    if (!improved) break;
  }
  return { x: best, sse: bestSse };
}

/** Corrected Akaike information criterion of a least-squares fit with k parameters to n values. */
function aicc(sse: number, n: number, k: number): number {
  const penalty = n - k - 1 > 0 ? (2 * k * (k + 1)) / (n - k - 1) : Infinity;
  return n * Math.log(sse / n) + 2 * k + penalty;
}

/**
 * Fits by least squares on the one-step errors: a coarse grid over the smoothing parameters with the
 * simple initial states, then Nelder-Mead searches (see HoltWintersFitOptions for which states are
 * fitted).
 */
export function fitHoltWinters(values: ArrayLike<number>, period: number, options: HoltWintersFitOptions = {}): HoltWintersFit {
  checkSeries('fitHoltWinters', values, period);
  const initial = options.initial ?? 'auto';
  if (!['estimated', 'simple', 'auto'].includes(initial)) {
    throw new Error(`fitHoltWinters: initial must be 'estimated', 'simple' or 'auto', received ${JSON.stringify(initial)}`);
  }
  if (initial === 'estimated' && period > ESTIMATED_PERIOD_MAX) {
    throw new Error(`fitHoltWinters: initial 'estimated' fits period + 5 = ${period + 5} parameters, which takes hours; it is offered up to period ${ESTIMATED_PERIOD_MAX}, received period ${period} (use initial 'simple' or 'auto')`);
  }
  const estimate = initial === 'estimated' || (initial === 'auto' && period <= AUTO_ESTIMATED_PERIOD_MAX);
  const states = simpleInitialStates(values, period);
  const sseOf = (x: ArrayLike<number>): number => {
    const sse = holtWintersFilter(values, period, decode(x, period)).sse;
    return Number.isFinite(sse) ? sse : Number.MAX_VALUE;
  };
  let start: number[] = [];
  let startSse = Infinity;
  for (const alpha of [0.05, 0.2, 0.5, 0.8]) {
    for (const betaShare of [0.02, 0.2]) {
      for (const gammaShare of [0.05, 0.3, 0.7]) {
        const x = [logit(alpha), logit(betaShare), logit(gammaShare), ...states];
        const sse = sseOf(x);
        if (sse < startSse) [start, startSse] = [x, sse];
      }
    }
  }
  const candidates: { x: number[]; sse: number; k: number }[] = [];
  if (initial !== 'estimated') {
    const fixed = start.slice(3);
    const smoothing = leastSquares((x) => sseOf([...Array.from(x), ...fixed]), start.slice(0, 3), [1, 1, 1]);
    candidates.push({ x: [...smoothing.x, ...fixed], sse: smoothing.sse, k: 3 });
  }
  if (estimate) {
    let spread = 0;
    for (let i = 0; i < values.length; i++) spread = Math.max(spread, Math.abs(values[i]! - states[0]!));
    const scale = Math.max(spread, 1e-8) * 0.1;
    const steps = start.map((_, i) => (i < 3 ? 1 : i === 4 ? scale / period : scale));
    const all = leastSquares(sseOf, start, steps);
    candidates.push({ ...all, k: start.length });
  }
  const chosen = candidates.reduce((a, b) => (aicc(b.sse, values.length, b.k) < aicc(a.sse, values.length, a.k) ? b : a));
  const params = decode(chosen.x, period);
  const state = holtWintersFilter(values, period, params);
  return { params, state, initial: chosen.k === 3 ? 'simple' : 'estimated', forecast: (horizon) => holtWintersForecast(state, horizon) };
}

export interface HoltWintersOneStep {
  /** One-step-ahead forecasts of values[start..], each made before its value is seen. */
  forecast: Float64Array;
  /** The fit on values[..start): the scored values never reach it. */
  fit: HoltWintersFit;
}

/**
 * Holt-Winters as a one-step-ahead competitor on values[start..]: the parameters (and initial states)
 * are fitted on the values before `start` only, then the filter runs on through the scored values,
 * updating its state with each actual value as a model's one-step predictions do.
 */
export function holtWintersOneStep(values: ArrayLike<number>, start: number, period: number, options: HoltWintersFitOptions = {}): HoltWintersOneStep {
  if (!Number.isInteger(start) || start < 0 || start >= values.length) {
    throw new Error(`holtWintersOneStep: start must be an integer in [0, ${values.length - 1}] (the first scored value), received ${start}`);
  }
  const fit = fitHoltWinters(Float64Array.from({ length: start }, (_, i) => values[i]!), period, options);
  checkSeries('holtWintersOneStep', values, period);
  return { forecast: holtWintersFilter(values, period, fit.params).fitted.slice(start), fit };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fitHoltWinters, holtWintersFilter, holtWintersForecast } from '../src/data/exponential-smoothing.js';
import { minimizeNelderMead } from '../src/data/nelder-mead.js';
import { readSeriesFile } from '../src/data/files.js';

// Made by tools/make_holt_winters_fixtures.py with statsmodels.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/holt-winters.json', import.meta.url), 'utf8'));

test('the smoother reproduces statsmodels fitted values and SSE for fixed parameters and initial states', () => {
  const r = fixture.recursion;
  const state = holtWintersFilter(r.values, r.period, r.params);
  for (let i = 0; i < r.fitted.length; i++) assert.ok(Math.abs(state.fitted[i]! - r.fitted[i]) < 1e-9, `fitted[${i}]`);
  assert.ok(Math.abs(state.sse - r.sse) < 1e-9 * r.sse);
});

test('forecasts follow statsmodels except on each period-th step, where they use the last seasonal update', () => {
  const r = fixture.recursion;
  const state = holtWintersFilter(r.values, r.period, r.params);
  const forecast = holtWintersForecast(state, 30);
  let differing = 0;
  for (let k = 0; k < 30; k++) {
    if ((k + 1) % r.period !== 0) {
      assert.ok(Math.abs(forecast[k]! - r.forecast[k]) < 1e-9, `step ${k + 1}`);
    } else {
      // By hand: the offset for the last value's position after its own update.
      const n = r.values.length;
      const before = holtWintersFilter(r.values.slice(0, n - 1), r.period, r.params);
      const base = before.level + before.trend;
      const updated = r.params.gamma * (r.values[n - 1] - base) + (1 - r.params.gamma) * before.season[0]!;
      assert.ok(Math.abs(forecast[k]! - (state.level + (k + 1) * state.trend + updated)) < 1e-9);
      if (Math.abs(forecast[k]! - r.forecast[k]) > 1e-6) differing++;
    }
  }
  assert.equal(differing, 2, 'statsmodels reuses the stale offset at steps 12 and 24');
});

test('the fit reaches statsmodels least squares or better on six monthly series, with similar holdout accuracy', () => {
  let logRatio = 0;
  for (const c of fixture.fits) {
    const series = readSeriesFile(`data/series/${c.name}.csv`);
    const train = series.values.subarray(0, c.trainLength);
    const test = series.values.subarray(c.trainLength);
    const fit = fitHoltWinters(train, c.period, { initial: 'estimated' });
    // Float32 values (as the tasks hold them) move the optimum by a few parts in a million.
    assert.ok(fit.state.sse <= c.sse * (1 + 1e-4), `${c.name}: SSE ${fit.state.sse} vs statsmodels ${c.sse}`);
    const { alpha, beta, gamma } = fit.params;
    assert.ok(alpha >= 0 && alpha <= 1 && beta >= 0 && beta <= alpha && gamma >= 0 && gamma <= 1 - alpha, `${c.name}: bounds`);
    const forecast = fit.forecast(c.holdout);
    let sum = 0;
    for (let k = 0; k < c.holdout; k++) sum += (forecast[k]! - test[k]!) ** 2;
    logRatio += Math.log(Math.sqrt(sum / c.holdout) / c.rmse);
  }
  // Lower in-sample SSE does not always forecast better (USAccDeaths has 48 values for 17 parameters),
  // but over the six the holdout error must stay close to statsmodels'.
  const geometricMean = Math.exp(logRatio / fixture.fits.length);
  assert.ok(geometricMean < 1.06, `geometric-mean holdout RMSE ratio to statsmodels ${geometricMean}`);
});

test('fitHoltWinters refuses series shorter than two seasons and non-finite values', () => {
  assert.throws(() => fitHoltWinters(new Float64Array(23), 12), /at least two full seasons \(24 values for period 12\), received 23/);
  const values = Float64Array.from({ length: 30 }, (_, i) => i);
  values[7] = NaN;
  assert.throws(() => fitHoltWinters(values, 12), /value 7 is NaN/);
  assert.throws(() => fitHoltWinters(values, 1), /period must be an integer >= 2, received 1/);
});

test('Nelder-Mead finds the minimum of a shifted quadratic and of Rosenbrock', () => {
  const quadratic = minimizeNelderMead((x) => (x[0]! - 3) ** 2 + 10 * (x[1]! + 1) ** 2, [0, 0], { steps: [1, 1], maxEvaluations: 2000 });
  assert.ok(Math.abs(quadratic.x[0]! - 3) < 1e-5 && Math.abs(quadratic.x[1]! + 1) < 1e-5, String(quadratic.x));
  const rosenbrock = minimizeNelderMead((x) => 100 * (x[1]! - x[0]! ** 2) ** 2 + (1 - x[0]!) ** 2, [-1.2, 1], { steps: [0.5, 0.5], maxEvaluations: 5000 });
  assert.ok(rosenbrock.value < 1e-8 && Math.abs(rosenbrock.x[0]! - 1) < 1e-3, `${rosenbrock.value} at ${rosenbrock.x}`);
});

test("'auto' chooses the initial states by AICc: fixed ones on 48 values, fitted ones on long series", () => {
  let logRatio = 0;
  const chosen: Record<string, string> = {};
  for (const c of fixture.fits) {
    const series = readSeriesFile(`data/series/${c.name}.csv`);
    const fit = fitHoltWinters(series.values.subarray(0, c.trainLength), c.period);
    chosen[c.name] = fit.initial;
    const forecast = fit.forecast(c.holdout);
    let sum = 0;
    for (let k = 0; k < c.holdout; k++) sum += (forecast[k]! - series.values[c.trainLength + k]!) ** 2;
    logRatio += Math.log(Math.sqrt(sum / c.holdout) / c.rmse);
  }
  assert.equal(chosen.USAccDeaths, 'simple');
  assert.equal(chosen.ldeaths, 'simple');
  assert.equal(chosen.co2, 'estimated');
  assert.equal(chosen.nottem, 'estimated');
  const geometricMean = Math.exp(logRatio / fixture.fits.length);
  console.log(`auto: geometric-mean holdout RMSE ratio to statsmodels ${geometricMean.toFixed(4)}`);
  assert.ok(geometricMean < 1.02, `geometric-mean holdout RMSE ratio to statsmodels ${geometricMean}`);
});

test("long periods: 'auto' keeps the simple initial states and 'estimated' is refused, instead of a fit that runs for hours", () => {
  const daily = Float64Array.from({ length: 3 * 365 }, (_, i) => 10 + 0.01 * i + 3 * Math.sin((2 * Math.PI * i) / 365) + 0.5 * Math.sin(i * 12.9898));
  const auto = fitHoltWinters(daily, 365);
  assert.equal(auto.initial, 'simple');
  assert.deepEqual(auto.params, fitHoltWinters(daily, 365, { initial: 'simple' }).params);
  assert.throws(() => fitHoltWinters(daily, 365, { initial: 'estimated' }), /initial 'estimated' fits period \+ 5 = 370 parameters.*up to period 52, received period 365/);
});

// The one-step-ahead Holt-Winters baseline of series evaluation: fitted on the values before the
// scored part only, then filtered through it one step at a time, as the model's predictions are made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { baselineScores, holtWintersOneStep, type Series } from '../src/data/index.js';
import { createSeriesTask, holtWintersBaseline, type SeriesOptions } from '../src/tasks/index.js';

/** Linear trend plus a fixed monthly pattern, no noise: additive Holt-Winters' own model. */
function trendAndSeason(length: number): Float32Array {
  const pattern = [3, 1, -2, -4, -1, 0, 2, 5, 1, -3, -2, 0];
  return Float32Array.from({ length }, (_, t) => 50 + 0.4 * t + pattern[t % 12]!);
}

test('noise-free trend and season: Holt-Winters one step ahead is near exact and beats the naive forecasts', () => {
  const values = trendAndSeason(120);
  const start = 96;
  const hw = holtWintersBaseline(values, start, 12);
  const naive = baselineScores(values, start, 12);
  assert.ok(hw.score, 'a monthly series with eight seasons before the scored part has a Holt-Winters baseline');
  assert.ok(hw.score.rmse < 1e-3, `Holt-Winters RMSE ${hw.score.rmse} should be near 0`);
  assert.ok(hw.score.mae <= hw.score.rmse);
  assert.ok(naive.naive.rmse > 2, `last-value RMSE ${naive.naive.rmse}`);
  // The seasonal naive forecast misses one season of trend on every step: 12 * 0.4.
  assert.ok(Math.abs(naive.seasonal!.rmse - 4.8) < 1e-4 && hw.score.rmse < naive.seasonal!.rmse / 1000);
  assert.match(hw.form!, /^additive trend and season, (simple|estimated) initial states$/);
});

test('the fit never reads the scored values: changing them leaves the parameters and the first forecast unchanged', () => {
  const values = trendAndSeason(120);
  const start = 96;
  const changed = values.slice();
  for (let t = start; t < changed.length; t++) changed[t] = changed[t]! * 1.5 - 7 * Math.cos(t);
  const a = holtWintersOneStep(values, start, 12);
  const b = holtWintersOneStep(changed, start, 12);
  assert.deepEqual(b.fit.params, a.fit.params);
  assert.equal(b.fit.initial, a.fit.initial);
  assert.equal(a.forecast.length, 24);
  assert.equal(b.forecast[0], a.forecast[0], 'the first scored step is forecast from the values before it only');
  // Later steps do see the earlier (changed) actual values: the filter updates its state with each one.
  assert.notEqual(b.forecast[1], a.forecast[1]);
});

test('holtWintersOneStep checks its arguments and the baseline is absent where it cannot apply', () => {
  const values = trendAndSeason(60);
  assert.throws(() => holtWintersOneStep(values, 60, 12), /start must be an integer in \[0, 59\].*received 60/);
  assert.throws(() => holtWintersOneStep(values, 20, 12), /needs at least two full seasons \(24 values for period 12\), received 20/);
  assert.deepEqual(holtWintersBaseline(values, 20, 12), { score: null, form: null }, 'fewer than two seasons before the scored part');
  assert.deepEqual(holtWintersBaseline(values, 40, 1), { score: null, form: null }, 'no season');
});

test('long periods fit the simple initial states only, and long histories their last 5000 values', () => {
  const wave = (length: number): Float32Array => Float32Array.from({ length }, (_, t) => 10 + 0.01 * t + Math.sin(t / 58) + 0.3 * Math.cos(t * 1.7));
  const daily = holtWintersBaseline(wave(1500), 1350, 365);
  assert.ok(daily.score && Number.isFinite(daily.score.rmse));
  assert.equal(daily.form, 'additive trend and season, simple initial states');
  const long = wave(6200);
  const fitted = holtWintersBaseline(long, 6000, 12);
  assert.match(fitted.form!, /, fitted on the last 5000 values before the scored part$/);
  // Values before the window do not matter.
  const earlier = long.slice();
  earlier.fill(-1e3, 0, 1000);
  assert.deepEqual(holtWintersBaseline(earlier, 6000, 12), fitted);
});

function options(): SeriesOptions {
  return {
    training: { seed: 1, optimizer: 'adam', lr: 0.01, clip: 5, batch: 16, seqLen: 20, valSplit: 0.2, testSplit: 0.1 },
    model: { cell: 'gru', hiddenSize: 8, numLayers: 1, dropout: 0, bidirectional: false },
    target: 'level',
  };
}

test('series evaluation scores Holt-Winters on the same steps as the model, fitted before each part', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  const task = createSeriesTask(options(), series);
  const { splitIndex, testIndex } = task.summary;
  const seen = series.values.subarray(0, testIndex!);
  const validation = task.evaluate('validation');
  const expectedValidation = holtWintersBaseline(seen, splitIndex, 12);
  assert.equal(validation.metrics.rmse_holt_winters, expectedValidation.score!.rmse);
  assert.equal(validation.metrics.mae_holt_winters, expectedValidation.score!.mae);
  assert.equal(validation.labels?.holt_winters_form, expectedValidation.form);
  const testPart = task.evaluate('test');
  assert.equal(testPart.metrics.rmse_holt_winters, holtWintersBaseline(series.values, testIndex!, 12).score!.rmse);
  assert.notEqual(testPart.metrics.rmse_holt_winters, validation.metrics.rmse_holt_winters);

  // A different test part changes neither the validation baseline nor the test part's fit (only its scores).
  const values = series.values.slice();
  for (let t = testIndex!; t < values.length; t++) values[t] = values[t]! + 100;
  const other: Series = { ...series, values };
  const otherTask = createSeriesTask(options(), other);
  assert.equal(otherTask.evaluate('validation').metrics.rmse_holt_winters, validation.metrics.rmse_holt_winters);
  assert.deepEqual(holtWintersOneStep(values, testIndex!, 12).fit.params, holtWintersOneStep(series.values, testIndex!, 12).fit.params);
});

test('yearly data has no Holt-Winters baseline: null scores and form', () => {
  const values = Float32Array.from({ length: 60 }, (_, i) => 100 + i + (i % 3));
  const series: Series = { source: 'ramp', name: 'ramp', time: Float64Array.from(values, (_, i) => 1900 + i), values, frequency: 1 };
  const e = createSeriesTask(options(), series).evaluate('test');
  assert.equal(e.metrics.rmse_holt_winters, null);
  assert.equal(e.metrics.mae_holt_winters, null);
  assert.equal(e.labels?.holt_winters_form, null);
});

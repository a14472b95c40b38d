// The series recipe: a sine is learned within a few hundred steps; a real series is split in time
// order with the normalisation fitted on the training part only; evaluation and forecasts are on the
// original scale, beside the naive baselines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { baselineScores, errorInterval, parseSeriesCsv } from '../src/data/index.js';
import { createSeriesTask, evaluateSeries, forecastIntervals, forecastSeries, seriesModel, sineSeries, train, type SeriesOptions } from '../src/tasks/index.js';

function options(overrides: Partial<SeriesOptions['training']> = {}, target: SeriesOptions['target'] = 'level'): SeriesOptions {
  return {
    training: { seed: 1, optimizer: 'adam', lr: 0.01, clip: 5, batch: 16, seqLen: 20, valSplit: 0.2, ...overrides },
    model: { cell: 'rnn', hiddenSize: 16, numLayers: 1, dropout: 0, bidirectional: false },
    target,
  };
}

test('a 1-layer RNN learns the sine: validation error falls far below the last-value baseline', async () => {
  const task = createSeriesTask(options(), sineSeries());
  const before = task.evaluate();
  const result = await train(task, { steps: 150, clip: 5 });
  const after = result.lastValidation!;
  assert.equal(result.step, 150);
  assert.ok(after.loss < before.loss / 20, `validation MSE ${after.loss} should fall well below ${before.loss}`);
  assert.ok(after.metrics.rmse! < after.metrics.rmse_last! / 3, `rmse ${after.metrics.rmse} vs last-value ${after.metrics.rmse_last}`);
  assert.equal(after.metrics.rmse_seasonal, null, 'a pure sine repeats every period: the seasonal naive forecast is exact by construction, not reported as a competitor');
  assert.equal(after.metrics.rmse_holt_winters, null, 'nor is Holt-Winters, which reproduces a pure sine as exactly');
});

test('the normalisation is fitted on the training part only and the split is chronological', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  const task = createSeriesTask(options({ valSplit: 0.25 }, 'delta'), series);
  const split = task.summary.splitIndex;
  assert.equal(split, 144 - 36);
  const train = series.values.subarray(0, split);
  const mean = train.reduce((s, v) => s + v, 0) / train.length;
  assert.ok(Math.abs(task.summary.normalization.mean - mean) < 1e-6, 'mean of the training part');
  // The validation tail of AirPassengers is higher than anything in training: a leak would raise the mean.
  const all = series.values.reduce((s, v) => s + v, 0) / series.values.length;
  assert.ok(task.summary.normalization.mean < all);
  assert.equal(task.summary.frequency, 12);
  const p = task.validationPredictions();
  assert.equal(p.target.length, 36);
  assert.equal(p.time[0], series.time[split]);
});

test('evaluation reports both baselines on the original scale, as the data layer computes them', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  const task = createSeriesTask(options(), series);
  const e = task.evaluate();
  const base = baselineScores(series.values, task.summary.splitIndex, 12);
  assert.equal(e.metrics.rmse_last, base.naive.rmse);
  assert.equal(e.metrics.rmse_seasonal, base.seasonal!.rmse);
  // Original scale: errors in passengers (tens), not z-units.
  assert.ok(e.metrics.rmse! > 5, `rmse ${e.metrics.rmse}`);
});

test('forecasts feed predictions back and come out on the original scale; other series can be scored', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  const task = createSeriesTask(options(), series);
  const m = seriesModel(task.model, task.summary, 20);
  const f = forecastSeries(m, series, 12);
  assert.equal(f.length, 12);
  assert.ok(f.every((v) => Number.isFinite(v) && v > 50 && v < 2000), `forecast ${Array.from(f)}`);
  const other = parseSeriesCsv(Array.from({ length: 40 }, (_, i) => `${1900 + i},${100 + i}`).join('\n'), 'ramp.csv');
  const e = evaluateSeries(m, other);
  assert.ok(Number.isFinite(e.metrics.rmse!));
  assert.equal(e.metrics.rmse_seasonal, null, 'yearly data has no seasonal baseline');
});

test('forecast intervals: the quantiles of the k-step errors of forecastSeries from earlier origins, batched', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  for (const target of ['level', 'delta'] as const) {
    const task = createSeriesTask(options({}, target), series);
    const m = seriesModel(task.model, task.summary, 20);
    const horizon = 30;
    const f = forecastSeries(m, series, horizon);
    const { lower, upper } = forecastIntervals(m, series, f, 0.8, 12);
    // The definition, one origin at a time: 12 origins evenly spread from the first window's end to
    // the second-last value, each forecasting as far as the series still has values to compare.
    const n = series.values.length;
    const [first, last] = [20, n - 2];
    const errors: number[][] = Array.from({ length: horizon }, () => []);
    for (let i = 0; i < 12; i++) {
      const origin = Math.round(first + ((last - first) * i) / 11);
      const steps = Math.min(horizon, n - 1 - origin);
      const past = forecastSeries(m, { ...series, values: series.values.subarray(0, origin + 1), time: series.time.subarray(0, origin + 1) }, steps);
      for (let k = 0; k < steps; k++) errors[k]!.push(series.values[origin + 1 + k]! - past[k]!);
    }
    assert.equal(errors[0]!.length, 12, 'every origin forecasts one step');
    assert.ok(errors[horizon - 1]!.length < 12, 'the last origins stop where the series ends');
    let worst = 0;
    for (let k = 0; k < horizon; k++) {
      const { below, above } = errorInterval(errors[k]!, 0.8);
      // One batch of origins against one origin per call: the same arithmetic up to float32 rounding.
      const scale = Math.abs(f[k]!) + 1;
      const difference = Math.max(Math.abs(lower[k]! - (f[k]! + below)), Math.abs(upper[k]! - (f[k]! + above))) / scale;
      worst = Math.max(worst, difference);
      assert.ok(difference < 2e-6, `${target} step ${k + 1}: [${lower[k]}, ${upper[k]}] against [${f[k]! + below}, ${f[k]! + above}]`);
      assert.ok(lower[k]! <= f[k]! && f[k]! <= upper[k]!, 'the forecast inside its interval');
    }
    console.log(`forecastIntervals (${target}): batched against one origin per call, largest difference ${worst.toExponential(2)} relative to |forecast| + 1`);
    task.model.dispose();
  }
});

test('a series too short for one window says which option to change', () => {
  const short = parseSeriesCsv('1,1\n2,2\n3,3\n4,4\n5,5', 'tiny.csv');
  assert.throws(() => createSeriesTask(options(), short), /tiny\.csv has 5 values.*seq-len 20/);
});

test('the test part never touches training or checkpoint choice: changing it changes only the test figures', async () => {
  const original = readSeriesFile(shippedDataPath('series', 'AirPassengers.csv'));
  const altered = { ...original, values: original.values.slice() };
  for (let i = 130; i < 144; i++) altered.values[i] = altered.values[i]! * 3;
  const runs = await Promise.all([original, altered].map(async (series) => {
    const task = createSeriesTask(options({ valSplit: 0.2, testSplit: 0.1 }), series);
    assert.equal(task.summary.testIndex, 130);
    const validations: number[] = [];
    await train(task, { steps: 20, validateEvery: 5, onValidate: (v) => void validations.push(v.loss) });
    return { validations, test: task.evaluate('test').metrics.rmse as number, validation: task.evaluate().metrics.rmse as number };
  }));
  assert.deepEqual(runs[0]!.validations, runs[1]!.validations, 'validation losses bit for bit the same');
  assert.equal(runs[0]!.validation, runs[1]!.validation);
  assert.ok(runs[1]!.test > 2 * runs[0]!.test, `test RMSE ${runs[0]!.test} vs ${runs[1]!.test}`);
  const noTest = createSeriesTask(options({ valSplit: 0.2 }), original);
  assert.equal(noTest.hasTest, false);
  assert.throws(() => noTest.evaluate('test'), /holds out no test part \(test-split 0\)/);
  assert.throws(() => createSeriesTask(options({ valSplit: 0.6, testSplit: 0.4 }), original), /val-split 0.6 and test-split 0.4 leave no training data/);
});

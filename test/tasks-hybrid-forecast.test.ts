import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hybridForecast } from '../src/tasks/hybrid-forecast.js';
import { holtWintersFilter, holtWintersForecast, holtWintersPath, fitHoltWinters } from '../src/data/index.js';

// Multiplicative season on a rising level: additive Holt-Winters is wrong in a systematic, learnable way.
const multiplicative = Float32Array.from({ length: 132 }, (_, t) => (10 + 0.5 * t) * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 12)));
const options = { horizon: 12, period: 12, maxSteps: 100, evalEvery: 25, seeds: 1, hidden: 8 };

test('the GRU correction is learned where Holt-Winters is systematically wrong, and chosen on the held-out tail', () => {
  const r = hybridForecast(multiplicative, options);
  assert.ok(r.steps > 0 && r.steps % 25 === 0, `steps ${r.steps}`);
  assert.ok(r.validation.hybridRmse < 0.9 * r.validation.holtWintersRmse, JSON.stringify(r.validation));
  assert.equal(r.forecast.length, 12);
  let differs = false;
  for (let k = 0; k < 12; k++) {
    assert.ok(r.lower[k]! <= r.forecast[k]! && r.forecast[k]! <= r.upper[k]!, `interval at step ${k + 1}`);
    if (Math.abs(r.forecast[k]! - r.holtWinters[k]!) > 1e-3) differs = true;
  }
  assert.ok(differs, 'the forecast carries the correction');
});

test('the same seed gives the same forecast; another seed another one', () => {
  const a = hybridForecast(multiplicative, options);
  const b = hybridForecast(multiplicative, options);
  const c = hybridForecast(multiplicative, { ...options, seed: 7 });
  assert.deepEqual(Array.from(a.forecast), Array.from(b.forecast));
  assert.notDeepEqual(Array.from(a.forecast), Array.from(c.forecast));
});

test('without a window to learn from, the forecast is Holt-Winters alone', () => {
  const short = multiplicative.subarray(0, 40);
  const r = hybridForecast(short, { ...options, window: 24 });
  assert.equal(r.steps, 0);
  assert.deepEqual(Array.from(r.forecast), Array.from(r.holtWinters));
  assert.throws(() => hybridForecast(multiplicative.subarray(0, 35), options), /history of 35 values is too short.*at least 36 values/);
  assert.throws(() => hybridForecast(multiplicative, { ...options, coverage: 1 }), /coverage must be in \(0, 1\), received 1/);
});

test('the smoother path holds, at every origin, the forecasts the filter makes from that point', () => {
  const y = multiplicative.subarray(0, 60);
  const { params } = fitHoltWinters(y, 12);
  const path = holtWintersPath(y, 12, params, 15);
  for (const origin of [23, 40, 59]) {
    const expected = holtWintersForecast(holtWintersFilter(y.subarray(0, origin + 1), 12, params), 15);
    for (let k = 0; k < 15; k++) assert.ok(Math.abs(path.forecasts[origin * 15 + k]! - expected[k]!) < 1e-9, `origin ${origin} step ${k + 1}`);
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import {
  DataRng,
  ZScore,
  addNoise,
  bestMovingAverage,
  movingAverage,
  randomSineMixture,
  randomWindows,
  signalPower,
  sineMixture,
  snrDb,
  stackTimeMajor,
} from '../src/data/index.js';

describe('clean signals', () => {
  it('sums sine components', () => {
    const x = sineMixture(8, [
      { period: 4, amplitude: 2, phase: 0 },
      { period: 8, amplitude: 1, phase: Math.PI / 2 },
    ]);
    assert.ok(Math.abs(x[0]! - 1) < 1e-6); // 2 sin 0 + cos 0
    assert.ok(Math.abs(x[1]! - (2 + Math.SQRT1_2)) < 1e-6);
  });

  it('draws random mixtures with peak 1, reproducibly', () => {
    const a = randomSineMixture(256, new DataRng(4));
    assert.deepEqual(a, randomSineMixture(256, new DataRng(4)));
    const peak = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(Math.abs(peak - 1) < 1e-6);
    assert.throws(() => randomSineMixture(10, new DataRng(1), { minPeriod: 9, maxPeriod: 3 }), /expected 0 < minPeriod <= maxPeriod, received 9 and 3/);
  });

  it('cuts windows of a real series', () => {
    const air = readSeriesFile(shippedDataPath('series', 'AirPassengers.csv'));
    const z = ZScore.fit(air.values).apply(air.values);
    const windows = randomWindows(z, 48, 10, new DataRng(2));
    assert.equal(windows.length, 10);
    for (const w of windows) {
      assert.equal(w.length, 48);
      assert.equal(w.buffer, z.buffer);
    }
    assert.throws(() => randomWindows(z, 145, 1, new DataRng(2)), /length must be an integer in \[1, 144\]/);
    const batch = stackTimeMajor(windows.slice(0, 3));
    assert.equal(batch.length, 144);
    assert.equal(batch[5 * 3 + 2], windows[2]![5]);
    assert.throws(() => stackTimeMajor([z.subarray(0, 3), z.subarray(0, 4)]), /signal 1 has length 4; expected 3/);
  });
});

describe('noise and SNR', () => {
  it('adds noise at the requested SNR', () => {
    const clean = randomSineMixture(20000, new DataRng(1));
    for (const target of [0, 10, 20]) {
      const noisy = addNoise(clean, target, new DataRng(target + 1));
      assert.ok(Math.abs(snrDb(clean, noisy) - target) < 0.2, `SNR ${snrDb(clean, noisy)} for target ${target}`);
    }
  });

  it('is infinite for a perfect estimate and never NaN', () => {
    assert.equal(snrDb([1, 2], [1, 2]), Infinity);
    assert.equal(snrDb([0, 0], [1, 0]), -Infinity);
    assert.throws(() => snrDb([0, 0], [0, 0]), /both zero; the SNR is undefined/);
    assert.throws(() => addNoise([0, 0, 0], 10, new DataRng(1)), /the clean signal has power 0/);
    assert.throws(() => snrDb([1], [1, 2]), /equal length, received 1 and 2/);
    assert.equal(signalPower([3, 4]), 12.5);
  });
});

describe('moving average', () => {
  it('averages a centred window that shrinks at the ends', () => {
    assert.deepEqual([...movingAverage([1, 2, 3], 1)], [1, 2, 3]);
    assert.deepEqual([...movingAverage([0, 3, 6, 9, 12], 3)], [1.5, 3, 6, 9, 10.5]);
    assert.deepEqual([...movingAverage([5, 5, 5, 5], 4)], [5, 5, 5, 5]);
    assert.throws(() => movingAverage([1], 0), /window must be a positive integer, received 0/);
  });

  it('finds a window that beats the noisy signal on slow sines', () => {
    const rng = new DataRng(3);
    const clean = Array.from({ length: 8 }, () => randomSineMixture(200, rng, { minPeriod: 40, maxPeriod: 100 }));
    const noisy = clean.map((c) => addNoise(c, 5, rng));
    const best = bestMovingAverage(noisy, clean, 25);
    assert.ok(best.window > 3, `window ${best.window}`);
    assert.ok(best.snrDb > best.noisySnrDb + 3, `${best.snrDb} vs ${best.noisySnrDb}`);
    assert.ok(Math.abs(best.noisySnrDb - 5) < 1);
    assert.throws(() => bestMovingAverage(noisy, clean.slice(1)), /equal, non-zero numbers of noisy and clean signals, received 8 and 7/);
  });
});

// The denoise recipe: the model's output is cleaner than its input, the scores come with the best
// moving average as the baseline, and validation uses fixed signals so runs compare.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { createDenoiseTask, evaluateDenoise, train, type DenoiseOptions } from '../src/tasks/index.js';

function options(overrides: Partial<DenoiseOptions['training']> = {}): DenoiseOptions {
  return {
    training: { seed: 2, optimizer: 'adam', lr: 0.01, clip: 5, batch: 16, seqLen: 48, valSplit: 0.2, ...overrides },
    model: { cell: 'gru', hiddenSize: 24, numLayers: 1, dropout: 0, bidirectional: true },
    snr: 5,
    validationSignals: 32,
  };
}

test('on sine mixtures the output SNR rises well above the input SNR', async () => {
  const task = createDenoiseTask(options(), null);
  const before = task.evaluate();
  assert.ok(Math.abs(before.metrics.snr_in_db! - 5) < 0.5, `input SNR ${before.metrics.snr_in_db}`);
  const result = await train(task, { steps: 150, clip: 5 });
  const after = result.lastValidation!;
  assert.ok(after.loss < before.loss / 2);
  assert.ok(after.metrics.snr_out_db! > after.metrics.snr_in_db! + 3, `SNR ${after.metrics.snr_in_db} → ${after.metrics.snr_out_db}`);
  assert.ok(after.metrics.snr_moving_average_db! > after.metrics.snr_in_db!);
  assert.ok(Number.isInteger(after.metrics.moving_average_window));
  const e = task.example();
  assert.equal(e.clean.length, 48);
  assert.equal(e.denoised.length, 48);
});

test('validation signals are fixed: evaluating twice, or after training steps, sees the same inputs', async () => {
  const task = createDenoiseTask(options(), null);
  const a = task.evaluate();
  assert.deepEqual(task.evaluate(), a);
  await train(task, { steps: 3 });
  assert.equal(task.evaluate().metrics.snr_in_db, a.metrics.snr_in_db);
});

test('a real series is z-scored with its training part and cut into validation windows from its tail', () => {
  const series = readSeriesFile(shippedDataPath('series/sunspot.month.csv'));
  const task = createDenoiseTask(options({ seqLen: 64 }), series);
  const s = task.summary;
  assert.equal(s.signal, series.name);
  assert.equal(s.splitIndex, series.values.length - Math.round(series.values.length * 0.2));
  assert.equal(s.validationSignals, 9, '(3,177 − 2,542 = 635 values) / 64 → 9 whole windows, capped at 32');
  assert.ok(s.normalization!.mean > 0);
  const e = evaluateDenoise(task.model, s, 64, series, 1);
  assert.ok(Number.isFinite(e.metrics.snr_out_db!));
});

test('a series whose validation tail is shorter than one signal names the options to change', () => {
  const series = readSeriesFile(shippedDataPath('series/AirPassengers.csv'));
  assert.throws(() => createDenoiseTask(options({ seqLen: 64 }), series), /validation part .* has 29 values, fewer than one signal of --seq-len 64/);
});

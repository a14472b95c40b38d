// The library learns: a 1-layer LSTM trained on a sine wave predicts the next value far better than
// it can untrained (and better than repeating the last value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, nn, noGrad, optim, tensor, type Tensor } from './helpers/api.js';

function sineBatch(rng: Generator, seq = 30, size = 16): { x: Tensor; y: Tensor; lastValueMse: number } {
  const x = new Float32Array(seq * size), y = new Float32Array(seq * size);
  let naive = 0;
  for (let b = 0; b < size; b++) {
    const phase = rng.uniform() * 2 * Math.PI;
    for (let t = 0; t < seq; t++) {
      x[t * size + b] = Math.sin(phase + 0.3 * t);
      y[t * size + b] = Math.sin(phase + 0.3 * (t + 1));
      naive += (y[t * size + b]! - x[t * size + b]!) ** 2;
    }
  }
  return { x: tensor(x, [seq, size, 1]), y: tensor(y, [seq, size, 1]), lastValueMse: naive / (seq * size) };
}

test('a 1-layer LSTM learns to predict a sine wave\'s next value', () => {
  const rng = new Generator(3);
  const lstm = new nn.LSTM({ inputSize: 1, hiddenSize: 16, generator: rng });
  const head = new nn.Linear(16, 1, { generator: rng });
  const params = [...lstm.parameters(), ...head.parameters()];
  const opt = new optim.Adam(params, { lr: 0.02 });
  const evaluate = (): { mse: number; naive: number } => {
    const b = sineBatch(new Generator(99));
    return { mse: noGrad(() => nn.mseLoss(head.forward(lstm.forward(b.x)[0]), b.y).item()), naive: b.lastValueMse };
  };
  const before = evaluate();
  for (let step = 0; step < 250; step++) {
    const { x, y } = sineBatch(rng);
    const loss = nn.mseLoss(head.forward(lstm.forward(x)[0]), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  const after = evaluate();
  // Untrained, the prediction is near-constant: its MSE is about the variance of sin (0.5).
  assert.ok(before.mse > 0.2, `untrained mse ${before.mse}`);
  assert.ok(after.mse < 0.01, `trained mse ${after.mse} should be < 0.01`);
  assert.ok(after.mse < before.naive / 4, `trained mse ${after.mse} vs last-value baseline ${before.naive}`);
});

/**
 * Sine continuation for the activation experiment: each sequence is sin(ωt + φ) for t < length with
 * ω drawn from [0.05, 0.3] rad per step and φ from [0, 2π); the target is the next value. A model must
 * infer the frequency and phase from the sequence; repeating the last value is the simple baseline.
 */
import { checkAllocation } from '../data/limits.js';
import { Generator, tensor } from '../tensor/index.js';
import type { AddingBatch as RegressionBatch } from './adding-data.js';

export function sineBatch(length: number, batch: number, generator: Generator): RegressionBatch {
  if (!Number.isInteger(length) || length < 2) throw new Error(`sineBatch: length must be an integer >= 2, got ${length}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`sineBatch: batch must be a positive integer, got ${batch}`);
  checkAllocation('sineBatch', `${batch} sequences of ${length} steps`, length * batch);
  const x = new Float32Array(length * batch);
  const y = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    const omega = 0.05 + 0.25 * generator.uniform();
    const phase = 2 * Math.PI * generator.uniform();
    for (let t = 0; t < length; t++) x[t * batch + b] = Math.sin(omega * t + phase);
    y[b] = Math.sin(omega * length + phase);
  }
  return { inputs: tensor(x, [length, batch, 1]), targets: tensor(y, [batch, 1]) };
}

/** MSE of predicting each sequence's last value. */
export function lastValueMse(set: RegressionBatch): number {
  const [length, batch] = set.inputs.shape as [number, number, number];
  const x = set.inputs.data;
  const y = set.targets.data;
  let sum = 0;
  for (let b = 0; b < batch; b++) sum += (x[(length - 1) * batch + b]! - y[b]!) ** 2;
  return sum / batch;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997, experiment 4), in the form most later papers use
 * (Le, Jaitly & Hinton 2015; Arjovsky et al. 2016): each time step carries a value drawn uniformly
 * from [0, 1] and a marker; exactly two steps are marked, one in each half of the sequence, and the
 * target is the sum of the two marked values. The sum of two U(0, 1) has variance 2/12, so a model
 * that always predicts the mean 1 scores MSE 1/6 ≈ 0.167: anything near that has learned nothing.
 */
import { checkAllocation } from '../data/limits.js';
import { Generator, tensor, type Tensor } from '../tensor/index.js';

/** MSE of always predicting the mean of the target. */
export const ADDING_BASELINE_MSE = 1 / 6;

export interface AddingBatch {
  // Also the shape of every regression batch the experiments use (sine continuation too).
  /** [length, batch, 2]: channel 0 the value, channel 1 the marker (0 or 1). */
  inputs: Tensor;
  /** [batch, 1]: the sum of the two marked values. */
  targets: Tensor;
}

export function addingBatch(length: number, batch: number, generator: Generator): AddingBatch {
  if (!Number.isInteger(length) || length < 2) throw new Error(`addingBatch: length must be an integer >= 2, got ${length}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`addingBatch: batch must be a positive integer, got ${batch}`);
  checkAllocation('addingBatch', `${batch} sequences of ${length} steps`, length * batch * 2);
  const x = new Float32Array(length * batch * 2);
  const y = new Float32Array(batch);
  const half = Math.floor(length / 2);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < length; t++) x[(t * batch + b) * 2] = generator.uniform();
    const first = Math.floor(generator.uniform() * half);
    const second = half + Math.floor(generator.uniform() * (length - half));
    x[(first * batch + b) * 2 + 1] = 1;
    x[(second * batch + b) * 2 + 1] = 1;
    y[b] = x[(first * batch + b) * 2]! + x[(second * batch + b) * 2]!;
  }
  return { inputs: tensor(x, [length, batch, 2]), targets: tensor(y, [batch, 1]) };
}

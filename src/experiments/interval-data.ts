/**
 * A spike-interval task after Gers, Schraudolph & Schmidhuber (2002), "Learning precise timing with
 * LSTM recurrent networks" (their MSD task, measuring spike delays, reduced to two classes): two input
 * spikes, the first at a random step s in [0, K), the second K or K + 1 steps later (even odds); the
 * network reads the whole sequence of 2K + 2 steps and must say, at its last step, which interval it
 * saw (target 0 for K, 1 for K + 1). The second spike's distance from the end varies with s, so
 * nothing but the interval between the two spikes tells the classes apart: the network has to time it
 * to within one step and then hold its answer until the end.
 */
import { checkAllocation } from '../data/limits.js';
import { Generator, tensor } from '../tensor/index.js';
import type { AddingBatch as RegressionBatch } from './adding-data.js';

/** Steps per sequence: room for a first spike anywhere in [0, K), the longer interval, and one more step. */
export function intervalLength(interval: number): number {
  return 2 * interval + 2;
}

/** inputs [2K + 2, batch, 1] with the two spikes; targets [batch, 1], 1 where the interval is K + 1. */
export function intervalBatch(interval: number, batch: number, generator: Generator): RegressionBatch {
  if (!Number.isInteger(interval) || interval < 2) throw new Error(`intervalBatch: interval must be an integer >= 2, got ${interval}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`intervalBatch: batch must be a positive integer, got ${batch}`);
  const length = intervalLength(interval);
  checkAllocation('intervalBatch', `${batch} sequences of ${length} steps`, length * batch + batch);
  const x = new Float32Array(length * batch);
  const y = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    const first = Math.floor(generator.uniform() * interval);
    const longer = generator.uniform() < 0.5;
    x[first * batch + b] = 1;
    x[(first + interval + (longer ? 1 : 0)) * batch + b] = 1;
    y[b] = longer ? 1 : 0;
  }
  return { inputs: tensor(x, [length, batch, 1]), targets: tensor(y, [batch, 1]) };
}

/** Share of sequences classified right: output above 0.5 exactly where the interval is K + 1. */
export function intervalsCorrect(predictions: ArrayLike<number>, targets: ArrayLike<number>, batch: number): number {
  let correct = 0;
  for (let b = 0; b < batch; b++) if ((predictions[b]! > 0.5) === (targets[b]! > 0.5)) correct++;
  return correct / batch;
}

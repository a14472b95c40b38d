/**
 * A timed-spike task after Gers, Schraudolph & Schmidhuber (2002), "Learning precise timing with LSTM
 * recurrent networks" (their GTS task, generating timed spikes, simplified): one input spike at a
 * random step s in [0, period); the target is 1 at s + period, s + 2·period, ... and 0 elsewhere, for
 * `cycles` spikes. Nothing in the input marks the later spikes, so the network must count steps
 * itself: the peephole connections let the cell state, used as a clock, open the output gate.
 */
import { checkAllocation } from '../data/limits.js';
import { Generator, tensor } from '../tensor/index.js';
import type { AddingBatch as RegressionBatch } from './adding-data.js';

export function timingLength(period: number, cycles: number): number {
  return period * (cycles + 1);
}

export function timingBatch(period: number, cycles: number, batch: number, generator: Generator): RegressionBatch {
  if (!Number.isInteger(period) || period < 2) throw new Error(`timingBatch: period must be an integer >= 2, got ${period}`);
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`timingBatch: cycles must be a positive integer, got ${cycles}`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`timingBatch: batch must be a positive integer, got ${batch}`);
  checkAllocation('timingBatch', `${batch} sequences of ${timingLength(period, cycles)} steps`, timingLength(period, cycles) * batch * 2);
  const length = timingLength(period, cycles);
  const x = new Float32Array(length * batch);
  const y = new Float32Array(length * batch);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(generator.uniform() * period);
    x[start * batch + b] = 1;
    for (let k = 1; k <= cycles; k++) y[(start + k * period) * batch + b] = 1;
  }
  return { inputs: tensor(x, [length, batch, 1]), targets: tensor(y, [length, batch, 1]) };
}

/**
 * Share of sequences with every step right (output above 0.5 exactly where a spike is due): a
 * spike one step early or late makes the sequence wrong.
 */
export function sequencesCorrect(predictions: ArrayLike<number>, targets: ArrayLike<number>, length: number, batch: number): number {
  let correct = 0;
  for (let b = 0; b < batch; b++) {
    let ok = true;
    for (let t = 0; t < length && ok; t++) ok = (predictions[t * batch + b]! > 0.5) === (targets[t * batch + b]! > 0.5);
    if (ok) correct++;
  }
  return correct / batch;
}

/** Where the spike-task runs go wrong, over a set of sequences. */
export interface SpikeErrors {
  /** Per spike k = 1..cycles: share of sequences whose k-th spike is on time (output above 0.5 there). */
  onTime: number[];
  /** Share of sequences with an output above 0.5 on a step where no spike is due. */
  extra: number;
  /** Share of sequences with no output above 0.5 at all. */
  silent: number;
}

export function spikeErrors(predictions: ArrayLike<number>, targets: ArrayLike<number>, length: number, batch: number, cycles: number): SpikeErrors {
  const onTime = new Array<number>(cycles).fill(0);
  let extra = 0;
  let silent = 0;
  for (let b = 0; b < batch; b++) {
    let k = 0;
    let fired = false;
    let wrong = false;
    for (let t = 0; t < length; t++) {
      const spike = predictions[t * batch + b]! > 0.5;
      fired ||= spike;
      if (targets[t * batch + b]! > 0.5) {
        if (spike && k < cycles) onTime[k]!++;
        k++;
      } else if (spike) wrong = true;
    }
    if (wrong) extra++;
    if (!fired) silent++;
  }
  return { onTime: onTime.map((n) => n / batch), extra: extra / batch, silent: silent / batch };
}

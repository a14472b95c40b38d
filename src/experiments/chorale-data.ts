/**
 * Chorales as next-step prediction for the music experiment: the input at step t is the piano roll at
 * t, the target the roll at t + 1, so a chorale of T steps gives T - 1 predictions (the first step has
 * nothing to be predicted from). A batch pads chorales to the longest with silence; the layers are
 * causal, so padding after a chorale's end never changes its predictions, and the loss leaves it out.
 */
import type { ChoraleRoll } from '../data/chorales.js';
import { checkAllocation } from '../data/limits.js';
import { tensor, type Tensor } from '../tensor/index.js';

export interface ChoraleBatch {
  /** [steps, batch, pitches]: rolls without their last step, padded with silence. */
  inputs: Tensor;
  /** [steps, batch, pitches]: rolls without their first step, padded with silence. */
  targets: Tensor;
  /** [steps, batch, 1]: 1 where a prediction is scored, 0 on padding. */
  mask: Tensor;
  /** Predictions scored (the sum of the mask). */
  predictions: number;
}

export function choraleBatch(chorales: readonly ChoraleRoll[]): ChoraleBatch {
  if (chorales.length === 0) throw new Error('choraleBatch: expected at least one chorale, got none');
  const pitches = chorales[0]!.pitches;
  for (const [i, c] of chorales.entries()) {
    if (c.pitches !== pitches) throw new Error(`choraleBatch: chorale ${i} has ${c.pitches} pitches, expected ${pitches} like chorale 0`);
    if (c.steps < 2) throw new Error(`choraleBatch: chorale ${i} has ${c.steps} step(s), expected at least 2 (one to predict from, one to predict)`);
  }
  const batch = chorales.length;
  const steps = Math.max(...chorales.map((c) => c.steps)) - 1;
  checkAllocation('choraleBatch', `${batch} chorales × ${steps} steps × ${pitches} pitches`, steps * batch * pitches);
  const inputs = new Float32Array(steps * batch * pitches);
  const targets = new Float32Array(steps * batch * pitches);
  const mask = new Float32Array(steps * batch);
  let predictions = 0;
  chorales.forEach((c, b) => {
    for (let t = 0; t < c.steps - 1; t++) {
      const row = (t * batch + b) * pitches;
      inputs.set(c.active.subarray(t * pitches, (t + 1) * pitches), row);
      targets.set(c.active.subarray((t + 1) * pitches, (t + 2) * pitches), row);
      mask[t * batch + b] = 1;
      predictions++;
    }
  });
  return {
    inputs: tensor(inputs, [steps, batch, pitches]), targets: tensor(targets, [steps, batch, pitches]),
    mask: tensor(mask, [steps, batch, 1]), predictions,
  };
}

/**
 * The negative log-likelihood of the targets under independent per-note Bernoullis with the given
 * logits, summed over the notes of each scored step and over the scored steps (nats), in float64:
 * Σ softplus(z) - y·z, computed as max(z, 0) - y·z + log(1 + e^-|z|) so large logits do not overflow.
 */
export function summedBernoulliNll(logits: ArrayLike<number>, set: ChoraleBatch): number {
  const y = set.targets.data;
  const mask = set.mask.data;
  const pitches = set.targets.shape[2]!;
  let total = 0;
  for (let r = 0; r < mask.length; r++) {
    if (mask[r] === 0) continue;
    for (let j = r * pitches; j < (r + 1) * pitches; j++) {
      const z = logits[j]!;
      total += Math.max(z, 0) - y[j]! * z + Math.log1p(Math.exp(-Math.abs(z)));
    }
  }
  return total;
}

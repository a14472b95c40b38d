/** Drawing a class from a model's logits: temperature, top-k, and greedy decoding at temperature 0. */
import type { Generator } from '../tensor/index.js';
import { checkInteger, checkNonNegative } from './checks.js';

export interface SamplingOptions {
  /** Divides the logits: below 1 sharpens, above 1 flattens; 0 always picks the most likely class. */
  temperature: number;
  /** Keep only the k most likely classes (0: all). */
  topK: number;
}

export function checkSampling(options: SamplingOptions): SamplingOptions {
  checkNonNegative('temperature', options.temperature);
  checkInteger('top-k', options.topK, 0);
  return options;
}

export function sampleClass(logits: ArrayLike<number>, options: SamplingOptions, generator: Generator): number {
  const n = logits.length;
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
  if (options.temperature === 0) return best;
  let candidates = Array.from({ length: n }, (_, i) => i);
  if (options.topK > 0 && options.topK < n) {
    candidates.sort((a, b) => logits[b]! - logits[a]! || a - b);
    candidates = candidates.slice(0, options.topK);
  }
  // Softmax over the candidates, shifted by the maximum so exp never overflows.
  const top = logits[best]!;
  const weights = candidates.map((i) => Math.exp((logits[i]! - top) / options.temperature));
  const total = weights.reduce((s, w) => s + w, 0);
  let u = generator.uniform() * total;
  for (let k = 0; k < candidates.length; k++) {
    u -= weights[k]!;
    if (u < 0) return candidates[k]!;
  }
  return candidates[candidates.length - 1]!;
}

/** Independent on/off draws for multi-hot outputs: P(on) = sigmoid(logit / temperature). */
export function sampleBernoulli(logits: ArrayLike<number>, temperature: number, generator: Generator): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (temperature === 0) out[i] = x > 0 ? 1 : 0;
    else out[i] = generator.uniform() < 1 / (1 + Math.exp(-x / temperature)) ? 1 : 0;
  }
  return out;
}

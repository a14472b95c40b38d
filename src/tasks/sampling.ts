/** Drawing a class from a model's logits: temperature, top-k, top-p (nucleus), and greedy decoding at temperature 0. */
import type { Generator } from '../tensor/index.js';
import { checkInteger, checkNonNegative } from './checks.js';

export interface SamplingOptions {
  /** Divides the logits: below 1 sharpens, above 1 flattens; 0 always picks the most likely class. */
  temperature: number;
  /** Keep only the k most likely classes (0: all). */
  topK: number;
  /**
   * Keep only the most likely classes whose probabilities (after temperature) add up to at least p
   * (Holtzman et al. 2020); 1 or absent: all.
   */
  topP?: number;
}

export function checkSampling(options: SamplingOptions): SamplingOptions {
  checkNonNegative('temperature', options.temperature);
  checkInteger('top-k', options.topK, 0);
  if (options.topP !== undefined && !(options.topP > 0 && options.topP <= 1)) {
    throw new Error(`top-p must be a number in (0, 1], received ${String(options.topP)}`);
  }
  return options;
}

/** `excluded` classes are never drawn (e.g. a rest once the music has been silent long enough). */
export function sampleClass(logits: ArrayLike<number>, options: SamplingOptions, generator: Generator, excluded?: ReadonlySet<number>): number {
  const n = logits.length;
  let candidates = Array.from({ length: n }, (_, i) => i).filter((i) => !excluded?.has(i));
  if (candidates.length === 0) throw new Error(`sampleClass: all ${n} classes are excluded`);
  let best = candidates[0]!;
  for (const i of candidates) if (logits[i]! > logits[best]!) best = i;
  if (options.temperature === 0) return best;
  const topP = options.topP ?? 1;
  // Truncation needs the classes by likelihood; without it the order (and so each seed's draws) is the classes' own.
  if ((options.topK > 0 && options.topK < candidates.length) || topP < 1) candidates.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (options.topK > 0 && options.topK < candidates.length) candidates = candidates.slice(0, options.topK);
  // Softmax over the candidates, shifted by the maximum so exp never overflows.
  const top = logits[best]!;
  let weights = candidates.map((i) => Math.exp((logits[i]! - top) / options.temperature));
  if (topP < 1) {
    const sum = weights.reduce((s, w) => s + w, 0);
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && mass < topP * sum) mass += weights[kept++]!;
    candidates = candidates.slice(0, kept);
    weights = weights.slice(0, kept);
  }
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

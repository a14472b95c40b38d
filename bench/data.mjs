// Seeded inputs for the workloads, identical for every library, and the one sampler every W4 adapter
// uses, so that generation costs differ only by the network, never by the sampling code.
import { WORKLOADS, w6Lengths } from './workloads.mjs';

/** mulberry32: tiny, fast and good enough to make benchmark inputs reproducible. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(n, random) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return out;
}

/** One batch per workload (time-major); every step of a cell reuses it, since costs do not depend on values. */
export function makeBatch(id, seed = 1) {
  const random = rng(seed);
  const w = WORKLOADS[id];
  switch (id) {
    case 'W1': {
      const { seq: T, batch: B, vocab: V } = w;
      const ids = Int32Array.from({ length: (T + 1) * B }, () => Math.floor(random() * V));
      const oneHot = new Float32Array(T * B * V);
      for (let i = 0; i < T * B; i++) oneHot[i * V + ids[i]] = 1;
      return { oneHot, inputIds: ids.slice(0, T * B), targets: ids.slice(B) }; // targets: the next token of each stream
    }
    case 'W6': {
      // W1's batch, of which each sequence uses its first `length` steps.
      return { ...makeBatch('W1', seed), lengths: w6Lengths() };
    }
    case 'W2': {
      const { seq: T } = w;
      const phase = random() * 2 * Math.PI;
      const wave = Float32Array.from({ length: T + 1 }, (_, t) => Math.sin(phase + 0.3 * t));
      return { x: wave.slice(0, T), y: wave.slice(1), wave };
    }
    case 'W3': {
      const { seq: T, batch: B, input: I } = w;
      return { x: normals(T * B * I, random), y: normals(T * B, random) };
    }
    case 'W5': {
      const { seq: T, batch: B, input: I, hidden: H } = w;
      return { x: normals(T * B * I, random), y: normals(T * B * H, random) };
    }
    default:
      throw new Error(`makeBatch: no batch for ${id}`);
  }
}

/** [T, B, F] time-major → [B, T, F] batch-major, for TF.js. */
export function toBatchMajor(data, T, B, F) {
  const out = new Float32Array(data.length);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out.set(data.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
  return out;
}

/** Draws a class from logits with softmax at temperature 1 (the same code for every library). */
export function sampleLogits(logits, random) {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let total = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) total += p[i] = Math.exp(logits[i] - max);
  let u = random() * total;
  for (let i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return i;
  return p.length - 1;
}

/**
 * The W4 loop around a library's single-step function: feeds the previous token, samples the next,
 * and starts a fresh 1000-token generation (zero state, token 0) when one is complete.
 * `stepLogits(token, fresh)` returns the logits for the next token; `fresh` says to start from zero state.
 */
export function generator(stepLogits, seed = 7) {
  const random = rng(seed);
  const length = WORKLOADS.W4.tokens;
  let produced = length;
  let token = 0;
  return async () => {
    const fresh = produced === length;
    if (fresh) {
      produced = 0;
      token = 0;
    }
    token = sampleLogits(await stepLogits(token, fresh), random);
    produced++;
  };
}

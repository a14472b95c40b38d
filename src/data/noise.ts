/**
 * Data for the denoise task: clean signals, Gaussian noise at a chosen signal-to-noise ratio, and the
 * classical answer a learned denoiser must beat: a moving average with the best window.
 * SNR here is 10·log10(mean(clean²) / mean(noise²)); it counts any constant offset as signal, so
 * z-score a real series (ZScore) before cutting windows from it.
 */
import { checkAllocation } from './limits.js';
import type { DataRng } from './random.js';

export interface SineComponent {
  /** Samples per cycle. */
  period: number;
  amplitude: number;
  /** Radians. */
  phase: number;
}

export function sineMixture(length: number, components: readonly SineComponent[]): Float32Array {
  if (!Number.isInteger(length) || length < 1) throw new Error(`sineMixture: length must be a positive integer, received ${length}`);
  checkAllocation('sineMixture', `length ${length}`, length);
  const out = new Float32Array(length);
  for (const c of components) {
    if (!(c.period > 0) || !Number.isFinite(c.amplitude) || !Number.isFinite(c.phase)) {
      throw new Error(`sineMixture: component ${JSON.stringify(c)} needs a positive period and a finite amplitude and phase`);
    }
    for (let t = 0; t < length; t++) out[t] = out[t]! + c.amplitude * Math.sin((2 * Math.PI * t) / c.period + c.phase);
  }
  return out;
}

export interface RandomMixtureOptions {
  /** Number of sines (default 3). */
  components?: number;
  /** Period range in samples (defaults 8 and 64). */
  minPeriod?: number;
  maxPeriod?: number;
}

/** A mixture of sines with random periods, amplitudes and phases, scaled to peak amplitude 1. */
export function randomSineMixture(length: number, rng: DataRng, options: RandomMixtureOptions = {}): Float32Array {
  const { components = 3, minPeriod = 8, maxPeriod = 64 } = options;
  if (!Number.isInteger(components) || components < 1) {
    throw new Error(`randomSineMixture: components must be a positive integer, received ${components}`);
  }
  if (!(minPeriod > 0 && maxPeriod >= minPeriod)) {
    throw new Error(`randomSineMixture: expected 0 < minPeriod <= maxPeriod, received ${minPeriod} and ${maxPeriod}`);
  }
  const parts: SineComponent[] = [];
  for (let k = 0; k < components; k++) {
    // Log-uniform periods give slow and fast components equal chances.
    const period = Math.exp(rng.uniform(Math.log(minPeriod), Math.log(maxPeriod)));
    parts.push({ period, amplitude: rng.uniform(0.2, 1), phase: rng.uniform(0, 2 * Math.PI) });
  }
  const out = sineMixture(length, parts);
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) for (let t = 0; t < length; t++) out[t] = out[t]! / peak;
  return out;
}

/** `count` windows of `length` values at random positions of a series (views, not copies). */
export function randomWindows(values: Float32Array, length: number, count: number, rng: DataRng): Float32Array[] {
  if (!Number.isInteger(length) || length < 1 || length > values.length) {
    throw new Error(`randomWindows: length must be an integer in [1, ${values.length}] (the series length), received ${length}`);
  }
  if (!Number.isInteger(count) || count < 0) throw new Error(`randomWindows: count must be a non-negative integer, received ${count}`);
  const windows: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const start = rng.int(values.length - length + 1);
    windows.push(values.subarray(start, start + length));
  }
  return windows;
}

/** Mean of the squares. */
export function signalPower(signal: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < signal.length; i++) sum += signal[i]! * signal[i]!;
  return signal.length === 0 ? 0 : sum / signal.length;
}

/** A noisy copy: clean + N(0, σ²) with σ chosen so that the expected SNR is `snr` dB. */
export function addNoise(clean: ArrayLike<number>, snr: number, rng: DataRng): Float32Array {
  if (!Number.isFinite(snr)) throw new Error(`addNoise: snr (dB) must be a finite number, received ${snr}`);
  const power = signalPower(clean);
  if (!(power > 0) || !Number.isFinite(power)) {
    throw new Error(`addNoise: the clean signal has power ${power}; an SNR needs a finite, non-zero signal`);
  }
  const std = Math.sqrt(power / 10 ** (snr / 10));
  const out = new Float32Array(clean.length);
  for (let i = 0; i < out.length; i++) out[i] = clean[i]! + rng.normal(0, std);
  return out;
}

function squaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}

/** 10·log10(power of clean / power of (estimate - clean)); +Infinity for a perfect estimate. */
export function snrDb(clean: ArrayLike<number>, estimate: ArrayLike<number>): number {
  if (clean.length !== estimate.length || clean.length === 0) {
    throw new Error(`snrDb: expected two non-empty signals of equal length, received ${clean.length} and ${estimate.length}`);
  }
  return ratioDb(signalPower(clean) * clean.length, squaredError(estimate, clean), 'snrDb');
}

function ratioDb(signal: number, error: number, fn: string): number {
  if (signal === 0 && error === 0) throw new Error(`${fn}: the clean signal and the error are both zero; the SNR is undefined`);
  if (!Number.isFinite(signal) || !Number.isFinite(error)) throw new Error(`${fn}: non-finite values in the signals`);
  return 10 * Math.log10(signal / error);
}

/**
 * Centred moving average. Near the ends the window shrinks to the samples that exist, so the output
 * has the input's length and no invented padding.
 */
export function movingAverage(signal: ArrayLike<number>, window: number): Float32Array {
  if (!Number.isInteger(window) || window < 1) throw new Error(`movingAverage: window must be a positive integer, received ${window}`);
  const n = signal.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + signal[i]!;
  const before = Math.floor((window - 1) / 2);
  const after = window - 1 - before;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - before);
    const hi = Math.min(n, i + after + 1);
    out[i] = (prefix[hi]! - prefix[lo]!) / (hi - lo);
  }
  return out;
}

export interface BestMovingAverage {
  window: number;
  /** SNR of the filtered signals against the clean ones, over all signals together. */
  snrDb: number;
  /** SNR of the unfiltered noisy signals, for comparison. */
  noisySnrDb: number;
}

/**
 * Tries every window from 1 (no filtering) to maxWindow on the given noisy/clean pairs and keeps the
 * one with the highest SNR: the baseline score for the denoise task.
 */
export function bestMovingAverage(
  noisy: readonly ArrayLike<number>[],
  clean: readonly ArrayLike<number>[],
  maxWindow = 31,
): BestMovingAverage {
  if (noisy.length !== clean.length || noisy.length === 0) {
    throw new Error(`bestMovingAverage: expected equal, non-zero numbers of noisy and clean signals, received ${noisy.length} and ${clean.length}`);
  }
  if (!Number.isInteger(maxWindow) || maxWindow < 1) {
    throw new Error(`bestMovingAverage: maxWindow must be a positive integer, received ${maxWindow}`);
  }
  let signal = 0;
  noisy.forEach((x, i) => {
    const c = clean[i]!;
    if (x.length !== c.length) throw new Error(`bestMovingAverage: pair ${i} differs in length: noisy ${x.length}, clean ${c.length}`);
    signal += signalPower(c) * c.length;
  });
  let best = { window: 1, error: Infinity };
  let noisyError = 0;
  for (let w = 1; w <= maxWindow; w++) {
    let error = 0;
    noisy.forEach((x, i) => (error += squaredError(w === 1 ? x : movingAverage(x, w), clean[i]!)));
    if (w === 1) noisyError = error;
    if (error < best.error) best = { window: w, error };
  }
  return {
    window: best.window,
    snrDb: ratioDb(signal, best.error, 'bestMovingAverage'),
    noisySnrDb: ratioDb(signal, noisyError, 'bestMovingAverage'),
  };
}

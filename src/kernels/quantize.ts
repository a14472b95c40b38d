/**
 * Symmetric int8 quantization, per row (dynamic quantization for generation: weights once per row,
 * the step's vectors x and h once per step). The rule is written once here and once in
 * assembly/quantized-step.ts's quantizeRows, in float32 arithmetic with ties to even, so the two give
 * the same integers and scales: m = max |x|, q = round(x * (127 / m)), scale = m / 127. A zero row has
 * scale 0; a non-finite value gives scale NaN.
 */
import type { FloatArray } from './contract.js';

/** The largest magnitude of a quantized value (int8 without -128, so the range is symmetric). */
export const INT8_LEVELS = 127;

/** Rounds to the nearest integer, ties to even (WebAssembly's f32.nearest). */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac !== 0.5) return frac < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Quantizes src[from, from + n) into dst[to, to + n) and returns the scale (x ≈ q * scale). */
export function quantizeRow(src: FloatArray, from: number, n: number, dst: Int8Array | Int16Array, to: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(src[from + i]!));
  if (!(m < Infinity) || m === 0) {
    dst.fill(0, to, to + n);
    return m === 0 ? 0 : NaN;
  }
  const inv = Math.fround(INT8_LEVELS / m);
  for (let i = 0; i < n; i++) {
    dst[to + i] = Math.min(INT8_LEVELS, Math.max(-INT8_LEVELS, roundHalfEven(Math.fround(src[from + i]! * inv))));
  }
  return Math.fround(m / INT8_LEVELS);
}

/** A matrix quantized per row: `values` [rows, cols] in [-127, 127], `scales` [rows]. */
export interface QuantizedRows {
  readonly rows: number;
  readonly cols: number;
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

/**
 * Quantizes each row of w [rows, cols]. `name` says which matrix, for the error a non-finite weight
 * gets (a quantized model with such a weight would only ever give NaN).
 */
export function quantizeRows(name: string, w: FloatArray, rows: number, cols: number): QuantizedRows {
  if (w.length !== rows * cols) throw new Error(`quantize: ${name} must hold ${rows}×${cols} = ${rows * cols} weights, got ${w.length}`);
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    scales[r] = quantizeRow(w, r * cols, cols, values, r * cols);
    if (Number.isNaN(scales[r])) {
      let bad = r * cols;
      while (Number.isFinite(w[bad]!)) bad++;
      throw new Error(`quantize: ${name} row ${r} holds a non-finite weight (${w[bad]} at column ${bad - r * cols}); int8 quantization needs finite weights`);
    }
  }
  return { rows, cols, values, scales };
}

/** The float32 value of a quantized product: (float(sum) * row scale) * vector scale, rounded as the
 * wasm kernel rounds each multiply. */
export function rescaleSum(sum: number, rowScale: number, vectorScale: number): number {
  return Math.fround(Math.fround(Math.fround(sum) * rowScale) * vectorScale);
}

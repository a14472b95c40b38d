/**
 * The gather path for one-hot inputs (a character or note id as a vector with a single 1).
 *
 * Multiplying one-hot rows by W_ih^T only picks columns of W_ih, so a layer whose input rows are all
 * one-hot (or all zero) copies columns instead of running the input GEMM, and its backward adds the
 * gate gradients into those columns instead of the dW_ih GEMM. The input stays an ordinary dense
 * tensor (PyTorch's semantics); the rows are recognised when the layer is called, at the cost of one
 * pass over the input, which stops at the first element that is neither 0 nor 1. The forward values
 * are exactly the GEMM's (one product by 1, the rest adds zeros); the dW_ih sums may round in a
 * different order.
 */
import type { FloatArray } from '../../kernels/index.js';

/** The column of each row's single 1 (-1 for an all-zero row), or null if some row is not one-hot. */
export function oneHotRows(x: FloatArray, rows: number, width: number): Int32Array | null {
  if (width < 2 || rows === 0) return null;
  const ids = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let id = -1;
    const base = r * width;
    for (let j = 0; j < width; j++) {
      const v = x[base + j]!;
      if (v === 0) continue;
      if (v !== 1 || id >= 0) return null;
      id = j;
    }
    ids[r] = id;
  }
  return ids;
}

/**
 * out[r, :] = w[:, ids[r]] (zeros where ids[r] = -1) + biases[0] + biases[1], added in that order and
 * rounded to out's precision after each add, as separate addRowVector passes would: the same bits in
 * one pass over out instead of three. Through w^T ([width, n] in `scratch`, the biases added there)
 * when there are enough rows to pay for the transpose, so each row is one contiguous copy.
 */
export function gatherColumns(
  ids: Int32Array, w: FloatArray, n: number, width: number, out: FloatArray, scratch: FloatArray | null,
  biases: readonly (FloatArray | null)[] = [],
): void {
  const rows = ids.length;
  const added = biases.filter((b): b is FloatArray => b !== null);
  const round = out instanceof Float32Array ? Math.fround : (v: number): number => v;
  const biased = (value: number, j: number): number => {
    for (const b of added) value = round(value + b[j]!);
    return value;
  };
  const zeroRow = (o: number): void => {
    if (added.length === 0) out.fill(0, o, o + n);
    else for (let j = 0; j < n; j++) out[o + j] = biased(0, j);
  };
  if (scratch) {
    transposeInto(w, n, width, scratch);
    if (added.length > 0) for (let o = 0; o < width * n; o += n) for (let j = 0; j < n; j++) scratch[o + j] = biased(scratch[o + j]!, j);
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      if (id < 0) zeroRow(r * n);
      else out.set(scratch.subarray(id * n, (id + 1) * n), r * n);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    const o = r * n;
    if (id < 0) zeroRow(o);
    else for (let j = 0; j < n; j++) out[o + j] = biased(w[j * width + id]!, j);
  }
}

/** Whether gatherColumns should go through a transposed copy of w (rows enough to amortise it). */
export const gatherNeedsScratch = (rows: number, width: number): boolean => rows > width;

/** dst [cols, rows] = src [rows, cols]^T. */
export function transposeInto(src: FloatArray, rows: number, cols: number, dst: FloatArray): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[o + j]!;
  }
}

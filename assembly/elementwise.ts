// Vector maps and reductions over flat f32 arrays (pointers are byte addresses in linear memory).
// Each loop runs four lanes at a time; the tail goes through the same code with partial loads.

import { FLUSH_BELOW, vconst } from './constants';
import { loadLanes, storeLanes } from './lanes';
import { sigmoid4, tanh4 } from './math';

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** rows of x ([rows, cols]) += v ([cols]). */
export function addRowVector(rows: i32, cols: i32, x: usize, v: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * cols * 4;
    for (let j = 0; j < cols; j += 4) {
      const n = cols - j;
      storeLanes(at(row, j), f32x4.add(loadLanes(at(row, j), n), loadLanes(at(v, j), n)), n);
    }
  }
}

/** out (+)= column sums of x ([rows, cols]), adding rows in order as the reference does. */
export function sumRows(rows: i32, cols: i32, x: usize, out: usize, accumulate: bool): void {
  if (!accumulate) memory.fill(out, 0, <usize>cols * 4);
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * cols * 4;
    for (let j = 0; j < cols; j += 4) {
      const n = cols - j;
      storeLanes(at(out, j), f32x4.add(loadLanes(at(out, j), n), loadLanes(at(row, j), n)), n);
    }
  }
}

/** y += alpha * x. */
export function axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  const va = f32x4.splat(alpha);
  for (let i = 0; i < n; i += 4) {
    const c = n - i;
    storeLanes(at(y, i), f32x4.add(loadLanes(at(y, i), c), f32x4.mul(va, loadLanes(at(x, i), c))), c);
  }
}

/** dst row ids[r] += src row r, rows in order; ids of -1 are skipped (the caller checked the rest). */
export function scatterAddRows(rows: i32, cols: i32, ids: usize, src: usize, dst: usize): void {
  const rowBytes = <usize>cols * 4;
  for (let r = 0; r < rows; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id >= 0) axpy(cols, 1, src + <usize>r * rowBytes, dst + <usize>id * rowBytes);
  }
}

/** x *= alpha. */
export function scale(n: i32, alpha: f32, x: usize): void {
  const va = f32x4.splat(alpha);
  for (let i = 0; i < n; i += 4) {
    const c = n - i;
    storeLanes(at(x, i), f32x4.mul(va, loadLanes(at(x, i), c)), c);
  }
}

/** Sum of squares, accumulated in f64 lanes so long gradient vectors keep their precision. */
export function sumSquares(n: i32, x: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = loadLanes(at(x, i), n - i);
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const s = f64x2.add(lo, hi);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** An RNN's nonlinearity, numbered as the RNN cells in sequence.ts (so a cell's number is its activation). */
export const ACTIVATION_TANH = 0;
export const ACTIVATION_RELU = 1;
export const ACTIVATION_SIGMOID = 4;

/** In place: tanh, relu or sigmoid (ACTIVATION_*). Full vectors, then one partial (see lstm.ts). */
export function rnnForward(n: i32, activation: i32, pre: usize): void {
  let i = 0;
  if (activation != ACTIVATION_RELU) {
    for (; i + 4 <= n; i += 4) storeLanes(at(pre, i), rnnLanes(loadLanes(at(pre, i), 4), activation), 4);
    if (i < n) storeLanes(at(pre, i), rnnLanes(loadLanes(at(pre, i), n - i), activation), n - i);
  } else {
    for (; i < n; i += 4) storeLanes(at(pre, i), rnnLanes(loadLanes(at(pre, i), n - i), activation), n - i);
  }
}

/** tanh, sigmoid, or ReLU as pmax(0, v) = 0 < v ? v : 0, which maps NaN to 0 like the reference's `v > 0 ? v : 0`. */
@inline export function rnnLanes(v: v128, activation: i32): v128 {
  if (activation == ACTIVATION_TANH) return tanh4(v);
  if (activation == ACTIVATION_SIGMOID) return sigmoid4(v);
  return f32x4.pmax(f32x4.splat(0), v);
}

/**
 * dPre = dh * act'(h) from the activated h, with |dPre| below 1e-30 flushed to 0 (NaN and infinities
 * kept); dPre may alias dh (each lane is read before written).
 *
 * Why the flush: a gradient vanishing through time is multiplied by W_hh and act' at every step
 * back, and on its way to 0 it spends many steps in float32's subnormal range (below 1.2e-38),
 * where x86 cores take a microcode assist on each multiply (WebAssembly has no flush-to-zero mode,
 * and the system BLAS runs without one). Slow seeds of the tanh RNN on the adding problem had 10% of
 * their dPre subnormal, and their backward products ran 3-4x slower. This is the one place the
 * carried gradient is formed each step, so flushing here keeps every later product (dh = dPre W_hh,
 * dW_hh = dPre^T H) on normal numbers. A dPre of 1e-30 is some 20 orders of magnitude below what
 * changes a float32 weight, so no result a test or an experiment reads moves.
 */
export function rnnBackward(n: i32, activation: i32, h: usize, dh: usize, dPre: usize): void {
  for (let i = 0; i < n; i += 4) {
    const c = n - i;
    const y = loadLanes(at(h, i), c);
    const d = loadLanes(at(dh, i), c);
    const r = activation == ACTIVATION_TANH
      ? f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(y, y)))
      : activation == ACTIVATION_SIGMOID
        ? f32x4.mul(d, f32x4.mul(y, f32x4.sub(f32x4.splat(1), y)))
        : v128.and(d, f32x4.gt(y, f32x4.splat(0)));
    storeLanes(at(dPre, i), v128.andnot(r, f32x4.lt(f32x4.abs(r), vconst(FLUSH_BELOW))), c);
  }
}

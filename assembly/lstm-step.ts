// One LSTM time step for a few batch rows with the weights unpacked (generation: T = 1, no
// gradients), as ONE call over a range of hidden units, so that threads can split a whole layer's
// step by units: the input projection, the biases, the recurrent product and the gate kernel of
// units [u0, u1) need nothing from other units. Per unit j of gate block g it runs, in order, exactly
// what the unfused path runs (src/nn/recurrent/fused.ts with T = 1):
//
//   gates[b, gH + j] = x[b] . W_ih[gH + j]           (gemm, beta 0)
//                    + b_ih[gH + j] + b_hh[gH + j]    (addRowVector twice)
//   gates[b, gH + j] = 1 * (h[b] . W_hh[gH + j]) + 1 * gates[b, gH + j]   (gemm, beta 1)
//   then lstmForward on units [u0, u1) of every row (no peepholes).
//
// so results are bit for bit those of the unfused calls, whatever the range (ranges start on a
// multiple of 4 units, where lstmForward's vectors start too). Reference: src/kernels/js (the same
// composition); validation: test/kernels-wasm.test.ts.

import { gemm } from './gemm';
import { sums4 } from './gemm-small';
import { loadLanes, storeLanes } from './lanes';
import { lstmForwardLanes } from './lstm';

/** gates [batch, 4 * hidden] is scratch; c and hOut [batch, hidden] receive the new state. */
export function lstmStepUnits(
  batch: i32, input: i32, hidden: i32, x: usize, h: usize, wIh: usize, wHh: usize, bIh: usize, bHh: usize,
  cPrev: usize, c: usize, hOut: usize, gates: usize, u0: i32, u1: i32, work: usize,
): void {
  const n = u1 - u0;
  if (n <= 0 || batch <= 0) return;
  const ldg = 4 * hidden;
  for (let g = 0; g < 4; g++) {
    const row = g * hidden + u0; // first row of W (and column of gates) of this block
    const gAt = gates + (<usize>row << 2);
    gemm(false, true, batch, n, input, 1, x, input, wIh + <usize>row * input * 4, input, 0, gAt, ldg, work);
    if (bIh) addVector(batch, n, gAt, ldg, bIh + (<usize>row << 2));
    if (bHh) addVector(batch, n, gAt, ldg, bHh + (<usize>row << 2));
    gemm(false, true, batch, n, hidden, 1, h, hidden, wHh + <usize>row * hidden * 4, hidden, 1, gAt, ldg, work);
  }
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * 4 * hb;
    const s = <usize>b * hb;
    let j = u0;
    for (; j + 4 <= u1; j += 4) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, 4, false);
    if (j < u1) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, u1 - j, false);
  }
}

/** rows x [n] (row stride ld floats) += v [n]: addRowVector's arithmetic. */
function addVector(rows: i32, n: i32, x: usize, ld: i32, v: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * ld * 4;
    for (let j = 0; j < n; j += 4) {
      const at = <usize>j << 2;
      const cnt = n - j;
      storeLanes(row + at, f32x4.add(loadLanes(row + at, cnt), loadLanes(v + at, cnt)), cnt);
    }
  }
}

// ---- The same step over weights prepared once (generation: src/kernels/wasm/prepared-step.ts) ----
//
// Each gate block of W (hidden rows of k weights) is cut into groups of 8 rows, and a group is stored
// interleaved: for every 4 columns, the 4 weights of row 0, then of row 1, ..., of row 7 (8 v128). A
// group then streams from one address instead of eight rows 4k bytes apart. Columns past k and rows
// past hidden are zero. An element of the result takes exactly the operations it takes in
// gemm-small's dot1x8 (four lane sums along k, added as (l0 + l2) + (l1 + l3)), so the bits are those
// of lstmStepUnits. For one-hot inputs (`tokens`), W_ih is stored transposed ([input, 4 * hidden]) and
// x W_ih^T is the column of each row's token: the dot product of a one-hot row gives that weight
// exactly.

/** Bytes of one gate block of a matrix with k columns in the grouped layout. */
export function groupedBlockBytes(hidden: i32, k: i32): usize {
  return <usize>((hidden + 7) >> 3) * 8 * <usize>((k + 3) & ~3) * 4;
}

/** Eight dot products of row a (k floats) with the rows of the interleaved group at w: lanes of the
 * first four in lo, of the last four in hi. */
function groupDot(k: i32, a: usize, w: usize, out: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
  const body = <usize>(k & ~3) << 2;
  for (let p: usize = 0; p < body; p += 16) {
    const x = v128.load(a + p);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(w)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(w, 16)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(w, 32)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(w, 48)));
    s4 = f32x4.add(s4, f32x4.mul(x, v128.load(w, 64)));
    s5 = f32x4.add(s5, f32x4.mul(x, v128.load(w, 80)));
    s6 = f32x4.add(s6, f32x4.mul(x, v128.load(w, 96)));
    s7 = f32x4.add(s7, f32x4.mul(x, v128.load(w, 112)));
    w += 128;
  }
  const rest = k & 3;
  if (rest) {
    const x = loadLanes(a + body, rest);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(w)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(w, 16)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(w, 32)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(w, 48)));
    s4 = f32x4.add(s4, f32x4.mul(x, v128.load(w, 64)));
    s5 = f32x4.add(s5, f32x4.mul(x, v128.load(w, 80)));
    s6 = f32x4.add(s6, f32x4.mul(x, v128.load(w, 96)));
    s7 = f32x4.add(s7, f32x4.mul(x, v128.load(w, 112)));
  }
  v128.store(out, sums4(s0, s1, s2, s3));
  v128.store(out, sums4(s4, s5, s6, s7), 16);
}

/**
 * lstmStepUnits over grouped weights, units [u0, u1) with u0 a multiple of 8. x is [batch, input]
 * (or 0 with `tokens`, [batch] i32 indices into the transposed W_ih); results as lstmStepUnits.
 */
export function lstmStepGroupedUnits(
  batch: i32, input: i32, hidden: i32, x: usize, tokens: usize, h: usize, wIh: usize, wHh: usize, bIh: usize, bHh: usize,
  cPrev: usize, c: usize, hOut: usize, gates: usize, u0: i32, u1: i32, sums: usize,
): void {
  if (u1 <= u0 || batch <= 0) return;
  const ldg = <usize>hidden * 16; // bytes of one row of gates
  const ihBlock = tokens ? 0 : groupedBlockBytes(hidden, input);
  const hhBlock = groupedBlockBytes(hidden, hidden);
  const ihGroup = <usize>((input + 3) & ~3) * 32, hhGroup = <usize>((hidden + 3) & ~3) * 32;
  for (let g = 0; g < 4; g++) {
    for (let j = u0; j < u1; j += 8) {
      const cols = min(8, u1 - j);
      const lo = min(cols, 4), hi = cols - 4;
      const col = <usize>(g * hidden + j) << 2; // byte offset of unit j of gate g in a row of gates
      const q = <usize>(j >> 3);
      for (let b = 0; b < batch; b++) {
        let r0: v128, r1: v128;
        if (tokens) {
          const at = wIh + <usize>load<i32>(tokens + (<usize>b << 2)) * ldg + col;
          r0 = loadLanes(at, lo);
          r1 = hi > 0 ? loadLanes(at + 16, hi) : f32x4.splat(0);
        } else {
          groupDot(input, x + <usize>b * input * 4, wIh + <usize>g * ihBlock + q * ihGroup, sums);
          r0 = v128.load(sums);
          r1 = v128.load(sums, 16);
        }
        if (bIh) {
          r0 = f32x4.add(r0, loadLanes(bIh + col, lo));
          if (hi > 0) r1 = f32x4.add(r1, loadLanes(bIh + col + 16, hi));
        }
        if (bHh) {
          r0 = f32x4.add(r0, loadLanes(bHh + col, lo));
          if (hi > 0) r1 = f32x4.add(r1, loadLanes(bHh + col + 16, hi));
        }
        groupDot(hidden, h + <usize>b * hidden * 4, wHh + <usize>g * hhBlock + q * hhGroup, sums);
        const at = gates + <usize>b * ldg + col;
        storeLanes(at, f32x4.add(v128.load(sums), r0), lo);
        if (hi > 0) storeLanes(at + 16, f32x4.add(v128.load(sums, 16), r1), hi);
      }
    }
  }
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * ldg;
    const s = <usize>b * hb;
    let j = u0;
    for (; j + 4 <= u1; j += 4) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, 4, false);
    if (j < u1) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, u1 - j, false);
  }
}

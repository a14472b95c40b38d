// One step of any cell over weights prepared once (generation: src/kernels/wasm/prepared-step.ts).
//
// Each gate block of W (hidden rows of k weights) is cut into groups of 8 rows, and a group is stored
// interleaved: for every 4 columns, the 4 weights of row 0, then of row 1, ..., of row 7 (8 v128). A
// group then streams from one address instead of eight rows 4k bytes apart. Columns past k and rows
// past hidden are zero. An element of a product takes exactly the operations it takes in
// gemm-small's dot1x8 (four lane sums along k, added as (l0 + l2) + (l1 + l3)), and biases and gates
// follow in the order of the layer's T = 1 path (src/nn/recurrent/fused.ts), so the bits are those of
// forward. For one-hot inputs (`tokens`), W_ih is stored transposed ([input, G * hidden]) and
// x W_ih^T is the column of each row's token: the dot product of a one-hot row gives that weight
// exactly. Validation: test/kernels-wasm.test.ts, test/recurrent-stepper.test.ts.

import { rnnLanes } from './elementwise';
import { sums4 } from './gemm-small';
import { gruForwardLanes } from './gru';
import { loadLanes, storeLanes } from './lanes';
import { lstmForwardLanes } from './lstm';

/** Cells, numbered as in sequence.ts (an RNN's number is its activation's, elementwise.ts). */
export const LSTM = 2;
export const GRU = 3;

/** Gate blocks of a cell: LSTM i, f, g, o; GRU r, z, n; an RNN one. */
@inline export function gateBlocks(cell: i32): i32 {
  return cell == LSTM ? 4 : cell == GRU ? 3 : 1;
}

/** Bytes of one gate block of a matrix with k columns in the grouped layout. */
export function groupedBlockBytes(hidden: i32, k: i32): usize {
  return <usize>((hidden + 7) >> 3) * 8 * <usize>((k + 3) & ~3) * 4;
}

/** Eight dot products of row a (k floats) with the rows of the interleaved group at w, to out[0..8).
 * Not inlined: as a function of its own the loop keeps its 8 accumulators in registers (inlined into
 * the step it ran 20-40% slower, measured). */
export function groupDot(k: i32, a: usize, w: usize, out: usize): void {
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
 * One step of `cell` for units [u0, u1) (u0 a multiple of 8) of every batch row, over grouped
 * weights. x is [batch, input] (or 0 with `tokens`, [batch] i32 indices into the transposed W_ih);
 * h [batch, hidden]. LSTM: cPrev to c and hOut, `gates` [batch, 4 * hidden] scratch, `peep` the
 * peephole weights [3 * hidden] (w_ci, w_cf, w_co) or 0. GRU: hOut,
 * `gates` and `gh` [batch, 3 * hidden] scratch. RNN: hOut, `gates` [batch, hidden] scratch.
 */
export function stepGroupedUnits(
  cell: i32, batch: i32, input: i32, hidden: i32, x: usize, tokens: usize, h: usize, wIh: usize, wHh: usize,
  bIh: usize, bHh: usize, peep: usize, cPrev: usize, c: usize, hOut: usize, gates: usize, gh: usize, u0: i32, u1: i32, sums: usize,
): void {
  if (u1 <= u0 || batch <= 0) return;
  const ldg = <usize>(gateBlocks(cell) * hidden) << 2; // bytes of one row of gates
  const G = gateBlocks(cell);
  const ihBlock = tokens ? 0 : groupedBlockBytes(hidden, input);
  const hhBlock = groupedBlockBytes(hidden, hidden);
  const ihGroup = <usize>((input + 3) & ~3) * 32, hhGroup = <usize>((hidden + 3) & ~3) * 32;
  for (let g = 0; g < G; g++) {
    for (let j = u0; j < u1; j += 8) {
      const cols = min(8, u1 - j);
      const lo = min(cols, 4), hi = cols - 4;
      const col = <usize>(g * hidden + j) << 2; // byte offset of unit j of gate g in a row of gates
      const q = <usize>(j >> 3);
      for (let b = 0; b < batch; b++) {
        // The input part: x W_ih^T (storeGateSums adds the biases).
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
        // The recurrent part: h W_hh^T, added to the input part (GRU: kept apart, + b_hh).
        groupDot(hidden, h + <usize>b * hidden * 4, wHh + <usize>g * hhBlock + q * hhGroup, sums);
        storeGateSums(cell, bIh, bHh, gates, gh, <usize>b * ldg + col, col, lo, hi, r0, r1, v128.load(sums), v128.load(sums, 16));
      }
    }
  }
  activateUnits(cell, batch, hidden, h, peep, cPrev, c, hOut, gates, gh, u0, u1);
}

/**
 * Pre-activations of units [j, j + lo + hi) of one gate and batch row, at byte `at` of `gates` (GRU:
 * the recurrent part at `at` of `gh`): r0, r1 the input part x W_ih^T, s0, s1 the recurrent part
 * h W_hh^T (4 + 4 units); `col` the byte offset of unit j in a bias. The biases and sums follow the
 * order of the layer's T = 1 path (src/nn/recurrent/fused.ts): (s + ((r + b_ih) + b_hh)); a GRU keeps
 * r + b_ih and s + b_hh apart.
 */
@inline export function storeGateSums(
  cell: i32, bIh: usize, bHh: usize, gates: usize, gh: usize, at: usize, col: usize, lo: i32, hi: i32,
  r0: v128, r1: v128, s0: v128, s1: v128,
): void {
  if (bIh) {
    r0 = f32x4.add(r0, loadLanes(bIh + col, lo));
    if (hi > 0) r1 = f32x4.add(r1, loadLanes(bIh + col + 16, hi));
  }
  if (bHh && cell != GRU) {
    r0 = f32x4.add(r0, loadLanes(bHh + col, lo));
    if (hi > 0) r1 = f32x4.add(r1, loadLanes(bHh + col + 16, hi));
  }
  if (cell == GRU) {
    storeLanes(gates + at, r0, lo);
    if (hi > 0) storeLanes(gates + at + 16, r1, hi);
    if (bHh) {
      s0 = f32x4.add(s0, loadLanes(bHh + col, lo));
      if (hi > 0) s1 = f32x4.add(s1, loadLanes(bHh + col + 16, hi));
    }
    storeLanes(gh + at, s0, lo);
    if (hi > 0) storeLanes(gh + at + 16, s1, hi);
  } else {
    storeLanes(gates + at, f32x4.add(s0, r0), lo);
    if (hi > 0) storeLanes(gates + at + 16, f32x4.add(s1, r1), hi);
  }
}

/** The cell's nonlinearities for units [u0, u1) of every batch row, from the pre-activations that
 * storeGateSums left in `gates` (and `gh`), to hOut (LSTM: and c). */
export function activateUnits(
  cell: i32, batch: i32, hidden: i32, h: usize, peep: usize, cPrev: usize, c: usize, hOut: usize, gates: usize, gh: usize, u0: i32, u1: i32,
): void {
  const ldg = <usize>(gateBlocks(cell) * hidden) << 2;
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * ldg;
    const s = <usize>b * hb;
    // Whole vectors with a constant lane count (plain loads and stores once inlined), then the tail.
    let j = u0;
    if (cell == LSTM && peep) {
      for (; j + 4 <= u1; j += 4) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, peep, hb, <usize>j << 2, 4, true);
      if (j < u1) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, peep, hb, <usize>j << 2, u1 - j, true);
    } else if (cell == LSTM) {
      for (; j + 4 <= u1; j += 4) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, 4, false);
      if (j < u1) lstmForwardLanes(gRow, cPrev + s, c + s, hOut + s, 0, hb, <usize>j << 2, u1 - j, false);
    } else if (cell == GRU) {
      const ghRow = gh + <usize>b * ldg;
      for (; j + 4 <= u1; j += 4) gruForwardLanes(gRow, ghRow, h + s, hOut + s, hb, <usize>j << 2, 4);
      if (j < u1) gruForwardLanes(gRow, ghRow, h + s, hOut + s, hb, <usize>j << 2, u1 - j);
    } else {
      for (; j < u1; j += 4) storeLanes(hOut + s + (<usize>j << 2), rnnLanes(loadLanes(gRow + (<usize>j << 2), min(4, u1 - j)), cell), min(4, u1 - j));
    }
  }
}

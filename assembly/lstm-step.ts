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

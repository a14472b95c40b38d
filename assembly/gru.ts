// Fused GRU step (PyTorch gate order r, z, n; the reset gate scales W_hn h + b_hn), four hidden units
// at a time. Reference and equations: src/kernels/js/gru.ts. The forward runs full vectors, then one
// partial vector through the same inlined body (see lstm.ts); the backward has no transcendental
// functions and is bound by memory, so it keeps the simpler loop.

import { ONE, vconst } from './constants';
import { madd } from './fma';
import { loadLanes, storeLanes } from './lanes';
import { sigmoid4, tanh4 } from './math';


export function gruForward(batch: i32, hidden: i32, gi: usize, gh: usize, hPrev: usize, h: usize): void {
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const xi = gi + <usize>b * 3 * hb;
    const xh = gh + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) gruForwardLanes(xi, xh, hPrev + s, h + s, hb, <usize>j << 2, 4);
    if (j < hidden) gruForwardLanes(xi, xh, hPrev + s, h + s, hb, <usize>j << 2, hidden - j);
  }
}

/** Units j..j+n-1 (n <= 4) of one batch row; o4 = 4j. */
@inline export function gruForwardLanes(xi: usize, xh: usize, hPrev: usize, h: usize, hb: usize, o4: usize, n: i32): void {
  const r = sigmoid4(f32x4.add(loadLanes(xi + o4, n), loadLanes(xh + o4, n)));
  const z = sigmoid4(f32x4.add(loadLanes(xi + hb + o4, n), loadLanes(xh + hb + o4, n)));
  const nn = tanh4(madd(r, loadLanes(xh + 2 * hb + o4, n), loadLanes(xi + 2 * hb + o4, n)));
  storeLanes(xi + o4, r, n);
  storeLanes(xi + hb + o4, z, n);
  storeLanes(xi + 2 * hb + o4, nn, n);
  const hp = loadLanes(hPrev + o4, n);
  storeLanes(h + o4, madd(f32x4.sub(vconst(ONE), z), nn, f32x4.mul(z, hp)), n);
}

export function gruBackward(
  batch: i32, hidden: i32, gi: usize, gh: usize, hPrev: usize, dh: usize, dGi: usize, dGh: usize, dhPrev: usize,
): void {
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const xi = gi + <usize>b * 3 * hb;
    const xh = gh + <usize>b * 3 * hb;
    const di = dGi + <usize>b * 3 * hb;
    const dhh = dGh + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    for (let j = 0; j < hidden; j += 4) {
      const n = hidden - j;
      const o4 = <usize>j << 2;
      const r = loadLanes(xi + o4, n);
      const z = loadLanes(xi + hb + o4, n);
      const nn = loadLanes(xi + 2 * hb + o4, n);
      const hp = loadLanes(hPrev + s + o4, n);
      const d = loadLanes(dh + s + o4, n);
      const dpn = f32x4.mul(f32x4.mul(d, f32x4.sub(vconst(ONE), z)), f32x4.sub(vconst(ONE), f32x4.mul(nn, nn)));
      const dpz = f32x4.mul(f32x4.mul(d, f32x4.sub(hp, nn)), f32x4.mul(z, f32x4.sub(vconst(ONE), z)));
      const dpr = f32x4.mul(f32x4.mul(dpn, loadLanes(xh + 2 * hb + o4, n)), f32x4.mul(r, f32x4.sub(vconst(ONE), r)));
      storeLanes(di + o4, dpr, n);
      storeLanes(di + hb + o4, dpz, n);
      storeLanes(di + 2 * hb + o4, dpn, n);
      storeLanes(dhh + o4, dpr, n);
      storeLanes(dhh + hb + o4, dpz, n);
      storeLanes(dhh + 2 * hb + o4, f32x4.mul(dpn, r), n);
      storeLanes(dhPrev + s + o4, f32x4.mul(d, z), n);
    }
  }
}

// linear_before_reset = 0 (the reset gate scales h before W_hn), forward only: a step is two gate
// kernels around a second recurrent product over r * hPrev, which the caller runs in between
// (contract: gruResetBeforeGates, gruResetBeforeUpdate).

export function gruResetBeforeGates(batch: i32, hidden: i32, gates: usize, hPrev: usize, rh: usize): void {
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const g = gates + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    for (let j = 0; j < hidden; j += 4) {
      const n = hidden - j;
      const o4 = <usize>j << 2;
      const r = sigmoid4(loadLanes(g + o4, n));
      storeLanes(g + o4, r, n);
      storeLanes(g + hb + o4, sigmoid4(loadLanes(g + hb + o4, n)), n);
      storeLanes(rh + s + o4, f32x4.mul(r, loadLanes(hPrev + s + o4, n)), n);
    }
  }
}

export function gruResetBeforeUpdate(batch: i32, hidden: i32, gates: usize, hPrev: usize, h: usize): void {
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const g = gates + <usize>b * 3 * hb;
    const s = <usize>b * hb;
    for (let j = 0; j < hidden; j += 4) {
      const n = hidden - j;
      const o4 = <usize>j << 2;
      const z = loadLanes(g + hb + o4, n);
      const nn = tanh4(loadLanes(g + 2 * hb + o4, n));
      storeLanes(g + 2 * hb + o4, nn, n);
      storeLanes(h + s + o4, madd(f32x4.sub(vconst(ONE), z), nn, f32x4.mul(z, loadLanes(hPrev + s + o4, n))), n);
    }
  }
}

// Fused LSTM step (PyTorch gate order i, f, g, o; optional ONNX peepholes), four hidden units at a
// time. Reference and equations: src/kernels/js/lstm.ts.
//
// Each row runs full vectors, then one partial vector through the same inlined body: with n = 4
// constant, loadLanes/storeLanes compile to plain v128 loads and stores. The peephole flag is a
// constant too (two inlined copies), so it costs nothing per vector.

import { ONE, vconst } from './constants';
import { madd } from './fma';
import { loadLanes, storeLanes } from './lanes';
import { sigmoid4, tanh4 } from './math';

export function lstmForward(batch: i32, hidden: i32, gates: usize, cPrev: usize, c: usize, hRaw: usize, peep: usize): void {
  if (peep) lstmForwardRows(batch, hidden, gates, cPrev, c, hRaw, peep, true);
  else lstmForwardRows(batch, hidden, gates, cPrev, c, hRaw, 0, false);
}

@inline function lstmForwardRows(batch: i32, hidden: i32, gates: usize, cPrev: usize, c: usize, hRaw: usize, peep: usize, hasPeep: bool): void {
  const hb = <usize>hidden * 4; // bytes in one gate block
  for (let b = 0; b < batch; b++) {
    const g = gates + <usize>b * 4 * hb;
    const s = <usize>b * hb;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) lstmForwardLanes(g, cPrev + s, c + s, hRaw + s, peep, hb, <usize>j << 2, 4, hasPeep);
    if (j < hidden) lstmForwardLanes(g, cPrev + s, c + s, hRaw + s, peep, hb, <usize>j << 2, hidden - j, hasPeep);
  }
}

/** Units j..j+n-1 (n <= 4) of one batch row; o4 = 4j bytes. */
@inline export function lstmForwardLanes(g: usize, cPrev: usize, c: usize, hRaw: usize, peep: usize, hb: usize, o4: usize, n: i32, hasPeep: bool): void {
  const cp = loadLanes(cPrev + o4, n);
  let pi = loadLanes(g + o4, n);
  let pf = loadLanes(g + hb + o4, n);
  if (hasPeep) {
    pi = madd(loadLanes(peep + o4, n), cp, pi);
    pf = madd(loadLanes(peep + hb + o4, n), cp, pf);
  }
  const i = sigmoid4(pi);
  const f = sigmoid4(pf);
  const gg = tanh4(loadLanes(g + 2 * hb + o4, n));
  const cNew = madd(f, cp, f32x4.mul(i, gg));
  let po = loadLanes(g + 3 * hb + o4, n);
  if (hasPeep) po = madd(loadLanes(peep + 2 * hb + o4, n), cNew, po);
  const o = sigmoid4(po);
  storeLanes(g + o4, i, n);
  storeLanes(g + hb + o4, f, n);
  storeLanes(g + 2 * hb + o4, gg, n);
  storeLanes(g + 3 * hb + o4, o, n);
  storeLanes(c + o4, cNew, n);
  storeLanes(hRaw + o4, f32x4.mul(o, tanh4(cNew)), n);
}

export function lstmBackward(
  batch: i32, hidden: i32, gates: usize, cPrev: usize, c: usize, dhRaw: usize, dc: usize, dGates: usize,
  peep: usize, dPeep: usize,
): void {
  if (peep) lstmBackwardRows(batch, hidden, gates, cPrev, c, dhRaw, dc, dGates, peep, dPeep, true);
  else lstmBackwardRows(batch, hidden, gates, cPrev, c, dhRaw, dc, dGates, 0, 0, false);
}

@inline function lstmBackwardRows(
  batch: i32, hidden: i32, gates: usize, cPrev: usize, c: usize, dhRaw: usize, dc: usize, dGates: usize,
  peep: usize, dPeep: usize, hasPeep: bool,
): void {
  const hb = <usize>hidden * 4;
  for (let b = 0; b < batch; b++) {
    const g = gates + <usize>b * 4 * hb;
    const dg = dGates + <usize>b * 4 * hb;
    const s = <usize>b * hb;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      lstmBackwardLanes(g, cPrev + s, c + s, dhRaw + s, dc + s, dg, peep, dPeep, hb, <usize>j << 2, 4, hasPeep);
    }
    if (j < hidden) lstmBackwardLanes(g, cPrev + s, c + s, dhRaw + s, dc + s, dg, peep, dPeep, hb, <usize>j << 2, hidden - j, hasPeep);
  }
}

@inline function lstmBackwardLanes(
  g: usize, cPrev: usize, c: usize, dhRaw: usize, dc: usize, dg: usize, peep: usize, dPeep: usize,
  hb: usize, o4: usize, n: i32, hasPeep: bool,
): void {
  const one = vconst(ONE);
  const i = loadLanes(g + o4, n);
  const f = loadLanes(g + hb + o4, n);
  const gg = loadLanes(g + 2 * hb + o4, n);
  const o = loadLanes(g + 3 * hb + o4, n);
  const cp = loadLanes(cPrev + o4, n);
  const cv = loadLanes(c + o4, n);
  const tc = tanh4(cv);
  const dh = loadLanes(dhRaw + o4, n);
  const dpo = f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o)));
  let dct = madd(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc)), loadLanes(dc + o4, n));
  if (hasPeep) dct = madd(dpo, loadLanes(peep + 2 * hb + o4, n), dct);
  const dpi = f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(i, f32x4.sub(one, i)));
  const dpf = f32x4.mul(f32x4.mul(dct, cp), f32x4.mul(f, f32x4.sub(one, f)));
  const dpg = f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(gg, gg)));
  let dcp = f32x4.mul(dct, f);
  if (hasPeep) {
    dcp = f32x4.add(dcp, f32x4.add(f32x4.mul(dpi, loadLanes(peep + o4, n)), f32x4.mul(dpf, loadLanes(peep + hb + o4, n))));
    if (dPeep) {
      storeLanes(dPeep + o4, madd(dpi, cp, loadLanes(dPeep + o4, n)), n);
      storeLanes(dPeep + hb + o4, madd(dpf, cp, loadLanes(dPeep + hb + o4, n)), n);
      storeLanes(dPeep + 2 * hb + o4, madd(dpo, cv, loadLanes(dPeep + 2 * hb + o4, n)), n);
    }
  }
  storeLanes(dc + o4, dcp, n);
  storeLanes(dg + o4, dpi, n);
  storeLanes(dg + hb + o4, dpf, n);
  storeLanes(dg + 2 * hb + o4, dpg, n);
  storeLanes(dg + 3 * hb + o4, dpo, n);
}

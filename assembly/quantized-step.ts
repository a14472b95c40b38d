// One step of any cell over weights quantized once to int8 (generation with `quantize: 'int8'`:
// src/kernels/wasm/quantized-step.ts lays them out, src/kernels/js/quantized-step.ts is the
// reference these kernels are tested against).
//
// Dynamic quantization, as PyTorch's quantize_dynamic and ONNX Runtime's DynamicQuantizeLSTM do it:
// each row of W_ih and W_hh holds integers in [-127, 127] and one float scale (max |w| / 127, chosen
// once); each step quantizes the vectors x and h the same way with a scale of their own; a product
// is an exact integer dot product, rescaled to float32 as (float(sum) * row scale) * vector scale.
// Biases, gates, nonlinearities and the cell state stay float32 (assembly/prepared-step.ts's code).
//
// The integers are stored as i16, not i8: i32x4.dot_i16x8_s then does 8 multiply-adds per
// instruction straight from memory, where i8 storage needs two widenings per 16 weights first; on
// the W4 shapes the i16 loop ran faster per thread than either i8 variant (widened by extend, or by
// masking pairs), measured with standalone loops (docs/architecture.md, "Quantized generation"). Products of
// two int8 values summed in pairs and then over k stay far inside i32 (k * 127^2 / 4 per lane), so
// every sum is exact whatever the order: the reference gives the same bits.
//
// Layout: groups of 8 rows interleaved by 8 columns (8 x 16 bytes), k padded to whole 8-column
// steps and rows to whole groups with zeros, gate block after gate block; with `tokens` W_ih stays
// float32, transposed ([input, G * hidden]), as in the float layout.

import { loadLanes } from './lanes';
import { activateUnits, gateBlocks, storeGateSums } from './prepared-step';

/** The prepared block starts with these i32 slots: byte addresses of its parts (0: absent). */
export const QSTEP_W_IH = 0; //  grouped i16 (or float32 transposed with tokens)
export const QSTEP_S_IH = 1; //  f32 [G * hidden] row scales of W_ih (0 with tokens)
export const QSTEP_W_HH = 2; //  grouped i16
export const QSTEP_S_HH = 3; //  f32 [G * hidden] row scales of W_hh
export const QSTEP_B_IH = 4;
export const QSTEP_B_HH = 5;
export const QSTEP_PEEP = 6;
export const QSTEP_HEADER_SLOTS = 8;

/** Columns padded to whole steps of 8 (i16 lanes). */
@inline export function paddedColumns(k: i32): i32 {
  return (k + 7) & ~7;
}

/**
 * Quantizes `rows` rows of n floats at src to i16 integers in [-127, 127] at dst (rows `stride`
 * i16 apart, zero past n) and writes each row's scale to scales: m = max |x|, q = round-half-even(x *
 * (127 / m)), scale = m / 127, all in float32. A zero row has scale 0; a row holding NaN or an
 * infinity has scale NaN (so its products are NaN, as the float path's would be) and zeros.
 */
export function quantizeRows(rows: i32, n: i32, stride: i32, src: usize, dst: usize, scales: usize): void {
  for (let r = 0; r < rows; r++) {
    const x = src + <usize>r * n * 4;
    const q = dst + <usize>r * stride * 2;
    let m: f32 = 0;
    for (let i = 0; i < n; i++) m = max(m, abs(load<f32>(x + (<usize>i << 2))));
    let scale: f32 = 0;
    if (m != m || m == Infinity) {
      scale = NaN;
      memory.fill(q, 0, <usize>stride * 2);
    } else if (m == 0) {
      memory.fill(q, 0, <usize>stride * 2);
    } else {
      const inv: f32 = 127 / m;
      for (let i = 0; i < n; i++) {
        const v = min<f32>(127, max<f32>(-127, nearest(load<f32>(x + (<usize>i << 2)) * inv)));
        store<i16>(q + (<usize>i << 1), <i16>v);
      }
      for (let i = n; i < stride; i++) store<i16>(q + (<usize>i << 1), 0);
      scale = m / 127;
    }
    store<f32>(scales + (<usize>r << 2), scale);
  }
}

/** The four lane sums of x0..x3 as one vector (integer: exact in any order). */
@inline function sums4i(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const u01 = i32x4.add(v128.shuffle<i32>(x0, x1, 0, 4, 1, 5), v128.shuffle<i32>(x0, x1, 2, 6, 3, 7));
  const u23 = i32x4.add(v128.shuffle<i32>(x2, x3, 0, 4, 1, 5), v128.shuffle<i32>(x2, x3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(u01, u23, 0, 1, 4, 5), v128.shuffle<i32>(u01, u23, 2, 3, 6, 7));
}

/** Eight integer dot products of the quantized row a (kp i16, kp a multiple of 8) with the rows of the
 * interleaved group at w, to out[0..8) as i32. A function of its own, like prepared-step's groupDot,
 * so that its accumulators stay in registers. */
export function groupDotI16(kp: i32, a: usize, w: usize, out: usize): void {
  let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
  let s4 = i32x4.splat(0), s5 = i32x4.splat(0), s6 = i32x4.splat(0), s7 = i32x4.splat(0);
  const end = <usize>kp << 1;
  for (let p: usize = 0; p < end; p += 16) {
    const x = v128.load(a + p);
    s0 = i32x4.add(s0, i32x4.dot_i16x8_s(x, v128.load(w)));
    s1 = i32x4.add(s1, i32x4.dot_i16x8_s(x, v128.load(w, 16)));
    s2 = i32x4.add(s2, i32x4.dot_i16x8_s(x, v128.load(w, 32)));
    s3 = i32x4.add(s3, i32x4.dot_i16x8_s(x, v128.load(w, 48)));
    s4 = i32x4.add(s4, i32x4.dot_i16x8_s(x, v128.load(w, 64)));
    s5 = i32x4.add(s5, i32x4.dot_i16x8_s(x, v128.load(w, 80)));
    s6 = i32x4.add(s6, i32x4.dot_i16x8_s(x, v128.load(w, 96)));
    s7 = i32x4.add(s7, i32x4.dot_i16x8_s(x, v128.load(w, 112)));
    w += 128;
  }
  v128.store(out, sums4i(s0, s1, s2, s3));
  v128.store(out, sums4i(s4, s5, s6, s7), 16);
}

/** (float(sum) * row scale) * vector scale for `count` (1..4) rows. */
@inline function rescale(sums: v128, rowScales: usize, count: i32, vectorScale: f32): v128 {
  return f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sums), loadLanes(rowScales, count)), f32x4.splat(vectorScale));
}

/**
 * One quantized step of `cell` for units [u0, u1) (u0 a multiple of 8) of every batch row. `prep` is
 * the prepared block (its header: QSTEP_*). xq [batch, paddedColumns(input)] and hq [batch,
 * paddedColumns(hidden)] are x and h quantized by quantizeRows, with their scales xs and hs [batch]
 * (xq and xs 0 with `tokens`, [batch] i32 indices into the transposed W_ih). h is the float state
 * (a GRU reads it); cPrev, c, hOut, gates, gh as in stepGroupedUnits. `sums` is 32 bytes of scratch.
 */
export function stepQuantizedUnits(
  cell: i32, batch: i32, input: i32, hidden: i32, xq: usize, xs: usize, tokens: usize, hq: usize, hs: usize, h: usize,
  prep: usize, cPrev: usize, c: usize, hOut: usize, gates: usize, gh: usize, u0: i32, u1: i32, sums: usize,
): void {
  if (u1 <= u0 || batch <= 0) return;
  const wIh = <usize>load<i32>(prep + (QSTEP_W_IH << 2)), sIh = <usize>load<i32>(prep + (QSTEP_S_IH << 2));
  const wHh = <usize>load<i32>(prep + (QSTEP_W_HH << 2)), sHh = <usize>load<i32>(prep + (QSTEP_S_HH << 2));
  const bIh = <usize>load<i32>(prep + (QSTEP_B_IH << 2)), bHh = <usize>load<i32>(prep + (QSTEP_B_HH << 2));
  const peep = <usize>load<i32>(prep + (QSTEP_PEEP << 2));
  const G = gateBlocks(cell);
  const ldg = <usize>(G * hidden) << 2; // bytes of one row of gates
  const kpIn = paddedColumns(input), kpH = paddedColumns(hidden);
  const groups = <usize>((hidden + 7) >> 3);
  const ihGroup = <usize>kpIn * 16, hhGroup = <usize>kpH * 16; // bytes of one group of 8 rows
  for (let g = 0; g < G; g++) {
    for (let j = u0; j < u1; j += 8) {
      const cols = min(8, u1 - j);
      const lo = min(cols, 4), hi = cols - 4;
      const col = <usize>(g * hidden + j) << 2; // byte offset of unit j of gate g in a row of gates
      const group = <usize>g * groups + <usize>(j >> 3);
      for (let b = 0; b < batch; b++) {
        let r0: v128, r1: v128;
        if (tokens) {
          const at = wIh + <usize>load<i32>(tokens + (<usize>b << 2)) * ldg + col;
          r0 = loadLanes(at, lo);
          r1 = hi > 0 ? loadLanes(at + 16, hi) : f32x4.splat(0);
        } else {
          const sx = load<f32>(xs + (<usize>b << 2));
          groupDotI16(kpIn, xq + <usize>b * kpIn * 2, wIh + group * ihGroup, sums);
          r0 = rescale(v128.load(sums), sIh + col, lo, sx);
          r1 = hi > 0 ? rescale(v128.load(sums, 16), sIh + col + 16, hi, sx) : f32x4.splat(0);
        }
        const sh = load<f32>(hs + (<usize>b << 2));
        groupDotI16(kpH, hq + <usize>b * kpH * 2, wHh + group * hhGroup, sums);
        const s0 = rescale(v128.load(sums), sHh + col, lo, sh);
        const s1 = hi > 0 ? rescale(v128.load(sums, 16), sHh + col + 16, hi, sh) : f32x4.splat(0);
        storeGateSums(cell, bIh, bHh, gates, gh, <usize>b * ldg + col, col, lo, hi, r0, r1, s0, s1);
      }
    }
  }
  activateUnits(cell, batch, hidden, h, peep, cPrev, c, hOut, gates, gh, u0, u1);
}

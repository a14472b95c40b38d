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
// The weights are stored as i8 and x, h as i16. A v128 of weights holds one row's 16 columns of a
// step, as 8 i16 lanes whose low byte is column i and high byte column 8 + i: v << 8 and v & 0xff00
// are then 256 times those columns, exactly, as i16, and i32x4.dot_i16x8_s multiplies them by x's
// columns 0..7 and 8..15 in their natural order. i8 storage halves the bytes a token streams against
// i16 storage, which decides the speed wherever the weights do not fit in the cores' caches: on W4's
// shapes, with weights that are not the zero page, i8 ran 64 us a token on 2 threads where i16 ran
// 104-134 (bench/quantized-gemv). Every sum is exact: a lane gathers 4 products of at most
// 127 * 127 * 256 per 16 columns, so a run of CHUNK_COLUMNS columns stays inside i32, and each run is
// shifted back by 8 before runs and lanes are added. The reference gives the same bits.
//
// Layout: groups of 8 rows interleaved by 16 columns (8 x 16 bytes), k padded to whole 16-column
// steps and rows to whole groups with zeros, gate block after gate block; with `tokens` W_ih stays
// float32, transposed ([input, G * hidden]), as in the float layout.

import { loadLanes } from './lanes';
import { activateUnits, gateBlocks, storeGateSums } from './prepared-step';

/** The prepared block starts with these i32 slots: byte addresses of its parts (0: absent). */
export const QSTEP_W_IH = 0; //  grouped i8 (or float32 transposed with tokens)
export const QSTEP_S_IH = 1; //  f32 [G * hidden] row scales of W_ih (0 with tokens)
export const QSTEP_W_HH = 2; //  grouped i8
export const QSTEP_S_HH = 3; //  f32 [G * hidden] row scales of W_hh
export const QSTEP_B_IH = 4;
export const QSTEP_B_HH = 5;
export const QSTEP_PEEP = 6;
export const QSTEP_HEADER_SLOTS = 8;

/** Columns padded to whole steps of 16 (one v128 of i8 weights). */
@inline export function paddedColumns(k: i32): i32 {
  return (k + 15) & ~15;
}

/** Columns whose scaled sums one i32 lane holds exactly: 4 * 127 * 127 * 256 per 16 columns, times
 * 2048 / 16, is 2,114,060,288 < 2^31. */
const CHUNK_COLUMNS = 2048;

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

/** The scaled products of one v128 of weights (16 columns of a row) with x's columns 0..7 (xl) and
 * 8..15 (xh), added to s. */
@inline function dot16(s: v128, xl: v128, xh: v128, v: v128): v128 {
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.shl(v, 8)), i32x4.dot_i16x8_s(xh, v128.and(v, i16x8.splat(<i16>0xff00)))));
}

/** Eight integer dot products of the quantized row a (kp i16, kp a multiple of 16) with the i8 rows of
 * the interleaved group at w, to out[0..8) as i32. A function of its own, like prepared-step's
 * groupDot, so that its accumulators stay in registers. */
export function groupDotI8(kp: i32, a: usize, w: usize, out: usize): void {
  let t0 = i32x4.splat(0), t1 = i32x4.splat(0);
  for (let from = 0; from < kp; from += CHUNK_COLUMNS) {
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    let s4 = i32x4.splat(0), s5 = i32x4.splat(0), s6 = i32x4.splat(0), s7 = i32x4.splat(0);
    const end = a + (<usize>min(kp, from + CHUNK_COLUMNS) << 1);
    for (let p = a + (<usize>from << 1); p < end; p += 32) {
      const xl = v128.load(p), xh = v128.load(p, 16);
      s0 = dot16(s0, xl, xh, v128.load(w));
      s1 = dot16(s1, xl, xh, v128.load(w, 16));
      s2 = dot16(s2, xl, xh, v128.load(w, 32));
      s3 = dot16(s3, xl, xh, v128.load(w, 48));
      s4 = dot16(s4, xl, xh, v128.load(w, 64));
      s5 = dot16(s5, xl, xh, v128.load(w, 80));
      s6 = dot16(s6, xl, xh, v128.load(w, 96));
      s7 = dot16(s7, xl, xh, v128.load(w, 112));
      w += 128;
    }
    t0 = i32x4.add(t0, sums4i(i32x4.shr_s(s0, 8), i32x4.shr_s(s1, 8), i32x4.shr_s(s2, 8), i32x4.shr_s(s3, 8)));
    t1 = i32x4.add(t1, sums4i(i32x4.shr_s(s4, 8), i32x4.shr_s(s5, 8), i32x4.shr_s(s6, 8), i32x4.shr_s(s7, 8)));
  }
  v128.store(out, t0);
  v128.store(out, t1, 16);
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
  const ihGroup = <usize>kpIn * 8, hhGroup = <usize>kpH * 8; // bytes of one group of 8 rows
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
          groupDotI8(kpIn, xq + <usize>b * kpIn * 2, wIh + group * ihGroup, sums);
          r0 = rescale(v128.load(sums), sIh + col, lo, sx);
          r1 = hi > 0 ? rescale(v128.load(sums, 16), sIh + col + 16, hi, sx) : f32x4.splat(0);
        }
        const sh = load<f32>(hs + (<usize>b << 2));
        groupDotI8(kpH, hq + <usize>b * kpH * 2, wHh + group * hhGroup, sums);
        const s0 = rescale(v128.load(sums), sHh + col, lo, sh);
        const s1 = hi > 0 ? rescale(v128.load(sums, 16), sHh + col + 16, hi, sh) : f32x4.splat(0);
        storeGateSums(cell, bIh, bHh, gates, gh, <usize>b * ldg + col, col, lo, hi, r0, r1, s0, s1);
      }
    }
  }
  activateUnits(cell, batch, hidden, h, peep, cPrev, c, hOut, gates, gh, u0, u1);
}

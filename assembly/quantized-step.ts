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
// The weights are stored as i8 and x, h as i16, two rows to an i16 lane: for rows a and b of a pair
// and a column, V = 256 w_a + w_b (which fits i16 for |w| <= 127). i32x4.dot_i16x8_s(x, V) is then
// 256 A + B, and dot(x, V << 8), where the shift leaves 256 w_b, is 256 B: B and A follow exactly by
// shifts. Five operations per 16 weights (a shift, two dot products, two additions), where widening
// 16 i8 weights into two i16 vectors takes six. i8 storage halves the bytes a token streams against
// i16 storage, which decides the speed wherever the weights do not fit in the cores' caches. On W4's
// shapes, with weights that are not the zero page, on 2 threads: 49-50 us a token for this loop,
// 59-62 for i8 widened by shift and mask, 97-120 for i16 (bench/quantized-gemv). Every sum is
// exact: a lane gathers 257 * 127 * 127 at most per 4 columns, so a run of CHUNK_COLUMNS columns
// stays inside i32; each run is decoded into A and B before runs and lanes are added. The reference
// gives the same bits.
//
// Layout: groups of 8 rows (4 pairs) interleaved by 8 columns (4 x 16 bytes), k padded to whole
// 8-column steps and rows to whole groups with zeros, gate block after gate block; with `tokens` W_ih
// stays float32, transposed ([input, G * hidden]), as in the float layout.

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

/** Columns padded to whole steps of 8 (i16 lanes of x). */
@inline export function paddedColumns(k: i32): i32 {
  return (k + 7) & ~7;
}

/** Columns whose sums one i32 lane holds exactly: a lane takes a quarter of them, each adding at most
 * 257 * 127 * 127 (256 A + B), and 257 * 16129 * 2048 / 4 = 2,122,310,656 < 2^31. */
const CHUNK_COLUMNS = 2048;

/**
 * Quantizes `rows` rows of n floats at src to i16 integers in [-127, 127] at dst (rows `stride`
 * i16 apart, zero past n) and writes each row's scale to scales: m = max |x|, q = round-half-even(x *
 * (127 / m)), scale = m / 127, all in float32. A zero row has scale 0; a row holding NaN or an
 * infinity has scale NaN (so its products are NaN, as the float path's would be) and zeros.
 */
export function quantizeRows(rows: i32, n: i32, stride: i32, src: usize, dst: usize, scales: usize): void {
  const whole = n & ~7;
  // Adding 1.5 * 2^23 to |y| <= 2^22 leaves round-half-even(y) in the low bits (the addition rounds
  // to an integer, half to even, as `nearest` does): one add and one subtract per four values, where
  // nearest, clamp and a saturating conversion take some twenty instructions in V8.
  const magic = f32x4.splat(12582912), magicBits = i32x4.splat(0x4b400000);
  const lo = i32x4.splat(-127), hi = i32x4.splat(127);
  for (let r = 0; r < rows; r++) {
    const x = src + <usize>r * n * 4;
    const q = dst + <usize>r * stride * 2;
    // max |x| by pmax (one instruction; exact in any order), with NaNs, which pmax may drop, noted apart.
    let mv = f32x4.splat(0), nan = i32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      mv = f32x4.pmax(mv, f32x4.abs(v));
      nan = v128.or(nan, f32x4.ne(v, v));
    }
    let m: f32 = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    if (v128.any_true(nan)) m = NaN;
    for (; i < n; i++) m = max(m, abs(load<f32>(x + (<usize>i << 2))));
    let scale: f32 = 0;
    if (m != m || m == Infinity) {
      scale = NaN;
      memory.fill(q, 0, <usize>stride * 2);
    } else if (m == 0) {
      memory.fill(q, 0, <usize>stride * 2);
    } else {
      const inv: f32 = 127 / m;
      const vInv = f32x4.splat(inv);
      for (i = 0; i < whole; i += 8) {
        const at = x + (<usize>i << 2);
        const a = i32x4.sub(f32x4.add(f32x4.mul(v128.load(at), vInv), magic), magicBits);
        const b = i32x4.sub(f32x4.add(f32x4.mul(v128.load(at, 16), vInv), magic), magicBits);
        v128.store(q + (<usize>i << 1), i16x8.narrow_i32x4_s(i32x4.min_s(hi, i32x4.max_s(lo, a)), i32x4.min_s(hi, i32x4.max_s(lo, b))));
      }
      for (; i < n; i++) {
        const v = min<f32>(127, max<f32>(-127, nearest(load<f32>(x + (<usize>i << 2)) * inv)));
        store<i16>(q + (<usize>i << 1), <i16>v);
      }
      for (let j = n; j < stride; j++) store<i16>(q + (<usize>j << 1), 0);
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

/** Rows a and b of a pair from their lanes' sums of 256 A + B (d1) and 256 B (d2), exactly. */
@inline function pairRows(d1: v128, d2: v128, rowB: bool): v128 {
  const b = i32x4.shr_s(d2, 8);
  return rowB ? b : i32x4.shr_s(i32x4.sub(d1, b), 8);
}

/** Eight integer dot products of the quantized row a (kp i16, kp a multiple of 8) with the 4 row
 * pairs of the interleaved group at w, to out[0..8) as i32. A function of its own, like
 * prepared-step's groupDot, so that its accumulators stay in registers. */
export function groupDotI8(kp: i32, a: usize, w: usize, out: usize): void {
  let t0 = i32x4.splat(0), t1 = i32x4.splat(0);
  for (let from = 0; from < kp; from += CHUNK_COLUMNS) {
    let a0 = i32x4.splat(0), b0 = i32x4.splat(0), a1 = i32x4.splat(0), b1 = i32x4.splat(0);
    let a2 = i32x4.splat(0), b2 = i32x4.splat(0), a3 = i32x4.splat(0), b3 = i32x4.splat(0);
    const end = a + (<usize>min(kp, from + CHUNK_COLUMNS) << 1);
    for (let p = a + (<usize>from << 1); p < end; p += 16) {
      const x = v128.load(p);
      const v0 = v128.load(w), v1 = v128.load(w, 16), v2 = v128.load(w, 32), v3 = v128.load(w, 48);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, v0));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x, i16x8.shl(v0, 8)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, v1));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x, i16x8.shl(v1, 8)));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, v2));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x, i16x8.shl(v2, 8)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, v3));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x, i16x8.shl(v3, 8)));
      w += 64;
    }
    t0 = i32x4.add(t0, sums4i(pairRows(a0, b0, false), pairRows(a0, b0, true), pairRows(a1, b1, false), pairRows(a1, b1, true)));
    t1 = i32x4.add(t1, sums4i(pairRows(a2, b2, false), pairRows(a2, b2, true), pairRows(a3, b3, false), pairRows(a3, b3, true)));
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

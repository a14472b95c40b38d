// Layouts for the weights of int8-quantized generation, timed by bench/quantized-gemv/run.mjs: W4's
// recurrent weights as one GEMV per token, in groups of 8 rows interleaved by columns. The float32
// and row-pair loops are the kernels' own (assembly/prepared-step.ts groupDot, assembly/quantized-step.ts
// groupDotI8); the others are the alternatives: int8 values held as int16 (the kernel's layout until
// weights were timed as real data rather than never-written memory), and three ways to widen 16 i8
// weights into two i16 vectors.
import { groupDot } from '../../assembly/prepared-step';
import { groupDotI8 } from '../../assembly/quantized-step';

export const KIND_F32 = 0;
export const KIND_I16 = 1;
export const KIND_I8_EXTEND = 2;
export const KIND_I8_MASK = 3;
export const KIND_I8_SHIFT = 4;
export const KIND_I8_PAIR = 5;

/** The int16 layout's loop: 8 rows interleaved by 8 columns of i16. */
function groupDotI16(kp: i32, a: usize, w: usize, out: usize): void {
  let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
  let s4 = i32x4.splat(0), s5 = i32x4.splat(0), s6 = i32x4.splat(0), s7 = i32x4.splat(0);
  for (let p: usize = 0; p < <usize>kp << 1; p += 16) {
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
  v128.store(out, i32x4.add(i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3)), i32x4.add(i32x4.add(s4, s5), i32x4.add(s6, s7))));
}

/** Row r's 16 int8 weights in v times x (xl, xh: columns 0..7 and 8..15 as i16), widened for
 * dot_i16x8_s by sign extension of each half (way 0); or with i16 lane i holding column i in its low
 * byte and column 8 + i in its high byte, sign-extended by shifts (way 1) or made 256 times each
 * column by a shift and a mask (way 2: the sum is 256 times the dot product). */
@inline function widened(way: i32, s: v128, xl: v128, xh: v128, v: v128): v128 {
  if (way == 1) {
    return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.shr_s(i16x8.shl(v, 8), 8)), i32x4.dot_i16x8_s(xh, i16x8.shr_s(v, 8))));
  }
  if (way == 2) {
    return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.shl(v, 8)), i32x4.dot_i16x8_s(xh, v128.and(v, i16x8.splat(<i16>0xff00)))));
  }
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_s(v)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_s(v))));
}

/** Eight dot products of int8 rows (groups interleaved by 16 columns) with x (k i16), summed to one
 * checksum. Inlined into one function per way of widening, so `way` is a constant there. */
@inline function widenedGroupDot(way: i32, k: i32, a: usize, w: usize): i32 {
  let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
  let s4 = i32x4.splat(0), s5 = i32x4.splat(0), s6 = i32x4.splat(0), s7 = i32x4.splat(0);
  for (let p: usize = 0; p < <usize>k * 2; p += 32) {
    const xl = v128.load(a + p), xh = v128.load(a + p, 16);
    s0 = widened(way, s0, xl, xh, v128.load(w));
    s1 = widened(way, s1, xl, xh, v128.load(w, 16));
    s2 = widened(way, s2, xl, xh, v128.load(w, 32));
    s3 = widened(way, s3, xl, xh, v128.load(w, 48));
    s4 = widened(way, s4, xl, xh, v128.load(w, 64));
    s5 = widened(way, s5, xl, xh, v128.load(w, 80));
    s6 = widened(way, s6, xl, xh, v128.load(w, 96));
    s7 = widened(way, s7, xl, xh, v128.load(w, 112));
    w += 128;
  }
  const t = i32x4.add(i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3)), i32x4.add(i32x4.add(s4, s5), i32x4.add(s6, s7)));
  return i32x4.extract_lane(t, 0);
}

function groupDotI8Extend(k: i32, a: usize, w: usize): i32 {
  return widenedGroupDot(0, k, a, w);
}

function groupDotI8Shift(k: i32, a: usize, w: usize): i32 {
  return widenedGroupDot(1, k, a, w);
}

function groupDotI8Mask(k: i32, a: usize, w: usize): i32 {
  return widenedGroupDot(2, k, a, w);
}

/** `reps` GEMVs of `rows` rows (a multiple of 8) by k columns at w with x at a; `out` is 32 bytes of
 * scratch. Returns a checksum so that no work can be dropped. */
export function run(kind: i32, rows: i32, k: i32, a: usize, w: usize, out: usize, reps: i32): f64 {
  let sum: f64 = 0;
  const bytes: usize = kind == KIND_F32 ? 4 : kind == KIND_I16 ? 2 : 1;
  for (let r = 0; r < reps; r++) {
    for (let g = 0; g < rows; g += 8) {
      const at = w + <usize>g * <usize>k * bytes;
      if (kind == KIND_F32) {
        groupDot(k, a, at, out);
        sum += <f64>load<f32>(out);
      } else if (kind == KIND_I16) {
        groupDotI16(k, a, at, out);
        sum += <f64>load<i32>(out);
      } else if (kind == KIND_I8_PAIR) {
        groupDotI8(k, a, at, out);
        sum += <f64>load<i32>(out);
      } else {
        sum += <f64>(kind == KIND_I8_EXTEND ? groupDotI8Extend(k, a, at) : kind == KIND_I8_SHIFT ? groupDotI8Shift(k, a, at) : groupDotI8Mask(k, a, at));
      }
    }
  }
  return sum;
}

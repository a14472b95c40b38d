// A loop of independent f32x4 mul+add chains: the arithmetic ceiling the GEMM is measured against
// (bench/gemm.mjs). 13 chains cover the mul and add latencies and, with the two constants, fill V8's
// 15 usable xmm registers (14 chains spill). Each iteration is 13 muls and 13 adds of 4 lanes.

import { madd } from './fma';

export const PEAK_CHAINS = 13;

export function peakLoop(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(seed);
  const a = f32x4.splat(1e-7);
  let c0 = f32x4.splat(1);
  let c1 = f32x4.splat(2);
  let c2 = f32x4.splat(3);
  let c3 = f32x4.splat(4);
  let c4 = f32x4.splat(5);
  let c5 = f32x4.splat(6);
  let c6 = f32x4.splat(7);
  let c7 = f32x4.splat(8);
  let c8 = f32x4.splat(9);
  let c9 = f32x4.splat(10);
  let c10 = f32x4.splat(11);
  let c11 = f32x4.splat(12);
  let c12 = f32x4.splat(13);
  for (let i = 0; i < iterations; i++) {
    c0 = f32x4.add(f32x4.mul(c0, m), a);
    c1 = f32x4.add(f32x4.mul(c1, m), a);
    c2 = f32x4.add(f32x4.mul(c2, m), a);
    c3 = f32x4.add(f32x4.mul(c3, m), a);
    c4 = f32x4.add(f32x4.mul(c4, m), a);
    c5 = f32x4.add(f32x4.mul(c5, m), a);
    c6 = f32x4.add(f32x4.mul(c6, m), a);
    c7 = f32x4.add(f32x4.mul(c7, m), a);
    c8 = f32x4.add(f32x4.mul(c8, m), a);
    c9 = f32x4.add(f32x4.mul(c9, m), a);
    c10 = f32x4.add(f32x4.mul(c10, m), a);
    c11 = f32x4.add(f32x4.mul(c11, m), a);
    c12 = f32x4.add(f32x4.mul(c12, m), a);
  }
  let s = c0;
  s = f32x4.add(s, c1);
  s = f32x4.add(s, c2);
  s = f32x4.add(s, c3);
  s = f32x4.add(s, c4);
  s = f32x4.add(s, c5);
  s = f32x4.add(s, c6);
  s = f32x4.add(s, c7);
  s = f32x4.add(s, c8);
  s = f32x4.add(s, c9);
  s = f32x4.add(s, c10);
  s = f32x4.add(s, c11);
  s = f32x4.add(s, c12);
  return f32x4.extract_lane(s, 0);
}

/** The same chains through madd (assembly/fma.ts): fused multiply-adds in the relaxed-SIMD build, the
 * ceiling its GEMM is measured against; in the plain build, peakLoop again. */
export function peakLoopMadd(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(seed);
  const a = f32x4.splat(1e-7);
  let c0 = f32x4.splat(1);
  let c1 = f32x4.splat(2);
  let c2 = f32x4.splat(3);
  let c3 = f32x4.splat(4);
  let c4 = f32x4.splat(5);
  let c5 = f32x4.splat(6);
  let c6 = f32x4.splat(7);
  let c7 = f32x4.splat(8);
  let c8 = f32x4.splat(9);
  let c9 = f32x4.splat(10);
  let c10 = f32x4.splat(11);
  let c11 = f32x4.splat(12);
  let c12 = f32x4.splat(13);
  for (let i = 0; i < iterations; i++) {
    c0 = madd(c0, m, a);
    c1 = madd(c1, m, a);
    c2 = madd(c2, m, a);
    c3 = madd(c3, m, a);
    c4 = madd(c4, m, a);
    c5 = madd(c5, m, a);
    c6 = madd(c6, m, a);
    c7 = madd(c7, m, a);
    c8 = madd(c8, m, a);
    c9 = madd(c9, m, a);
    c10 = madd(c10, m, a);
    c11 = madd(c11, m, a);
    c12 = madd(c12, m, a);
  }
  let s = c0;
  s = f32x4.add(s, c1);
  s = f32x4.add(s, c2);
  s = f32x4.add(s, c3);
  s = f32x4.add(s, c4);
  s = f32x4.add(s, c5);
  s = f32x4.add(s, c6);
  s = f32x4.add(s, c7);
  s = f32x4.add(s, c8);
  s = f32x4.add(s, c9);
  s = f32x4.add(s, c10);
  s = f32x4.add(s, c11);
  s = f32x4.add(s, c12);
  return f32x4.extract_lane(s, 0);
}

// A loop of independent f32x4 mul+add chains: the arithmetic ceiling the GEMM is measured against
// (bench/gemm.mjs). 13 chains cover the mul and add latencies and, with the two constants, fill V8's
// 15 usable xmm registers (14 chains spill). Each iteration is 13 muls and 13 adds of 4 lanes.
// The fused loop runs 12 chains: V8's relaxed_madd takes one more register, and at 13 chains it
// spilled and measured 27 GFLOPS a thread on Zen 5, against 58 at 12 (and 55 at 10: 12 still cover
// the FMA latency).

import { madd } from './fma';

export const PEAK_CHAINS = 13;
export const PEAK_CHAINS_FUSED = 12;

/** One link of a chain: through madd (fused in the relaxed-SIMD build) or as mul then add. */
@inline function step(c: v128, m: v128, a: v128, fused: bool): v128 {
  return fused ? madd(c, m, a) : f32x4.add(f32x4.mul(c, m), a);
}

@inline function chains(iterations: i32, seed: f32, fused: bool): f32 {
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
    c0 = step(c0, m, a, fused);
    c1 = step(c1, m, a, fused);
    c2 = step(c2, m, a, fused);
    c3 = step(c3, m, a, fused);
    c4 = step(c4, m, a, fused);
    c5 = step(c5, m, a, fused);
    c6 = step(c6, m, a, fused);
    c7 = step(c7, m, a, fused);
    c8 = step(c8, m, a, fused);
    c9 = step(c9, m, a, fused);
    c10 = step(c10, m, a, fused);
    c11 = step(c11, m, a, fused);
    if (!fused) c12 = step(c12, m, a, fused);
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

export function peakLoop(iterations: i32, seed: f32): f32 {
  return chains(iterations, seed, false);
}

/** Chains per iteration of peakLoopMadd (fused 1) or peakLoop (0): each a mul and an add of 4 lanes. */
export function peakChains(fused: i32): i32 {
  return fused ? PEAK_CHAINS_FUSED : PEAK_CHAINS;
}

/** The same chains through madd (assembly/fma.ts): fused multiply-adds in the relaxed-SIMD build, the
 * ceiling its GEMM is measured against; in the plain build, peakLoop again (on 12 chains). */
export function peakLoopMadd(iterations: i32, seed: f32): f32 {
  return chains(iterations, seed, true);
}

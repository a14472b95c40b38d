// Vectorised exp, sigmoid and tanh over f32x4 (plain SIMD only: no relaxed ops, so Node and browsers
// agree bit for bit). Against float64 Math.exp/Math.tanh over dense grids the largest relative
// errors are 1.2e-7 (exp), 2.0e-7 (sigmoid) and 1.5e-7 (tanh): two to four f32 half-ulps.
//
// The polynomial coefficients are weighted least-squares (Lawson iteration, close to minimax) fits
// made in float64 with numpy and rounded to f32: exp on [-ln2/2, ln2/2] written 1 + r + r^2 P(r)
// (fit error 3e-9), tanh on |x| < 0.625 written x + x^3 Q(x^2) (fit error 4e-9).

import {
  EXP_MAX, EXP_MIN, LN2_HI, LN2_LO, LOG2E, MINUS_TWO, ONE, P0, P1, P2, P3, P4, Q0, Q1, Q2, Q3, Q4, ROUNDER, SIGN, TANH_SMALL, ZERO,
  vconst,
} from './constants';
import { loadLanes, storeLanes } from './lanes';

/** exp on four lanes. Inputs above ~88.3 saturate at exp(88.3) (our callers pass x <= 0). */
@inline export function exp4(x: v128): v128 {
  const tooSmall = f32x4.lt(x, vconst(EXP_MIN));
  // pmin/pmax are single instructions on x64 (min/max are not); this argument order keeps NaN.
  const xc = f32x4.pmin(f32x4.pmax(x, vconst(EXP_MIN)), vconst(EXP_MAX));
  // Adding 1.5 * 2^23 rounds x*log2(e) to the nearest integer n and leaves n in the low mantissa bits
  // of t (cheaper in V8 than f32x4.nearest plus i32x4.trunc_sat_f32x4_s).
  const t = f32x4.add(f32x4.mul(xc, vconst(LOG2E)), vconst(ROUNDER));
  const n = f32x4.sub(t, vconst(ROUNDER));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, vconst(LN2_HI))), f32x4.mul(n, vconst(LN2_LO)));
  let p = f32x4.add(f32x4.mul(r, vconst(P4)), vconst(P3));
  p = f32x4.add(f32x4.mul(p, r), vconst(P2));
  p = f32x4.add(f32x4.mul(p, r), vconst(P1));
  p = f32x4.add(f32x4.mul(p, r), vconst(P0));
  p = f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), f32x4.add(r, vconst(ONE)));
  // 2^n built in the exponent bits: (bits(t) - bits(ROUNDER) + 127) << 23, where bits(ROUNDER) << 23
  // vanishes mod 2^32 and 127 << 23 is bits(1.0).
  const scale = i32x4.add(i32x4.shl(t, 23), vconst(ONE));
  return v128.andnot(f32x4.mul(p, scale), tooSmall);
}

/** 1 / (1 + exp(-x)), written with exp(-|x|) so nothing overflows and small results keep their
 * relative precision. */
@inline export function sigmoid4(x: v128): v128 {
  const e = exp4(v128.or(x, vconst(SIGN))); // exp(-|x|)
  const s = f32x4.div(vconst(ONE), f32x4.add(vconst(ONE), e));
  return v128.bitselect(s, f32x4.mul(e, s), f32x4.ge(x, vconst(ZERO)));
}

@inline export function tanh4(x: v128): v128 {
  const a = v128.andnot(x, vconst(SIGN)); // |x|
  const e = exp4(f32x4.mul(a, vconst(MINUS_TWO)));
  const large = f32x4.div(f32x4.sub(vconst(ONE), e), f32x4.add(vconst(ONE), e));
  const a2 = f32x4.mul(a, a);
  let q = f32x4.add(f32x4.mul(a2, vconst(Q4)), vconst(Q3));
  q = f32x4.add(f32x4.mul(q, a2), vconst(Q2));
  q = f32x4.add(f32x4.mul(q, a2), vconst(Q1));
  q = f32x4.add(f32x4.mul(q, a2), vconst(Q0));
  const small = f32x4.add(a, f32x4.mul(f32x4.mul(a2, a), q));
  const t = v128.bitselect(small, large, f32x4.lt(a, vconst(TANH_SMALL)));
  // Put x's sign back on.
  return v128.or(t, v128.and(x, vconst(SIGN)));
}

/** Applies exp (op 0), sigmoid (1) or tanh (2) in place to n floats; exported for the accuracy tests. */
export function mathMap(op: i32, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = loadLanes(p, n - i);
    storeLanes(p, op == 0 ? exp4(v) : op == 1 ? sigmoid4(v) : tanh4(v), n - i);
  }
}

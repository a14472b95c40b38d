// Multiply-add on four lanes, the one place that differs between the two builds of the kernels
// (scripts/build-wasm.mjs): the relaxed-SIMD build fuses it (f32x4.relaxed_madd, one rounding where
// the CPU has FMA), the plain one multiplies and then adds. Which one the hardware runs for
// relaxed_madd is the engine's choice per machine, so the relaxed build's results may differ in the
// last bits between machines (never between thread counts: every element still runs one sequence
// of instructions, whatever chunk it falls in).

/** a * b + c. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** 1 in the relaxed-SIMD build, 0 in the plain one (for diagnostics and tests). */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

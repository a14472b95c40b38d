// Lane-splatted f32 constants, kept in memory. V8 rebuilds a v128 constant from immediates with three
// instructions at every use, inside loops too; loading it from here is one instruction (or none, when
// folded into the arithmetic as a memory operand). Read one with vconst(NAME).

export const EXP_MIN = 0; // below this exp underflows past the smallest normal float; flushed to 0
export const EXP_MAX = 16;
export const LOG2E = 32;
export const ROUNDER = 48; // 1.5 * 2^23
export const LN2_HI = 64; // ln 2 in two parts, n * LN2_HI exact (Cody-Waite; no FMA in plain wasm SIMD)
export const LN2_LO = 80;
export const P0 = 96; // P0..P4: the exp polynomial, Q0..Q4: the tanh one (math.ts)
export const P1 = 112;
export const P2 = 128;
export const P3 = 144;
export const P4 = 160;
export const Q0 = 176;
export const Q1 = 192;
export const Q2 = 208;
export const Q3 = 224;
export const Q4 = 240;
export const TANH_SMALL = 256; // below this |x|, 1 - exp(-2|x|) cancels too many bits: tanh uses its odd polynomial
export const ONE = 272;
export const MINUS_TWO = 288;
export const SIGN = 304; // only the sign bit
export const ZERO = 320;
export const FLUSH_BELOW = 336; // gradients smaller than this are flushed to 0 (elementwise.ts rnnBackward)

const TABLE = memory.data<f32>([
  -87.3, -87.3, -87.3, -87.3, // EXP_MIN
  88.3, 88.3, 88.3, 88.3, // EXP_MAX
  1.44269504, 1.44269504, 1.44269504, 1.44269504, // LOG2E
  12582912, 12582912, 12582912, 12582912, // ROUNDER
  0.693359375, 0.693359375, 0.693359375, 0.693359375, // LN2_HI
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, // LN2_LO
  0.49999994, 0.49999994, 0.49999994, 0.49999994, // P0
  0.16666521, 0.16666521, 0.16666521, 0.16666521, // P1
  0.041668389, 0.041668389, 0.041668389, 0.041668389, // P2
  0.0083687101, 0.0083687101, 0.0083687101, 0.0083687101, // P3
  0.0013814613, 0.0013814613, 0.0013814613, 0.0013814613, // P4
  -0.33333281, -0.33333281, -0.33333281, -0.33333281, // Q0
  0.13331442, 0.13331442, 0.13331442, 0.13331442, // Q1
  -0.053739715, -0.053739715, -0.053739715, -0.053739715, // Q2
  0.020639086, 0.020639086, 0.020639086, 0.020639086, // Q3
  -0.0057049864, -0.0057049864, -0.0057049864, -0.0057049864, // Q4
  0.625, 0.625, 0.625, 0.625, // TANH_SMALL
  1, 1, 1, 1, // ONE
  -2, -2, -2, -2, // MINUS_TWO
  -0.0, -0.0, -0.0, -0.0, // SIGN
  0, 0, 0, 0, // ZERO
  1e-30, 1e-30, 1e-30, 1e-30, // FLUSH_BELOW
], 16);

@inline export function vconst(offset: i32): v128 {
  return v128.load(TABLE + <usize>offset);
}

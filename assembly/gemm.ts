// SGEMM, C = alpha * op(A) op(B) + beta * C, row-major, in the Goto/BLIS shape:
//
//   for each NC-wide column block of C
//     for each KC-deep slice of k:        pack op(B)[slice, block] into NR-wide panels   (L3)
//       for each MC-high row block of C:  pack op(A)[block, slice] into MR-high panels   (L2)
//         for each NR panel, for each MR panel: MR x NR register tile                    (L1)
//
// Packing puts both operands in the exact order the register tile reads them (and pads edges with
// zeros), so one micro-kernel serves all four transpose cases and every edge. The reference is
// src/kernels/js/gemm.ts, the validation test/kernels-wasm.test.ts, the benchmark bench/gemm.mjs.
// An element's value never depends on where its tile falls (edge tiles round exactly as full ones),
// so splitting C into tiles across threads could not change results.

export const MR = 4;
export const NR = 8;
export const KC = 256;
export const MC = 128;
export const NC = 2048;

/** Bytes of workspace gemm needs: packed A block, packed B block, one edge tile. */
export function gemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

// How the tile meets C on the way out.
const OVERWRITE = 0; // C = alpha * acc          (first k slice, beta = 0: old C is never read)
const SCALE = 1; //     C = alpha * acc + beta*C (first k slice)
const ACCUMULATE = 2; // C += alpha * acc        (later k slices)

export function gemm(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32,
  beta: f32, c: usize, ldc: i32, work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scaleMatrix(m, n, beta, c, ldc);
    return;
  }
  const packA = work;
  const packB = packA + <usize>(MC * KC) * 4;
  const tile = packB + <usize>(KC * NC) * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const mode = pc > 0 ? ACCUMULATE : beta == 0 ? OVERWRITE : SCALE;
      if (transB) packBTransposed(b, ldb, pc, jc, kc, nc, packB);
      else packBNormal(b, ldb, pc, jc, kc, nc, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        if (transA) packATransposed(a, lda, ic, pc, mc, kc, packA);
        else packANormal(a, lda, ic, pc, mc, kc, packA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packB + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packA + <usize>(ir * kc) * 4;
            const cTile = c + (<usize>(ic + ir) * ldc + <usize>(jc + jr)) * 4;
            if (mr == MR && nr == NR) {
              microKernel(kc, pa, pb, cTile, <usize>ldc * 4, alpha, beta, mode);
            } else {
              microKernel(kc, pa, pb, tile, NR * 4, alpha, 0, OVERWRITE);
              mergeTile(mr, nr, tile, cTile, ldc, beta, mode);
            }
          }
        }
      }
    }
  }
}

/** C = beta * C, where beta = 0 writes zeros whatever C held (NaN included), as BLAS does. */
function scaleMatrix(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  if (beta == 1) return;
  for (let i = 0; i < m; i++) {
    const row = c + <usize>i * ldc * 4;
    if (beta == 0) memory.fill(row, 0, <usize>n * 4);
    else for (let j = 0; j < n; j++) store<f32>(row + (<usize>j << 2), beta * load<f32>(row + (<usize>j << 2)));
  }
}

// The MR x NR register tile: 8 accumulators of 4 lanes, fed per k step by two vectors of packed B
// and four broadcasts of packed A; without FMA each step is one mul and one add per accumulator.
// V8 hoists every load of a step to its top, so 8 accumulators + 2 + 4 loaded values + 1 product
// is all that fits its 15 usable xmm registers. Measured on packed data in L1 (Node 20, x64): 4x8
// and 2x16 reach ~46-49 GFLOPS; 6x8, 5x8, 4x12 and 3x16 spill and drop to 21-25.
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, alpha: f32, beta: f32, mode: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // Ending on a pointer rather than counting steps saves V8 a register and an add per step.
  const end = pb + <usize>kc * NR * 4;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    pa += MR * 4;
    pb += NR * 4;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  writeRow(c, c00, c01, va, vb, mode);
  writeRow(c + ldcBytes, c10, c11, va, vb, mode);
  writeRow(c + 2 * ldcBytes, c20, c21, va, vb, mode);
  writeRow(c + 3 * ldcBytes, c30, c31, va, vb, mode);
}

@inline function writeRow(row: usize, lo: v128, hi: v128, va: v128, vb: v128, mode: i32): void {
  lo = f32x4.mul(lo, va);
  hi = f32x4.mul(hi, va);
  if (mode == SCALE) {
    lo = f32x4.add(lo, f32x4.mul(vb, v128.load(row)));
    hi = f32x4.add(hi, f32x4.mul(vb, v128.load(row, 16)));
  } else if (mode == ACCUMULATE) {
    lo = f32x4.add(lo, v128.load(row));
    hi = f32x4.add(hi, v128.load(row, 16));
  }
  v128.store(row, lo);
  v128.store(row, hi, 16);
}

/** Writes the top-left mr x nr of an edge tile (already times alpha) into C. */
function mergeTile(mr: i32, nr: i32, tile: usize, c: usize, ldc: i32, beta: f32, mode: i32): void {
  for (let i = 0; i < mr; i++) {
    const src = tile + <usize>(i * NR) * 4;
    const dst = c + <usize>i * ldc * 4;
    for (let j = 0; j < nr; j++) {
      const t = load<f32>(src + (<usize>j << 2));
      const q = dst + (<usize>j << 2);
      if (mode == OVERWRITE) store<f32>(q, t);
      else if (mode == SCALE) store<f32>(q, t + beta * load<f32>(q));
      else store<f32>(q, t + load<f32>(q));
    }
  }
}

// ---- packing ----
// Packed A: for each MR-row panel, kc steps of MR values (rows i..i+MR-1 at one p).
// Packed B: for each NR-column panel, kc steps of NR values (columns j..j+NR-1 at one p).

/** op(A) = A, stored [m, k]: each panel gathers MR = 4 rows, one 4x4 transpose per four p. */
function packANormal(a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const ldaBytes = <usize>lda * 4;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const src = a + (<usize>(ic + ir) * lda + <usize>pc) * 4;
    const panel = dst + <usize>(ir * kc) * 4;
    let p = 0;
    if (rows == MR) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        const out = panel + <usize>(p * MR) * 4;
        transposeStore(v128.load(s), v128.load(s + ldaBytes), v128.load(s + 2 * ldaBytes), v128.load(s + 3 * ldaBytes), out, MR * 4);
      }
    }
    for (; p < kc; p++) {
      const out = panel + <usize>(p * MR) * 4;
      for (let r = 0; r < MR; r++) {
        store<f32>(out + (<usize>r << 2), r < rows ? load<f32>(src + <usize>r * ldaBytes + (<usize>p << 2)) : 0);
      }
    }
  }
}

/** op(A) = A^T, A stored [k, m]: each p already holds the panel's values side by side. */
function packATransposed(a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 4;
    for (let p = 0; p < kc; p++) {
      const src = a + (<usize>(pc + p) * lda + <usize>(ic + ir)) * 4;
      const out = panel + <usize>(p * MR) * 4;
      if (rows == MR) {
        v128.store(out, v128.load(src));
      } else {
        for (let r = 0; r < MR; r++) store<f32>(out + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
      }
    }
  }
}

/** op(B) = B, stored [k, n]: a plain copy of NR floats per p. */
function packBNormal(b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    for (let p = 0; p < kc; p++) {
      const src = b + (<usize>(pc + p) * ldb + <usize>(jc + jr)) * 4;
      const out = panel + <usize>(p * NR) * 4;
      if (cols == NR) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
      } else {
        for (let j = 0; j < NR; j++) store<f32>(out + (<usize>j << 2), j < cols ? load<f32>(src + (<usize>j << 2)) : 0);
      }
    }
  }
}

/** op(B) = B^T, B stored [n, k]: each panel gathers NR rows of B, four p at a time by 4x4 transposes. */
function packBTransposed(b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const ldbBytes = <usize>ldb * 4;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const src = b + (<usize>(jc + jr) * ldb + <usize>pc) * 4;
    const panel = dst + <usize>(jr * kc) * 4;
    let p = 0;
    if (cols == NR) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + (<usize>p << 2);
        const out = panel + <usize>(p * NR) * 4;
        transposeStore(v128.load(s), v128.load(s + ldbBytes), v128.load(s + 2 * ldbBytes), v128.load(s + 3 * ldbBytes), out, NR * 4);
        const s4 = s + 4 * ldbBytes;
        transposeStore(v128.load(s4), v128.load(s4 + ldbBytes), v128.load(s4 + 2 * ldbBytes), v128.load(s4 + 3 * ldbBytes), out + 16, NR * 4);
      }
    }
    for (; p < kc; p++) {
      const out = panel + <usize>(p * NR) * 4;
      for (let j = 0; j < NR; j++) {
        store<f32>(out + (<usize>j << 2), j < cols ? load<f32>(src + <usize>j * ldbBytes + (<usize>p << 2)) : 0);
      }
    }
  }
}

/** Transposes the 4x4 block held in rows r0..r3 and stores its columns `stride` bytes apart. */
@inline function transposeStore(r0: v128, r1: v128, r2: v128, r3: v128, out: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(out + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(out + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(out + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

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
// An element's value never depends on where its tile falls (edge tiles, and the row kernels that
// take the last 1..3 rows, round exactly as full tiles), so splitting C into tiles across threads
// could not change results.
//
// Variants around that core:
//   - packB + gemmPacked: op(B) packed once, in the same layout, for many products (a recurrent
//     layer's weights over its time steps); same tiles, same bits as gemm on the packed path.
//   - m <= SMALL_M rows with A not transposed (generation, batch 1): no packing at all; B is
//     streamed from where it lies (gemm-small.ts).
//   - gemmChunk: one chunk of a product shared by threads (threads.ts).

import { SMALL_M, smallTimesNormal, smallTimesTransposed } from './gemm-small';
import { madd } from './fma';
import { loadLanes, storeLanes } from './lanes';

export const MR = 4;
export const NR = 8;
export const KC = 256;
export const MC = 128;
export const NC = 2048;

/** Rows of the largest register tile written through the workspace: 6 x NR on the relaxed build
 * (MR x NR on the plain one). */
const TILE_ROWS = 6;

/** Bytes of workspace gemm needs: packed A block, packed B block, one edge tile. */
export function gemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + TILE_ROWS * NR) * 4;
}

// How the tile meets C on the way out.
const OVERWRITE = 0; // C = alpha * acc          (first k slice, beta = 0: old C is never read)
const SCALE = 1; //     C = alpha * acc + beta*C (first k slice)
const ACCUMULATE = 2; // C += alpha * acc        (later k slices)

@inline function roundUpNR(n: i32): i32 {
  return (n + NR - 1) & ~(NR - 1);
}

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
  // A few rows of A: streaming B once beats packing it (gemm-small.ts).
  if (m <= SMALL_M && !transA) {
    if (transB) smallTimesTransposed(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else smallTimesNormal(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const packB = work + <usize>(MC * KC) * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      if (transB) packBTransposed(b, ldb, pc, jc, kc, nc, packB);
      else packBNormal(b, ldb, pc, jc, kc, nc, packB);
      multiplyBlock(transA, m, kc, pc, 0, nc, alpha, a, lda, packB, beta, c + (<usize>jc << 2), ldc, work);
    }
  }
}

// ---- B packed once, used by many GEMMs (the recurrent weights of a layer call) ----
// Layout: for each NC-wide column block jc, for each KC-deep slice pc, that block's panels exactly as
// gemm packs them, so a product over a packed B runs the same tiles in the same order as gemm: the
// results are bit for bit those of gemm on the unpacked matrix (packed path).

/** Bytes of op(B) [k, n] packed: columns rounded up to whole NR panels. */
export function packedBBytes(k: i32, n: i32): i32 {
  return roundUpNR(n) * k * 4;
}

/** Where block (jc, pc) starts in a packed B of k rows. */
@inline function packedBlock(packed: usize, k: i32, jc: i32, nc: i32, pc: i32): usize {
  return packed + (<usize>jc * k + <usize>roundUpNR(nc) * pc) * 4;
}

/** Packs op(B) [k, n] (B stored [n, k] when transB) into `dst` (packedBBytes(k, n) bytes). */
export function packB(transB: bool, k: i32, n: i32, b: usize, ldb: i32, dst: usize): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const block = packedBlock(dst, k, jc, nc, pc);
      if (transB) packBTransposed(b, ldb, pc, jc, kc, nc, block);
      else packBNormal(b, ldb, pc, jc, kc, nc, block);
    }
  }
}

/**
 * C[:, colStart..colEnd) = alpha * op(A) * B[:, colStart..colEnd) + beta * C over a packed B of
 * [k, n] (colStart a multiple of NR; threads take column ranges). `c` addresses column 0 of C.
 */
export function gemmPacked(
  transA: bool, m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, packed: usize,
  beta: f32, c: usize, ldc: i32, colStart: i32, colEnd: i32, work: usize,
): void {
  colEnd = min(colEnd, n);
  if (m <= 0 || colStart >= colEnd) return;
  if (k <= 0 || alpha == 0) {
    scaleMatrix(m, colEnd - colStart, beta, c + (<usize>colStart << 2), ldc);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    const lo = max(colStart, jc) - jc;
    const hi = min(colEnd, jc + nc) - jc;
    if (lo >= hi) continue;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      multiplyBlock(transA, m, kc, pc, lo, hi, alpha, a, lda, packedBlock(packed, k, jc, nc, pc), beta, c + (<usize>jc << 2), ldc, work);
    }
  }
}

/**
 * One k slice [pc, pc+kc) of one column block: C[:, jLo..jHi) (+)= alpha op(A)[:, slice] times the
 * packed block `pb` (panel 0 at pb; jLo a multiple of NR). A is packed here, MC rows at a time.
 */
function multiplyBlock(
  transA: bool, m: i32, kc: i32, pc: i32, jLo: i32, jHi: i32, alpha: f32, a: usize, lda: i32, pb: usize,
  beta: f32, c: usize, ldc: i32, work: usize,
): void {
  const packA = work;
  const tile = work + <usize>(MC * KC + KC * NC) * 4;
  const mode = pc > 0 ? ACCUMULATE : beta == 0 ? OVERWRITE : SCALE;
  for (let ic = 0; ic < m; ic += MC) {
    const mc = min(MC, m - ic);
    if (transA) packATransposed(a, lda, ic, pc, mc, kc, packA);
    else packANormal(a, lda, ic, pc, mc, kc, packA);
    const fullRows = mc & ~(MR - 1);
    for (let jr = jLo; jr < jHi; jr += NR) {
      const nr = min(NR, jHi - jr);
      const panel = pb + <usize>(jr * kc) * 4;
      let ir = 0;
      if (ASC_FEATURE_RELAXED_SIMD && nr == NR) {
        // Fused multiply-adds free the register a product took: 6 x 8 tiles fit, and their 12
        // accumulators keep both FMA pipes busy where 8 do not (standalone, data in L1: 60 against
        // 47.5 GFLOPS on an AVX-512 Xeon). Every element runs the same FMA sequence in either tile.
        const ldcBytes = <usize>ldc * 4;
        const panelBytes = <usize>(MR * kc) * 4;
        for (; ir + 3 * MR <= fullRows; ir += 3 * MR) {
          // Rows 0..5 and 6..11 of three panels: pairs at (panel, row offset) 0:0, 0:2, 1:0 and 1:2, 2:0, 2:2.
          const pa = packA + <usize>(ir * kc) * 4;
          const cTile = c + (<usize>(ic + ir) * ldc + <usize>jr) * 4;
          microKernel6(kc, pa, pa + 8, pa + panelBytes, panel, tile);
          writeTile6(tile, cTile, ldcBytes, alpha, beta, mode);
          microKernel6(kc, pa + panelBytes + 8, pa + 2 * panelBytes, pa + 2 * panelBytes + 8, panel, tile);
          writeTile6(tile, cTile + 6 * ldcBytes, ldcBytes, alpha, beta, mode);
        }
      }
      for (; ir < fullRows; ir += MR) {
        const pa = packA + <usize>(ir * kc) * 4;
        const cTile = c + (<usize>(ic + ir) * ldc + <usize>jr) * 4;
        if (nr == NR) {
          microKernel(kc, pa, panel, cTile, <usize>ldc * 4, alpha, beta, mode);
        } else {
          microKernel(kc, pa, panel, tile, NR * 4, alpha, 0, OVERWRITE);
          mergeTile(MR, nr, tile, cTile, ldc, beta, mode);
        }
      }
    }
    // The last 1..3 rows (all of them for a batch of 1..3): row kernels rather than a 4-row tile
    // three quarters empty; two panels at a time, for enough independent sums.
    if (fullRows < mc) {
      const pa = packA + <usize>(fullRows * kc) * 4;
      const row = c + <usize>(ic + fullRows) * ldc * 4;
      const ldcBytes = <usize>ldc * 4;
      for (let jr = jLo; jr < jHi; jr += 2 * NR) {
        const nr0 = min(NR, jHi - jr);
        const nr1 = min(NR, max(0, jHi - jr - NR));
        const panel = pb + <usize>(jr * kc) * 4;
        const next = nr1 > 0 ? panel + <usize>(NR * kc) * 4 : panel;
        const cAt = row + (<usize>jr << 2);
        if (mc - fullRows >= 2) {
          rowsKernel2(kc, pa, panel, next, cAt, ldcBytes, alpha, beta, mode, nr0, nr1);
          if (mc - fullRows == 3) rowsKernel1(kc, pa + 8, panel, next, cAt + 2 * ldcBytes, alpha, beta, mode, nr0, nr1);
        } else {
          rowsKernel1(kc, pa, panel, next, cAt, alpha, beta, mode, nr0, nr1);
        }
      }
    }
  }
}

// Rows kernels: one or two rows of a packed A panel (MR values per step, rows past mc are zero)
// against two packed B panels. Every element sums its products in the order microKernel does and
// meets C the same way, so its bits do not depend on which kernel computed it.

function rowsKernel1(kc: i32, pa: usize, pb0: usize, pb1: usize, c: usize, alpha: f32, beta: f32, mode: i32, nr0: i32, nr1: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  const end = pb0 + <usize>kc * NR * 4;
  while (pb0 < end) {
    const av = v128.load32_splat(pa);
    c00 = madd(av, v128.load(pb0), c00);
    c01 = madd(av, v128.load(pb0, 16), c01);
    c02 = madd(av, v128.load(pb1), c02);
    c03 = madd(av, v128.load(pb1, 16), c03);
    pa += MR * 4;
    pb0 += NR * 4;
    pb1 += NR * 4;
  }
  writeRowPart(c, c00, c01, alpha, beta, mode, nr0);
  if (nr1 > 0) writeRowPart(c + NR * 4, c02, c03, alpha, beta, mode, nr1);
}

function rowsKernel2(kc: i32, pa: usize, pb0: usize, pb1: usize, c: usize, ldcBytes: usize, alpha: f32, beta: f32, mode: i32, nr0: i32, nr1: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const end = pb0 + <usize>kc * NR * 4;
  while (pb0 < end) {
    const b0 = v128.load(pb0);
    const b1 = v128.load(pb0, 16);
    const b2 = v128.load(pb1);
    const b3 = v128.load(pb1, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    c02 = madd(av, b2, c02);
    c03 = madd(av, b3, c03);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    c12 = madd(av, b2, c12);
    c13 = madd(av, b3, c13);
    pa += MR * 4;
    pb0 += NR * 4;
    pb1 += NR * 4;
  }
  writeRowPart(c, c00, c01, alpha, beta, mode, nr0);
  writeRowPart(c + ldcBytes, c10, c11, alpha, beta, mode, nr0);
  if (nr1 > 0) {
    writeRowPart(c + NR * 4, c02, c03, alpha, beta, mode, nr1);
    writeRowPart(c + ldcBytes + NR * 4, c12, c13, alpha, beta, mode, nr1);
  }
}

/** writeRow for the first nr (1..8) columns: the same arithmetic, lane for lane. */
@inline function writeRowPart(row: usize, lo: v128, hi: v128, alpha: f32, beta: f32, mode: i32, nr: i32): void {
  const va = f32x4.splat(alpha);
  if (nr == NR) {
    writeRow(row, lo, hi, va, f32x4.splat(beta), mode);
    return;
  }
  lo = f32x4.mul(lo, va);
  hi = f32x4.mul(hi, va);
  const nLo = min(nr, 4);
  const nHi = nr - 4;
  if (mode == SCALE) {
    const vb = f32x4.splat(beta);
    lo = f32x4.add(lo, f32x4.mul(vb, loadLanes(row, nLo)));
    if (nHi > 0) hi = f32x4.add(hi, f32x4.mul(vb, loadLanes(row + 16, nHi)));
  } else if (mode == ACCUMULATE) {
    lo = f32x4.add(lo, loadLanes(row, nLo));
    if (nHi > 0) hi = f32x4.add(hi, loadLanes(row + 16, nHi));
  }
  storeLanes(row, lo, nLo);
  if (nHi > 0) storeLanes(row + 16, hi, nHi);
}

// ---- threads ----

/**
 * Chunk `index` of a GEMM shared by threads (assembly/threads.ts reads the job): rows of C from
 * index * size (a multiple of MR), or columns (a multiple of NR).
 */
export function gemmChunk(
  packed: bool, byColumns: bool, size: i32, index: i32,
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
  beta: f32, c: usize, ldc: i32, work: usize,
): void {
  const start = index * size;
  if (byColumns) {
    const end = min(n, start + size);
    if (packed) gemmPacked(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, start, end, work);
    else {
      const bAt = b + (transB ? <usize>start * ldb * 4 : <usize>start * 4);
      gemm(transA, transB, m, end - start, k, alpha, a, lda, bAt, ldb, beta, c + (<usize>start << 2), ldc, work);
    }
  } else {
    const rows = min(m, start + size) - start;
    const aAt = a + (transA ? <usize>start * 4 : <usize>start * lda * 4);
    const cAt = c + <usize>start * ldc * 4;
    if (packed) gemmPacked(transA, rows, n, k, alpha, aAt, lda, b, beta, cAt, ldc, 0, n, work);
    else gemm(transA, transB, rows, n, k, alpha, aAt, lda, b, ldb, beta, cAt, ldc, work);
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
// and 2x16 reach ~46-49 GFLOPS; 6x8, 5x8, 4x12 and 3x16 spill and drop to 21-25. The relaxed
// build's fused multiply-add needs no product register, and there 6x8 fits (microKernel6).
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
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
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

/**
 * A 6 x 8 tile of raw sums into `tile` (6 rows of NR), relaxed build only: rows in pairs, at p0, p1
 * and p2 and 4 bytes further in packed A (MR-high panels: a 6-row tile spans two). Called for both
 * halves of 12 rows, so that it stays a function of its own: inlined into multiplyBlock (or with its
 * epilogue inlined into it) V8 spilled accumulators inside the loop, 35-38 against 48 GFLOPS.
 */
function microKernel6(kc: i32, p0: usize, p1: usize, p2: usize, pb: usize, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = pb + <usize>kc * NR * 4;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(p0);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(p0, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(p1);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(p1, 4);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    av = v128.load32_splat(p2);
    c40 = madd(av, b0, c40);
    c41 = madd(av, b1, c41);
    av = v128.load32_splat(p2, 4);
    c50 = madd(av, b0, c50);
    c51 = madd(av, b1, c51);
    p0 += MR * 4;
    p1 += MR * 4;
    p2 += MR * 4;
    pb += NR * 4;
  }
  storeTile6(tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
}

@inline function storeTile6(
  tile: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  c40: v128, c41: v128, c50: v128, c51: v128,
): void {
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  v128.store(tile, c40, 128);
  v128.store(tile, c41, 144);
  v128.store(tile, c50, 160);
  v128.store(tile, c51, 176);
}

function writeTile6(tile: usize, c: usize, ldcBytes: usize, alpha: f32, beta: f32, mode: i32): void {
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  for (let r: usize = 0; r < 6; r++) writeRow(c + r * ldcBytes, v128.load(tile + r * 32), v128.load(tile + r * 32, 16), va, vb, mode);
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

/** op(A) = A^T, A stored [k, m]: each p already holds the panels' values side by side. Row p of the
 * block is read once, contiguously, into every panel: walking one panel down k instead reads 16
 * bytes from each of kc rows lda apart, which the hardware prefetchers do not follow (W5's dW_hh:
 * kc = 256 rows 8 KB apart per panel). */
function packATransposed(a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const fullRows = mc & ~(MR - 1);
  const panelBytes = <usize>(MR * kc) * 4;
  for (let p = 0; p < kc; p++) {
    const src = a + (<usize>(pc + p) * lda + <usize>ic) * 4;
    let out = dst + <usize>(p * MR) * 4;
    for (let ir = 0; ir < fullRows; ir += MR) {
      v128.store(out, v128.load(src + (<usize>ir << 2)));
      out += panelBytes;
    }
    if (fullRows < mc) {
      const rows = mc - fullRows;
      for (let r = 0; r < MR; r++) store<f32>(out + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>(fullRows + r) << 2)) : 0);
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

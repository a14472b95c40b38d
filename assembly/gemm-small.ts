// GEMM for a few rows of A (m <= SMALL_M, A not transposed): generation with batch 1, small-batch
// inference. Packing B would cost as much as the whole product here (each element of B is used m
// times), so B is streamed once, straight from where it lies, with the rows of A (a few KB) kept in
// L1; the speed is then the memory bandwidth of B.
//
//   transB (B stored [n, k], the weights of a Linear or recurrent layer): each element of C is a dot
//     product of two contiguous rows; four lanes of partial sums per element run along k and are
//     added once at the end: C[i, j] = alpha * ((s0 + s2) + (s1 + s3)) + beta * C[i, j].
//   !transB (B stored [k, n]): rows of B are streamed; each element sums its k products in order.
//
// An element's value depends only on its row of A, its row or column of B and k, never on where its
// tile falls, so threads splitting C by columns get the same bits. Reference: src/kernels/js/gemm.ts;
// validation: test/kernels-wasm.test.ts.

import { loadLanes, storeLanes } from './lanes';

/** Rows of A up to which gemm takes these paths instead of packing. */
export const SMALL_M = 8;

/** SMALL_M, for the JavaScript side (threads must not cut a product across this threshold). */
export function gemmSmallRows(): i32 {
  return SMALL_M;
}

// ---- C = alpha A B^T + beta C, B stored [n, k] ----

export function smallTimesTransposed(
  m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): void {
  const ldaBytes = <usize>lda * 4, ldbBytes = <usize>ldb * 4, ldcBytes = <usize>ldc * 4;
  // Columns go in groups of 8 (eight rows of B, read once per group while A's rows stay in L1).
  for (let j = 0; j < n; j += 8) {
    const cols = min(8, n - j);
    // Rows of B for the group; past the last column the last row repeats (its lanes are not stored).
    const last = <usize>(n - 1);
    const bj = <usize>j;
    const b0 = b + bj * ldbBytes;
    const b1 = b + min(bj + 1, last) * ldbBytes, b2 = b + min(bj + 2, last) * ldbBytes, b3 = b + min(bj + 3, last) * ldbBytes;
    const b4 = b + min(bj + 4, last) * ldbBytes, b5 = b + min(bj + 5, last) * ldbBytes;
    const b6 = b + min(bj + 6, last) * ldbBytes, b7 = b + min(bj + 7, last) * ldbBytes;
    const cj = c + (bj << 2);
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = a + <usize>i * ldaBytes;
      const c0 = cj + <usize>i * ldcBytes;
      dot2x4(k, a0, a0 + ldaBytes, b0, b1, b2, b3, alpha, beta, c0, c0 + ldcBytes, min(cols, 4));
      if (cols > 4) dot2x4(k, a0, a0 + ldaBytes, b4, b5, b6, b7, alpha, beta, c0 + 16, c0 + ldcBytes + 16, cols - 4);
    }
    if (i < m) dot1x8(k, a + <usize>i * ldaBytes, b0, b1, b2, b3, b4, b5, b6, b7, alpha, beta, cj + <usize>i * ldcBytes, cols);
  }
}

/** [sum of x0's lanes, ..., sum of x3's lanes], each as (l0 + l2) + (l1 + l3). */
@inline export function sums4(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const u01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
  const u23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u01, u23, 0, 1, 4, 5), v128.shuffle<f32>(u01, u23, 2, 3, 6, 7));
}

/** Writes `count` (1..4) results: C = alpha * s (+ beta * C). */
@inline function finish(c: usize, s: v128, alpha: f32, beta: f32, count: i32): void {
  let r = f32x4.mul(s, f32x4.splat(alpha));
  if (beta != 0) r = f32x4.add(r, f32x4.mul(f32x4.splat(beta), loadLanes(c, count)));
  storeLanes(c, r, count);
}

/** Two rows of A against four rows of B: 8 accumulators, 6 loads per 4 steps of k. */
function dot2x4(
  k: i32, a0: usize, a1: usize, b0: usize, b1: usize, b2: usize, b3: usize,
  alpha: f32, beta: f32, c0: usize, c1: usize, cols: i32,
): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  const body = <usize>(k & ~3) << 2;
  for (let p: usize = 0; p < body; p += 16) {
    const x0 = v128.load(a0 + p), x1 = v128.load(a1 + p);
    let y = v128.load(b0 + p);
    s00 = f32x4.add(s00, f32x4.mul(x0, y));
    s10 = f32x4.add(s10, f32x4.mul(x1, y));
    y = v128.load(b1 + p);
    s01 = f32x4.add(s01, f32x4.mul(x0, y));
    s11 = f32x4.add(s11, f32x4.mul(x1, y));
    y = v128.load(b2 + p);
    s02 = f32x4.add(s02, f32x4.mul(x0, y));
    s12 = f32x4.add(s12, f32x4.mul(x1, y));
    y = v128.load(b3 + p);
    s03 = f32x4.add(s03, f32x4.mul(x0, y));
    s13 = f32x4.add(s13, f32x4.mul(x1, y));
  }
  const rest = k & 3;
  if (rest) {
    const x0 = loadLanes(a0 + body, rest), x1 = loadLanes(a1 + body, rest);
    let y = loadLanes(b0 + body, rest);
    s00 = f32x4.add(s00, f32x4.mul(x0, y));
    s10 = f32x4.add(s10, f32x4.mul(x1, y));
    y = loadLanes(b1 + body, rest);
    s01 = f32x4.add(s01, f32x4.mul(x0, y));
    s11 = f32x4.add(s11, f32x4.mul(x1, y));
    y = loadLanes(b2 + body, rest);
    s02 = f32x4.add(s02, f32x4.mul(x0, y));
    s12 = f32x4.add(s12, f32x4.mul(x1, y));
    y = loadLanes(b3 + body, rest);
    s03 = f32x4.add(s03, f32x4.mul(x0, y));
    s13 = f32x4.add(s13, f32x4.mul(x1, y));
  }
  finish(c0, sums4(s00, s01, s02, s03), alpha, beta, cols);
  finish(c1, sums4(s10, s11, s12, s13), alpha, beta, cols);
}

/** One row of A against eight rows of B: 8 accumulators (enough independent adds to hide their
 * latency), 9 loads per 4 steps of k. */
function dot1x8(
  k: i32, a0: usize, b0: usize, b1: usize, b2: usize, b3: usize, b4: usize, b5: usize, b6: usize, b7: usize,
  alpha: f32, beta: f32, c0: usize, cols: i32,
): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
  const body = <usize>(k & ~3) << 2;
  for (let p: usize = 0; p < body; p += 16) {
    const x = v128.load(a0 + p);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b0 + p)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b1 + p)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b2 + p)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b3 + p)));
    s4 = f32x4.add(s4, f32x4.mul(x, v128.load(b4 + p)));
    s5 = f32x4.add(s5, f32x4.mul(x, v128.load(b5 + p)));
    s6 = f32x4.add(s6, f32x4.mul(x, v128.load(b6 + p)));
    s7 = f32x4.add(s7, f32x4.mul(x, v128.load(b7 + p)));
  }
  const rest = k & 3;
  if (rest) {
    const x = loadLanes(a0 + body, rest);
    s0 = f32x4.add(s0, f32x4.mul(x, loadLanes(b0 + body, rest)));
    s1 = f32x4.add(s1, f32x4.mul(x, loadLanes(b1 + body, rest)));
    s2 = f32x4.add(s2, f32x4.mul(x, loadLanes(b2 + body, rest)));
    s3 = f32x4.add(s3, f32x4.mul(x, loadLanes(b3 + body, rest)));
    s4 = f32x4.add(s4, f32x4.mul(x, loadLanes(b4 + body, rest)));
    s5 = f32x4.add(s5, f32x4.mul(x, loadLanes(b5 + body, rest)));
    s6 = f32x4.add(s6, f32x4.mul(x, loadLanes(b6 + body, rest)));
    s7 = f32x4.add(s7, f32x4.mul(x, loadLanes(b7 + body, rest)));
  }
  finish(c0, sums4(s0, s1, s2, s3), alpha, beta, min(cols, 4));
  if (cols > 4) finish(c0 + 16, sums4(s4, s5, s6, s7), alpha, beta, cols - 4);
}

// ---- C = alpha A B + beta C, B stored [k, n] ----

export function smallTimesNormal(
  m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32,
): void {
  const ldaBytes = <usize>lda * 4, ldbBytes = <usize>ldb * 4, ldcBytes = <usize>ldc * 4;
  let j = 0;
  // 16 columns at a time (64 bytes of each row of B), then 4 at a time with partial loads.
  for (; j + 16 <= n; j += 16) {
    const bj = b + (<usize>j << 2), cj = c + (<usize>j << 2);
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = a + <usize>i * ldaBytes;
      const c0 = cj + <usize>i * ldcBytes;
      axpy2x16(k, a0, a0 + ldaBytes, bj, ldbBytes, alpha, beta, c0, c0 + ldcBytes);
    }
    if (i < m) axpy1x16(k, a + <usize>i * ldaBytes, bj, ldbBytes, alpha, beta, cj + <usize>i * ldcBytes);
  }
  for (; j < n; j += 4) {
    const cols = min(4, n - j);
    const bj = b + (<usize>j << 2), cj = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) axpy1x4(k, a + <usize>i * ldaBytes, bj, ldbBytes, alpha, beta, cj + <usize>i * ldcBytes, cols);
  }
}

function axpy2x16(k: i32, a0: usize, a1: usize, b: usize, ldbBytes: usize, alpha: f32, beta: f32, c0: usize, c1: usize): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  const end = a0 + (<usize>k << 2);
  while (a0 < end) {
    const x0 = v128.load32_splat(a0), x1 = v128.load32_splat(a1);
    let y = v128.load(b);
    s00 = f32x4.add(s00, f32x4.mul(x0, y));
    s10 = f32x4.add(s10, f32x4.mul(x1, y));
    y = v128.load(b, 16);
    s01 = f32x4.add(s01, f32x4.mul(x0, y));
    s11 = f32x4.add(s11, f32x4.mul(x1, y));
    y = v128.load(b, 32);
    s02 = f32x4.add(s02, f32x4.mul(x0, y));
    s12 = f32x4.add(s12, f32x4.mul(x1, y));
    y = v128.load(b, 48);
    s03 = f32x4.add(s03, f32x4.mul(x0, y));
    s13 = f32x4.add(s13, f32x4.mul(x1, y));
    a0 += 4;
    a1 += 4;
    b += ldbBytes;
  }
  finish(c0, s00, alpha, beta, 4);
  finish(c0 + 16, s01, alpha, beta, 4);
  finish(c0 + 32, s02, alpha, beta, 4);
  finish(c0 + 48, s03, alpha, beta, 4);
  finish(c1, s10, alpha, beta, 4);
  finish(c1 + 16, s11, alpha, beta, 4);
  finish(c1 + 32, s12, alpha, beta, 4);
  finish(c1 + 48, s13, alpha, beta, 4);
}

function axpy1x16(k: i32, a0: usize, b: usize, ldbBytes: usize, alpha: f32, beta: f32, c0: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  const end = a0 + (<usize>k << 2);
  while (a0 < end) {
    const x = v128.load32_splat(a0);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b, 16)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b, 32)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b, 48)));
    a0 += 4;
    b += ldbBytes;
  }
  finish(c0, s0, alpha, beta, 4);
  finish(c0 + 16, s1, alpha, beta, 4);
  finish(c0 + 32, s2, alpha, beta, 4);
  finish(c0 + 48, s3, alpha, beta, 4);
}

/** The last 1..4 columns: partial loads, the same sums in the same order as the wide tiles. */
function axpy1x4(k: i32, a0: usize, b: usize, ldbBytes: usize, alpha: f32, beta: f32, c0: usize, cols: i32): void {
  let s = f32x4.splat(0);
  const end = a0 + (<usize>k << 2);
  while (a0 < end) {
    s = f32x4.add(s, f32x4.mul(v128.load32_splat(a0), loadLanes(b, cols)));
    a0 += 4;
    b += ldbBytes;
  }
  finish(c0, s, alpha, beta, cols);
}

import type { FloatArray } from '../contract.js';

/** Reference GEMM: C = alpha * op(A) op(B) + beta * C, row-major, with an i-k-j loop order so the
 * innermost loop walks rows of B and C contiguously in the common (no transpose of B) case. */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, aOffset: number, lda: number,
  b: FloatArray, bOffset: number, ldb: number,
  beta: number, c: FloatArray, cOffset: number, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const cRow = cOffset + i * ldc;
    if (beta === 0) c.fill(0, cRow, cRow + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[cRow + j]! *= beta;
  }
  if (k === 0 || alpha === 0) return;
  if (!transB) {
    for (let i = 0; i < m; i++) {
      const cRow = cOffset + i * ldc;
      for (let p = 0; p < k; p++) {
        const aip = alpha * (transA ? a[aOffset + p * lda + i]! : a[aOffset + i * lda + p]!);
        if (aip === 0) continue;
        const bRow = bOffset + p * ldb;
        for (let j = 0; j < n; j++) c[cRow + j]! += aip * b[bRow + j]!;
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      const cRow = cOffset + i * ldc;
      for (let j = 0; j < n; j++) {
        const bRow = bOffset + j * ldb;
        let s = 0;
        if (transA) for (let p = 0; p < k; p++) s += a[aOffset + p * lda + i]! * b[bRow + p]!;
        else {
          const aRow = aOffset + i * lda;
          for (let p = 0; p < k; p++) s += a[aRow + p]! * b[bRow + p]!;
        }
        c[cRow + j]! += alpha * s;
      }
    }
  }
}

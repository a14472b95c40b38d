import type { DType, FloatArray, PackedMatrix } from '../contract.js';

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

/** The reference's "packed" B: the original matrix itself, read at each product. */
export class ReferencePacked implements PackedMatrix {
  constructor(
    readonly transB: boolean, readonly k: number, readonly n: number, readonly dtype: DType,
    readonly b: FloatArray, readonly bOffset: number, readonly ldb: number,
  ) {}
}

export function packB(transB: boolean, k: number, n: number, b: FloatArray, bOffset: number, ldb: number): PackedMatrix {
  return new ReferencePacked(transB, k, n, b instanceof Float64Array ? 'float64' : 'float32', b, bOffset, ldb);
}

export function gemmPacked(
  transA: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, aOffset: number, lda: number, packed: PackedMatrix,
  beta: number, c: FloatArray, cOffset: number, ldc: number,
): void {
  if (!(packed instanceof ReferencePacked)) throw new Error('gemmPacked: this packed matrix comes from another backend');
  checkPackedShape(packed, n, k);
  gemm(transA, packed.transB, m, n, k, alpha, a, aOffset, lda, packed.b, packed.bOffset, packed.ldb, beta, c, cOffset, ldc);
}

/** The error both backends give when a product's n or k differ from its packed B's. */
export function checkPackedShape(packed: PackedMatrix, n: number, k: number): void {
  if (packed.n !== n || packed.k !== k) {
    throw new Error(`gemmPacked: packed B is [k=${packed.k}, n=${packed.n}] but the product asks for [k=${k}, n=${n}]`);
  }
}

/**
 * The float64 kernels with the system BLAS under their products: the TypeScript reference (the only
 * float64 backend, docs/architecture.md "Kernels own the hot loop") except that gemm and gemmPacked
 * hand the products NativeGemm.takesDouble accepts to cblas_dgemm. float64 arrays live in the
 * JavaScript heap, so dgemm takes each operand's own array; nothing is copied.
 */
import type { FloatArray, Kernels } from '../contract.js';
import { ReferencePacked, checkPackedShape } from '../js/gemm.js';
import { jsKernels } from '../js/index.js';
import type { NativeGemm } from './gemm.js';

const f64 = (x: FloatArray): x is Float64Array => x instanceof Float64Array;

/** jsKernels with `native` computing its float64 products. */
export function float64KernelsOver(native: NativeGemm): Kernels {
  const gemm: Kernels['gemm'] = (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) => {
    if (f64(a) && f64(b) && f64(c) && alpha !== 0 && native.takesDouble(m, n, k)) {
      native.runDouble(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    } else {
      jsKernels.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }
  };
  // Inherits from jsKernels rather than copying it, so the reference stays the one definition of
  // everything else (tests that wrap one of its functions see every float64 call).
  const kernels: Kernels = Object.create(jsKernels);
  kernels.gemm = gemm;
  kernels.gemmPacked = (transA, m, n, k, alpha, a, aOffset, lda, packed, beta, c, cOffset, ldc) => {
    if (!(packed instanceof ReferencePacked)) throw new Error('gemmPacked: this packed matrix comes from another backend');
    checkPackedShape(packed, n, k);
    gemm(transA, packed.transB, m, n, k, alpha, a, aOffset, lda, packed.b, packed.bOffset, packed.ldb, beta, c, cOffset, ldc);
  };
  return kernels;
}

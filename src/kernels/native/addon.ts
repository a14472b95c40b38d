/**
 * Finding and loading the native GEMM provider (native/blas.c, built by scripts/build-native.mjs when
 * a C compiler and a BLAS are present). Node only: browsers never reach the loader. Whether it is
 * used follows RECURRENT_BLAS: `off` never, `on` always (an absent addon is then an error), unset or
 * `auto` where it was built.
 */

/** What native/blas.c exports. Addresses and offsets are in elements of the arrays given. */
export interface NativeBlasAddon {
  /** C = alpha op(A) op(B) + beta C on one Float32Array (the WebAssembly memory's f32 view): a, b and
   * c are element offsets into it. The base pointer is read from `memory` on every call. */
  sgemm(
    memory: Float32Array, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void;
  /** The float64 product C = alpha op(A) op(B) + beta C on three Float64Arrays of their own, in the
   * argument order of Kernels.gemm (offsets in elements of each array). C must not overlap A or B. */
  dgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float64Array, aOffset: number, lda: number, b: Float64Array, bOffset: number, ldb: number,
    beta: number, c: Float64Array, cOffset: number, ldc: number,
  ): void;
  /** The BLAS's own thread count; returns the count in effect (0 where the library does not say). */
  setThreads(threads: number): number;
  /** The library and its configuration, e.g. "OpenBLAS 0.3.21 ... core SkylakeX". */
  describe(): string;
  /** A multiply-add loop at the widest vector width of this CPU; returns the flops done (bench/gemm.mjs). */
  peakLoop(iterations: number, seed: number): number;
}

export type BlasMode = 'auto' | 'on' | 'off';

/** The addon as built by node-gyp, relative to the package root (this file is three levels below it
 * in src/ and in dist/). */
export const ADDON_URL = new URL('../../../native/build/Release/recurrent_blas.node', import.meta.url);

/** RECURRENT_BLAS as a mode, or why it is not one. */
export function parseBlasVariable(text: string | undefined): { mode: BlasMode } | { error: string } {
  const trimmed = (text ?? '').trim().toLowerCase();
  if (trimmed === '' || trimmed === 'auto') return { mode: 'auto' };
  if (trimmed === 'on' || trimmed === 'off') return { mode: trimmed };
  return { error: `RECURRENT_BLAS must be on, off or auto, got ${JSON.stringify(text)}` };
}

/** The loaded addon, or why there is none. */
export type NativeBlasLoad = { addon: NativeBlasAddon; reason: null } | { addon: null; reason: string };

/**
 * The addon at `url` for `mode`: `off` gives none, `auto` gives none when it is missing or fails to
 * load (with the reason), `on` throws then. OpenBLAS's idle threads spin for a long time after a call
 * unless told otherwise, which would take a core from our helper threads between products; the
 * shortest timeout is set before the library loads (a value the user set is kept).
 */
export function loadNativeBlas(mode: BlasMode, url: URL = ADDON_URL): NativeBlasLoad {
  if (mode === 'off') return { addon: null, reason: 'RECURRENT_BLAS=off' };
  const failed = (reason: string): NativeBlasLoad => {
    if (mode === 'on') throw new Error(`recurrent: RECURRENT_BLAS=on but the native BLAS cannot be used: ${reason}`);
    return { addon: null, reason };
  };
  const getBuiltin = typeof process === 'object'
    ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
    : undefined;
  const moduleApi = getBuiltin?.call(process, 'node:module') as typeof import('node:module') | undefined;
  const fs = getBuiltin?.call(process, 'node:fs') as typeof import('node:fs') | undefined;
  const urlApi = getBuiltin?.call(process, 'node:url') as typeof import('node:url') | undefined;
  if (!moduleApi || !fs || !urlApi) return failed('this Node cannot load built-in modules synchronously (process.getBuiltinModule, Node >= 20.16)');
  const path = urlApi.fileURLToPath(url);
  if (!fs.existsSync(path)) return failed(`the addon was not built (${path} is missing; it builds during npm ci where a C compiler and libopenblas-dev are present)`);
  process.env['OPENBLAS_THREAD_TIMEOUT'] ??= '4';
  try {
    const addon = moduleApi.createRequire(url)(path) as NativeBlasAddon;
    if (typeof addon.sgemm !== 'function') return failed(`${path} is not recurrent's BLAS addon`);
    if (typeof addon.dgemm !== 'function') return failed(`${path} is an older build without dgemm: run npm run build:native`);
    return { addon, reason: null };
  } catch (error) {
    return failed(`${path} failed to load: ${error instanceof Error ? error.message : String(error)}`);
  }
}

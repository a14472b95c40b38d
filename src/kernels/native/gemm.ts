/**
 * The system BLAS under the WebAssembly backend's gemm: which products it takes, and on how many of
 * its threads. It computes in place on the kernels' memory (addresses, no copies).
 *
 * Which products: measured per shape on an AVX-512 host (bench/gemm.mjs, `npm run bench:gemm`),
 * the BLAS is faster than our wasm GEMM on every product the layers issue through gemm (input
 * projections over all time steps, the weight and input gradients at the end of a backward, Linear
 * over [seq*batch, H]) down to 32x32x32, because it runs AVX-512 where wasm has 128-bit SIMD. It is
 * slower where gemm streams B for a few rows of A (generation at batch 1: 1x2048x512 runs at a sixth
 * of our speed), so those stay ours. The per-step recurrent products follow the same rule (gemmPacked
 * hands those of more than `smallRows` rows here, reading B where it lies in kernel memory, or from
 * the copy a packed B outside it keeps; measured, [64x512]x[512x2048] runs 2.6x our packed product's speed on two threads and
 * [16x256]x[256x1024] 1.1x, while 8 rows run at 0.7x). The rule is a fixed function of the shape,
 * never of timings, so which code computes a product, and so its bits, never depends on load.
 *
 * Threads: the BLAS runs on as many threads as our helper pool has (never more, so the two never
 * oversubscribe the cores: while a BLAS call runs our helpers sleep, and OpenBLAS's idle threads are
 * told to sleep at once after a call, see addon.ts). Whether a shape runs on all those threads or
 * on one is chosen by timing both, as our own sharing is (wasm/chooser.ts): on a busy host one
 * thread wins. OpenBLAS splits a product among threads by rows and columns of C, but it also cuts k
 * into blocks, and for some k it cuts differently on one thread and on several (measured, OpenBLAS
 * 0.3.21 SkylakeX: k of 500, 700, 1000, 1500 change about three quarters of the elements; 1023,
 * 2047 do not), so a timing-chosen count made training differ between runs of one seed. We hand it
 * k in blocks of at most K_BLOCK, which it never cuts, so the bits do not depend on the count
 * (test/native-blas.test.ts forces both counts and compares bits). That holds for the core OpenBLAS
 * picks on an AVX-512 host (SkylakeX); on a host where it picks Haswell's kernels, 0.3.21's bits differ
 * between one thread and two for most shapes even at k = 8 (measured: 108 of 180 shapes, 2-29% of the
 * elements), so each library is probed once (sgemmThreadsAgree) and, where the counts disagree, every
 * float32 product runs on one BLAS thread, as float64 ones always do: speed is given up rather than
 * results that change with load.
 */
import { Chooser } from '../wasm/chooser.js';
import type { NativeBlasAddon } from './addon.js';

/**
 * m·n·k from which dgemm beats the TypeScript reference's float64 loop: below it, the Node-API call
 * and its argument checks (a quarter of a microsecond) cost more than the arithmetic. Measured side
 * by side on one thread (AVX-512 host, OpenBLAS 0.3.21): dgemm ÷ reference time 2x5x3 2.1 (slower),
 * 3x8x8 0.6-0.75, 8x8x8 0.2-0.3, 16x16x16 0.04-0.07, 64x64x64 0.003.
 */
export const DOUBLE_MIN_VOLUME = 192;

/**
 * The longest k one BLAS call sums over. OpenBLAS cuts k only beyond its block (GEMM_Q: 448 floats
 * on the SkylakeX build measured; not checked on other cores), so it sums each of our blocks whole,
 * and the blocks add up into C in a fixed order whatever the thread count. On a core whose block were
 * smaller, test/native-blas.test.ts's bit comparison would fail there.
 */
export const K_BLOCK = 256;

// Shapes the probe compares on one thread and on two: each of them differed on OpenBLAS 0.3.21's
// Haswell kernels (edge columns and rows of the threads' shares), in every transpose case.
const PROBE_SHAPES = [[64, 512, 16], [100, 100, 64], [300, 260, 8], [32, 128, 128], [130, 88, 256]] as const;
const threadAgreement = new Map<string, boolean>();

/**
 * Whether this BLAS's float32 products have the same bits on one thread and on two, probed once per
 * library (the key is its description, which names the core it runs) on PROBE_SHAPES in every
 * transpose case. Leaves the BLAS on one thread.
 */
export function sgemmThreadsAgree(addon: NativeBlasAddon): boolean {
  const key = addon.describe();
  let agree = threadAgreement.get(key);
  if (agree === undefined) {
    agree = probeThreadAgreement(addon);
    threadAgreement.set(key, agree);
  }
  return agree;
}

function probeThreadAgreement(addon: NativeBlasAddon): boolean {
  let agree = true;
  for (const [m, n, k] of PROBE_SHAPES) {
    const operands = m * k + k * n;
    const memory = new Float32Array(operands + 2 * m * n);
    let state = 0x9e3779b9 ^ (m * 31 + n * 7 + k);
    for (let i = 0; i < operands; i++) {
      state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0;
      memory[i] = state / 2 ** 32 - 0.5;
    }
    for (const transA of [false, true]) for (const transB of [false, true]) {
      const product = (threads: number, c: number): void => {
        addon.setThreads(threads);
        addon.sgemm(memory, transA, transB, m, n, k, 1, 0, transA ? m : k, m * k, transB ? k : n, 0, c, n);
      };
      product(1, operands);
      product(2, operands + m * n);
      for (let i = 0; i < m * n && agree; i++) agree = Object.is(memory[operands + i], memory[operands + m * n + i]);
    }
  }
  addon.setThreads(1);
  return agree;
}

export class NativeGemm {
  private readonly chooser = new Chooser();
  /** Float32 products on one BLAS thread only: its bits change with the thread count here. */
  private readonly oneThread: boolean;
  /** The BLAS thread count last set (0: not yet). */
  private blasThreads = 0;
  /** The library, for getBackendInfo() and `recurrent info`. */
  readonly library: string;

  /**
   * @param smallRows gemm's streaming threshold (assembly/gemm-small.ts SMALL_M): products of at most
   * this many rows of an untransposed A stay on the wasm kernels.
   */
  constructor(readonly addon: NativeBlasAddon, private readonly smallRows: number) {
    this.oneThread = !sgemmThreadsAgree(addon);
    this.library = addon.describe() + (this.oneThread ? ' (on one thread: its float32 bits change with its thread count here)' : '');
  }

  /** Whether the BLAS computes this product (see the file comment). */
  takes(transA: boolean, m: number, n: number, k: number): boolean {
    return m > 0 && n > 0 && k > 0 && (transA || m > this.smallRows);
  }

  /** C = alpha op(A) op(B) + beta C over `memory` (the kernels' whole memory as f32), a, b, c byte
   * addresses in it; on up to `threads` threads. */
  run(
    memory: Float32Array, threads: number, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void {
    const share = threads > 1 && !this.oneThread && this.chooser.share();
    this.useThreads(share ? threads : 1);
    const start = threads > 1 ? performance.now() : 0;
    for (let k0 = 0; k0 < k; k0 += K_BLOCK) {
      const aAt = (a >>> 2) + (transA ? k0 * lda : k0);
      const bAt = (b >>> 2) + (transB ? k0 : k0 * ldb);
      this.addon.sgemm(memory, transA, transB, m, n, Math.min(K_BLOCK, k - k0), alpha, aAt, lda, bAt, ldb, k0 === 0 ? beta : 1, c >>> 2, ldc);
    }
    if (threads > 1) this.chooser.record(`${+transA}${+transB}:${m}x${n}x${k}`, share, performance.now() - start);
  }

  /** Whether the BLAS computes this float64 product: all but the smallest, whose call costs more
   * than the reference's loop (see DOUBLE_MIN_VOLUME). */
  takesDouble(m: number, n: number, k: number): boolean {
    return m > 0 && n > 0 && k > 0 && m * n * k >= DOUBLE_MIN_VOLUME;
  }

  /**
   * The float64 product on arrays of the JavaScript heap (the float64 path's), always on one BLAS
   * thread: OpenBLAS's dgemm cuts some shapes differently on two threads, and its bits change with
   * the cut (measured: 200x190x210 with B transposed, 1053 of 38000 elements differ), which the
   * kernels must not allow. sgemm's bits do not, as run hands it k in blocks of K_BLOCK
   * (test/native-blas.test.ts).
   */
  runDouble(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float64Array, aOffset: number, lda: number, b: Float64Array, bOffset: number, ldb: number,
    beta: number, c: Float64Array, cOffset: number, ldc: number,
  ): void {
    this.useThreads(1);
    this.addon.dgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
  }

  /** Off: every product uses all threads (tests and benchmarks). */
  set adaptive(on: boolean) {
    this.chooser.enabled = on;
  }

  private useThreads(threads: number): void {
    if (threads !== this.blasThreads) {
      this.addon.setThreads(threads);
      this.blasThreads = threads;
    }
  }
}

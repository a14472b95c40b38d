/**
 * The WebAssembly SIMD backend: the Kernels contract over the AssemblyScript module (assembly/).
 * float32 only; a float64 call is handed to the TypeScript reference kernels, as the contract says.
 *
 * Loading: Node compiles the module synchronously when src/kernels/index.ts is imported. Browsers
 * forbid synchronous compilation of large modules on the main thread, so there the application
 * calls `await initWasm()` (exported by src/kernels/index.ts) once before training.
 */
import { gatesOf, type DType, type FloatArray, type KernelBuffer, type Kernels, type PackedMatrix, type PreparedStep } from '../contract.js';
import { checkPackedShape } from '../js/gemm.js';
import { jsKernels } from '../js/index.js';
import { checkScatterIds } from '../js/scatter.js';
import type { NativeGemm } from '../native/gemm.js';
import { checkThreadCount } from '../thread-count.js';
import type { WasmExports } from './exports.js';
import {
  ADAM_UPDATE, ADD_ROW_VECTOR, AXPY, GEMM, GEMM_PACKED, GRU_BACKWARD, GRU_FORWARD, GRU_RESET_BEFORE_GATES, GRU_RESET_BEFORE_UPDATE, LSTM_BACKWARD, LSTM_FORWARD, PACK_B,
  RNN_BACKWARD, RNN_FORWARD, SCALE, SCATTER_ADD_ROWS, SEQUENCE_BACKWARD, SEQUENCE_FORWARD, SOFTMAX_CROSS_ENTROPY, STEP_PREPARED, STEP_QUANTIZED, SUM_ROWS,
  SUM_SQUARES,
} from './kernel-args.js';
import { LinearMemory, WasmBuffer } from './memory.js';
import type { WasmInstance } from './module.js';
import { instantiateWasmAsync, instantiateWasmSync } from './module.js';
import { prepareStep, WasmPreparedStep, WasmStepBlock } from './prepared-step.js';
import { paddedColumns, prepareQuantizedStep, WasmQuantizedStep } from './quantized-step.js';
import { Staging } from './staging.js';
import {
  KIND_GRU_BACKWARD, KIND_GRU_FORWARD, KIND_LSTM_BACKWARD, KIND_LSTM_FORWARD, KIND_SEQUENCE_BACKWARD,
  KIND_SEQUENCE_FORWARD, KIND_STEP_GROUPED, KIND_STEP_QUANTIZED,
} from './assembly-constants.generated.js';
import type { ThreadTestHooks } from './pool.js';
import { GemmThreads } from './threads.js';

export { relaxedSimdSupported, sharedMemorySupported, wasmSimdSupported } from './module.js';

/** The wasm kernels plus what tests and benchmarks need to look inside. */
export interface WasmKernels extends Kernels {
  readonly name: 'wasm';
  readonly heap: LinearMemory;
  readonly exports: WasmExports;
  /** Whether the memory is shared (the build that worker threads can join). */
  readonly shared: boolean;
  /** Whether this is the relaxed-SIMD build (fused multiply-add in the GEMM and gate kernels). */
  readonly relaxed: boolean;
  /** Threads that large GEMMs use now (1 until helpers are started and ready). */
  readonly threads: number;
  /**
   * Uses `threads` threads (this one plus helper workers) for large GEMMs; resolves once the helpers
   * are ready. Results do not depend on the number of threads. Needs shared memory: where it is
   * missing (a browser page that is not cross-origin isolated) only 1 is accepted.
   */
  setThreads(threads: number): Promise<void>;
  /** Chunks of shared work (GEMMs, recurrent steps) that helper threads computed so far (0 without helpers). */
  readonly helperChunks: number;
  /**
   * Whether sharing pauses while helpers keep running late, as they do when every core is busy with
   * other work (default true). Off, all large enough work is shared: for tests and benchmarks.
   */
  adaptiveThreads: boolean;
  /** Hooks for tests that must make a helper thread fail (null without shared memory): not for applications. */
  readonly threadTestHooks: ThreadTestHooks | null;
  /**
   * The system BLAS that takes the large products of gemm (../native/gemm.ts says which), or null:
   * every product on the wasm kernels. Set by src/kernels/index.ts from RECURRENT_BLAS.
   */
  nativeGemm: NativeGemm | null;
}

/**
 * op(B) packed in linear memory (assembly/gemm.ts packB), and where the system BLAS reads op(B) from
 * (`plain`, 0: nowhere) for the products it takes (the per-step recurrent GEMMs of large batches):
 * B itself where it lies when B is in kernel memory (a parameter), which the contract keeps unchanged
 * while the packed matrix is in use, so no copy is made; otherwise a copy of B made when packing,
 * after the packed layout in the same block (`ownsCopy`), since B then lives outside the memory the
 * BLAS is handed. Either way a call's weights are one snapshot whichever code reads them.
 */
class WasmPacked implements PackedMatrix {
  readonly dtype = 'float32' as const;
  constructor(
    readonly transB: boolean, readonly k: number, readonly n: number, readonly ptr: number, readonly bytes: number,
    readonly ownsCopy: boolean, public plain: number, public plainLd: number,
  ) {}
}

export function createWasmKernels(instance: WasmInstance): WasmKernels {
  const { exports: w, memory } = instance;
  const heap = new LinearMemory(memory, w.heapBase());
  const stage = new Staging(heap);
  const workBytes = w.gemmWorkspaceBytes();
  const gemmWork = heap.alloc(workBytes);
  const pool = instance.shared ? new GemmThreads(heap, instance, workBytes) : null;
  const f64 = (x: FloatArray): x is Float64Array => x instanceof Float64Array;
  // Users never call dispose(): a buffer nobody references any more (a dropped model, optimizer or
  // workspace) returns its memory when collected. release() does it at once and cancels this.
  const collected = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => heap.release(ptr, bytes));
  const released = new WeakSet<KernelBuffer | PackedMatrix | PreparedStep>();
  /** `handle`'s block returns to the heap when the handle is collected, unless released first. */
  const owned = (handle: KernelBuffer | PackedMatrix | PreparedStep, ptr: number, bytes: number): void => {
    collected.register(handle, { ptr, bytes }, handle);
  };
  /** A prepared step's call: the step is live, the input is the kind it was prepared for, tokens are
   * in range, and an LSTM gets its cell states. */
  const checkStep = (
    kernel: string, step: PreparedStep, batch: number, x: FloatArray | null, tokens: Int32Array | null, cPrev: FloatArray | null, c: FloatArray | null,
  ): void => {
    if (released.has(step)) throw new Error(`${kernel}: this prepared step was released`);
    if (step.tokens ? !tokens || tokens.length < batch : !x) {
      throw new Error(`${kernel}: a step prepared ${step.tokens ? 'for tokens takes token indices' : 'for dense inputs takes x'}`);
    }
    if (tokens) {
      for (let b = 0; b < batch; b++) {
        const t = tokens[b]!;
        if (!(t >= 0 && t < step.input)) throw new RangeError(`${kernel}: token ${b} must be in [0, ${step.input}), got ${t}`);
      }
    }
    if ((step.cell === 2) !== (cPrev !== null && c !== null)) throw new Error(`${kernel}: an LSTM step takes cPrev and c, other cells neither`);
  };
  /** Returns `handle`'s block now, once (a second release, or the collector later, does nothing). */
  const releaseOnce = (handle: KernelBuffer | PackedMatrix | PreparedStep, ptr: number, bytes: number): void => {
    if (released.has(handle)) return;
    released.add(handle);
    collected.unregister(handle);
    heap.release(ptr, bytes);
  };
  let adaptive = true;
  let native: NativeGemm | null = null;
  /**
   * Whether a step's gate kernel over `batch` rows goes to the helper threads. Not where the BLAS
   * takes that step's products: a helper spins for a while after each job (pool.ts WORKER_SPIN_MS),
   * and would spin through the next BLAS product on the core the BLAS's own second thread needs.
   * The gate kernel is a small share of such a step; rows give the same bits on any thread.
   */
  const shareStep = (batch: number): boolean => pool !== null && !(native !== null && native.takes(false, batch, 1, 1));
  /** Whether the BLAS computes a product of `m` rows with this packed B (reading B at `plain`). */
  const stepOnBlas = (packed: WasmPacked, transA: boolean, m: number): boolean =>
    native !== null && packed.plain !== 0 && native.takes(transA, m, packed.n, packed.k);

  return {
    name: 'wasm',
    heap,
    exports: w,
    shared: instance.shared,
    relaxed: instance.relaxed,

    get threads() {
      return pool ? pool.count : 1;
    },

    get helperChunks() {
      return pool ? pool.helperChunks : 0;
    },

    get threadTestHooks() {
      return pool ? pool.testHooks : null;
    },

    get adaptiveThreads() {
      return adaptive;
    },

    set adaptiveThreads(on: boolean) {
      adaptive = on;
      if (pool) pool.adaptive = on;
      if (native) native.adaptive = on;
    },

    get nativeGemm() {
      return native;
    },

    set nativeGemm(provider: NativeGemm | null) {
      native = provider;
      if (native) native.adaptive = adaptive;
    },

    async setThreads(threads) {
      checkThreadCount('setThreads', threads);
      if (pool) return pool.resize(threads);
      if (threads > 1) {
        throw new Error(`setThreads(${threads}): threads need shared WebAssembly memory, which this page lacks (serve it cross-origin isolated)`);
      }
    },

    allocate(length: number, dtype: DType): KernelBuffer {
      if (dtype === 'float64') return jsKernels.allocate(length, dtype);
      const ptr = heap.alloc(length * 4);
      const buffer = new WasmBuffer(heap, ptr, length);
      buffer.view().fill(0);
      owned(buffer, ptr, length * 4);
      return buffer;
    },

    release(buffer) {
      if (!(buffer instanceof WasmBuffer)) return;
      releaseOnce(buffer, buffer.ptr, buffer.length * 4);
      buffer.markReleased();
    },

    gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) {
      if (f64(c)) return jsKernels.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
      const p = stage.begin(GEMM, +transA, +transB, m, n, k, alpha, lda, ldb, beta, ldc).arg(a, aOffset).arg(b, bOffset).arg(c, cOffset).bind();
      // Addresses are bound, so the memory is as large as it gets for this call: its view now is current.
      if (native?.takes(transA, m, n, k) && alpha !== 0) {
        native.run(heap.f32(), pool ? pool.count : 1, transA, transB, m, n, k, alpha, p[0], lda, p[1], ldb, beta, p[2], ldc);
      } else if (!pool?.gemm(transA, transB, m, n, k, alpha, p[0], lda, p[1], ldb, beta, p[2], ldc, gemmWork)) {
        w.gemm(+transA, +transB, m, n, k, alpha, p[0], lda, p[1], ldb, beta, p[2], ldc, gemmWork);
      }
      stage.finish();
    },

    packB(transB, k, n, b, bOffset, ldb, into) {
      if (f64(b)) return jsKernels.packB(transB, k, n, b, bOffset, ldb);
      const some = k > 0 && n > 0;
      // B in kernel memory is read where it lies; B elsewhere is copied only where a BLAS could use it.
      const inPlace = some && heap.owns(b.buffer);
      const withCopy = some && !inPlace && native !== null;
      const reuse = into instanceof WasmPacked && into.transB === transB && into.k === k && into.n === n && into.ownsCopy === withCopy
        && !released.has(into) ? into : null;
      // B's address first, then the block: growing the memory for it may detach the caller's views
      // but never moves the bytes they address.
      const pb = stage.begin(PACK_B, +transB, k, n, ldb).arg(b, bOffset).bind()[0];
      const packedBytes = alignUp(w.packedBBytes(k, n), PLAIN_ALIGN);
      const bytes = packedBytes + (withCopy ? k * n * 4 + PLAIN_ALIGN : 0);
      const ptr = reuse ? reuse.ptr : heap.alloc(bytes);
      let plain = inPlace ? pb : 0, plainLd = ldb;
      if (some) w.packB(+transB, k, n, pb, ldb, ptr);
      if (withCopy) {
        plain = alignUp(ptr + packedBytes, PLAIN_ALIGN);
        plainLd = transB ? k : n;
        copyRows(heap.f32(), pb >>> 2, ldb, plain >>> 2, transB ? n : k, plainLd);
      }
      stage.finish();
      if (reuse) {
        reuse.plain = plain;
        reuse.plainLd = plainLd;
        return reuse;
      }
      const packed = new WasmPacked(transB, k, n, ptr, bytes, withCopy, plain, plainLd);
      owned(packed, ptr, packed.bytes);
      return packed;
    },

    gemmPacked(transA, m, n, k, alpha, a, aOffset, lda, packed, beta, c, cOffset, ldc) {
      if (!(packed instanceof WasmPacked)) return jsKernels.gemmPacked(transA, m, n, k, alpha, a, aOffset, lda, packed, beta, c, cOffset, ldc);
      checkPackedShape(packed, n, k);
      if (f64(c) || f64(a)) throw new Error('gemmPacked: a float32 packed matrix takes float32 A and C');
      if (released.has(packed)) throw new Error('gemmPacked: this packed matrix was released');
      const p = stage.begin(GEMM_PACKED, +transA, m, n, k, alpha, lda, beta, ldc).arg(a, aOffset).arg(c, cOffset).bind();
      if (stepOnBlas(packed, transA, m)) {
        native!.run(heap.f32(), pool ? pool.count : 1, transA, packed.transB, m, n, k, alpha, p[0], lda, packed.plain, packed.plainLd, beta, p[1], ldc);
      } else if (!pool?.gemmPacked(transA, m, n, k, alpha, p[0], lda, packed.ptr, beta, p[1], ldc, gemmWork)) {
        w.gemmPacked(+transA, m, n, k, alpha, p[0], lda, packed.ptr, beta, p[1], ldc, 0, n, gemmWork);
      }
      stage.finish();
    },

    releasePacked(packed) {
      if (packed instanceof WasmPacked) releaseOnce(packed, packed.ptr, packed.bytes);
    },

    addRowVector(rows, cols, x, xOffset, v, vOffset) {
      if (f64(x)) return jsKernels.addRowVector(rows, cols, x, xOffset, v, vOffset);
      const p = stage.begin(ADD_ROW_VECTOR, rows, cols).arg(x, xOffset).arg(v, vOffset).bind();
      w.addRowVector(rows, cols, p[0], p[1]);
      stage.finish();
    },

    sumRows(rows, cols, x, xOffset, out, outOffset, accumulate) {
      if (f64(out)) return jsKernels.sumRows(rows, cols, x, xOffset, out, outOffset, accumulate);
      const p = stage.begin(SUM_ROWS, rows, cols, +accumulate).arg(x, xOffset).arg(out, outOffset).bind();
      w.sumRows(rows, cols, p[0], p[1], +accumulate);
      stage.finish();
    },

    scatterAddRows(rows, cols, ids, src, srcOffset, dst, dstOffset, dstRows) {
      if (f64(dst)) return jsKernels.scatterAddRows(rows, cols, ids, src, srcOffset, dst, dstOffset, dstRows);
      checkScatterIds(ids, rows, dstRows);
      const p = stage.begin(SCATTER_ADD_ROWS, rows, cols, dstRows).arg(ids).arg(src, srcOffset).arg(dst, dstOffset).bind();
      if (rows > 0 && cols > 0) w.scatterAddRows(rows, cols, p[0], p[1], p[2]);
      stage.finish();
    },

    axpy(n, alpha, x, xOffset, y, yOffset) {
      if (f64(y)) return jsKernels.axpy(n, alpha, x, xOffset, y, yOffset);
      const p = stage.begin(AXPY, n).arg(x, xOffset).arg(y, yOffset).bind();
      w.axpy(n, alpha, p[0], p[1]);
      stage.finish();
    },

    sumSquares(n, x, xOffset) {
      if (f64(x)) return jsKernels.sumSquares(n, x, xOffset);
      const s = w.sumSquares(n, stage.begin(SUM_SQUARES, n).arg(x, xOffset).bind()[0]);
      stage.finish();
      return s;
    },

    scale(n, alpha, x, xOffset) {
      if (f64(x)) return jsKernels.scale(n, alpha, x, xOffset);
      w.scale(n, alpha, stage.begin(SCALE, n).arg(x, xOffset).bind()[0]);
      stage.finish();
    },

    rnnForward(n, activation, pre, preOffset) {
      if (f64(pre)) return jsKernels.rnnForward(n, activation, pre, preOffset);
      w.rnnForward(n, activation, stage.begin(RNN_FORWARD, n).arg(pre, preOffset).bind()[0]);
      stage.finish();
    },

    rnnBackward(n, activation, h, hOffset, dh, dhOffset, dPre, dPreOffset) {
      if (f64(dPre)) return jsKernels.rnnBackward(n, activation, h, hOffset, dh, dhOffset, dPre, dPreOffset);
      const p = stage.begin(RNN_BACKWARD, n).arg(h, hOffset).arg(dh, dhOffset).arg(dPre, dPreOffset).bind();
      w.rnnBackward(n, activation, p[0], p[1], p[2]);
      stage.finish();
    },

    lstmForward(batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, hRaw, hRawOffset, peep, peepOffset) {
      if (f64(gates)) {
        return jsKernels.lstmForward(batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, hRaw, hRawOffset, peep, peepOffset);
      }
      const p = stage.begin(LSTM_FORWARD, batch, hidden)
        .arg(gates, gatesOffset).arg(cPrev, cPrevOffset).arg(c, cOffset).arg(hRaw, hRawOffset).arg(peep, peepOffset).bind();
      if (!shareStep(batch) || !pool!.steps(KIND_LSTM_FORWARD, batch, hidden, p, gemmWork)) w.lstmForward(batch, hidden, p[0], p[1], p[2], p[3], p[4]);
      stage.finish();
    },

    prepareStep(cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens) {
      const step = prepareStep(heap, stage, cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens);
      owned(step, step.ptr, step.bytes);
      return step;
    },

    stepPrepared(step, batch, x, tokens, h, cPrev, c, hOut) {
      if (!(step instanceof WasmPreparedStep)) throw new Error('stepPrepared: the step was prepared by another backend');
      checkStep('stepPrepared', step, batch, x, tokens, cPrev, c);
      const { cell, input, hidden } = step;
      const G = gatesOf(cell) * hidden;
      const p = stage.begin(STEP_PREPARED, batch, input, hidden, G, +(cell === 3))
        .arg(step.tokens ? null : x).arg(tokens).arg(h).arg(cPrev).arg(c).arg(hOut).bind();
      const args = [
        cell, batch, input, hidden, p[0], p[1], p[2], step.wIh, step.wHh, step.bIh, step.bHh, step.peep, p[3], p[4], p[5], p[6], p[7],
      ] as const;
      const weights = G * ((step.tokens ? 0 : input) + hidden);
      if (!pool?.unitStep(KIND_STEP_GROUPED, hidden, weights, args, gemmWork)) w.stepGroupedUnits(...args, 0, hidden, gemmWork);
      stage.finish();
    },

    prepareQuantizedStep(cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens) {
      const step = prepareQuantizedStep(heap, cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens);
      owned(step, step.ptr, step.bytes);
      return step;
    },

    stepQuantized(step, batch, x, tokens, h, cPrev, c, hOut) {
      if (!(step instanceof WasmQuantizedStep)) throw new Error('stepQuantized: the step was prepared by another backend');
      checkStep('stepQuantized', step, batch, x, tokens, cPrev, c);
      const { cell, input, hidden } = step;
      const G = gatesOf(cell) * hidden;
      const inputPadded = step.tokens ? 0 : paddedColumns(input), hiddenPadded = paddedColumns(hidden);
      const p = stage.begin(STEP_QUANTIZED, batch, input, hidden, G, +(cell === 3), inputPadded, hiddenPadded)
        .arg(step.tokens ? null : x).arg(tokens).arg(h).arg(cPrev).arg(c).arg(hOut).bind();
      // x and h are quantized once here, on this thread, before the units are shared out.
      if (!step.tokens) w.quantizeRows(batch, input, inputPadded, p[0], p[6], p[7]);
      w.quantizeRows(batch, hidden, hiddenPadded, p[2], p[8], p[9]);
      const args = [cell, batch, input, hidden, p[6], p[7], p[1], p[8], p[9], p[2], step.ptr, p[3], p[4], p[5], p[10], p[11]] as const;
      const weights = G * ((step.tokens ? 0 : input) + hidden);
      if (!pool?.unitStep(KIND_STEP_QUANTIZED, hidden, weights, args, gemmWork)) w.stepQuantizedUnits(...args, 0, hidden, gemmWork);
      stage.finish();
    },

    releasePrepared(step) {
      if (step instanceof WasmStepBlock) releaseOnce(step, step.ptr, step.bytes);
    },

    lstmBackward(
      batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, dhRaw, dhRawOffset, dc, dcOffset,
      dGates, dGatesOffset, peep, peepOffset, dPeep, dPeepOffset,
    ) {
      if (f64(gates)) {
        return jsKernels.lstmBackward(
          batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, dhRaw, dhRawOffset, dc, dcOffset,
          dGates, dGatesOffset, peep, peepOffset, dPeep, dPeepOffset,
        );
      }
      const p = stage.begin(LSTM_BACKWARD, batch, hidden)
        .arg(gates, gatesOffset).arg(cPrev, cPrevOffset).arg(c, cOffset).arg(dhRaw, dhRawOffset).arg(dc, dcOffset)
        .arg(dGates, dGatesOffset).arg(peep, peepOffset).arg(peep ? dPeep : null, dPeepOffset)
        .bind();
      // Peepholes sum their gradient over the batch: that stays on one thread, in row order. Without
      // them, the last two addresses that the threads get are 0.
      if (peep || !shareStep(batch) || !pool!.steps(KIND_LSTM_BACKWARD, batch, hidden, p, gemmWork)) {
        w.lstmBackward(batch, hidden, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
      }
      stage.finish();
    },

    gruForward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, h, hOffset) {
      if (f64(gi)) return jsKernels.gruForward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, h, hOffset);
      const p = stage.begin(GRU_FORWARD, batch, hidden).arg(gi, giOffset).arg(gh, ghOffset).arg(hPrev, hPrevOffset).arg(h, hOffset).bind();
      if (!shareStep(batch) || !pool!.steps(KIND_GRU_FORWARD, batch, hidden, p, gemmWork)) w.gruForward(batch, hidden, p[0], p[1], p[2], p[3]);
      stage.finish();
    },

    gruBackward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, dh, dhOffset, dGi, dGiOffset, dGh, dGhOffset, dhPrev, dhPrevOffset) {
      if (f64(gi)) {
        return jsKernels.gruBackward(
          batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, dh, dhOffset, dGi, dGiOffset, dGh, dGhOffset, dhPrev, dhPrevOffset,
        );
      }
      const p = stage.begin(GRU_BACKWARD, batch, hidden)
        .arg(gi, giOffset).arg(gh, ghOffset).arg(hPrev, hPrevOffset).arg(dh, dhOffset).arg(dGi, dGiOffset).arg(dGh, dGhOffset).arg(dhPrev, dhPrevOffset)
        .bind();
      if (!shareStep(batch) || !pool!.steps(KIND_GRU_BACKWARD, batch, hidden, p, gemmWork)) w.gruBackward(batch, hidden, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
      stage.finish();
    },

    // Bound by memory and run once per step between two products: not shared across threads.
    gruResetBeforeGates(batch, hidden, gates, gatesOffset, hPrev, hPrevOffset, rh, rhOffset) {
      if (f64(gates)) return jsKernels.gruResetBeforeGates(batch, hidden, gates, gatesOffset, hPrev, hPrevOffset, rh, rhOffset);
      const p = stage.begin(GRU_RESET_BEFORE_GATES, batch, hidden).arg(gates, gatesOffset).arg(hPrev, hPrevOffset).arg(rh, rhOffset).bind();
      w.gruResetBeforeGates(batch, hidden, p[0], p[1], p[2]);
      stage.finish();
    },

    gruResetBeforeUpdate(batch, hidden, gates, gatesOffset, hPrev, hPrevOffset, h, hOffset) {
      if (f64(gates)) return jsKernels.gruResetBeforeUpdate(batch, hidden, gates, gatesOffset, hPrev, hPrevOffset, h, hOffset);
      const p = stage.begin(GRU_RESET_BEFORE_UPDATE, batch, hidden).arg(gates, gatesOffset).arg(hPrev, hPrevOffset).arg(h, hOffset).bind();
      w.gruResetBeforeUpdate(batch, hidden, p[0], p[1], p[2]);
      stage.finish();
    },

    sequenceForward(kind, steps, batch, hidden, packed, gates, gh, states, cells, biasHh, peep, layout = null) {
      // Per-step products the BLAS takes run step by step through gemmPacked instead.
      if (!(packed instanceof WasmPacked) || f64(gates) || stepOnBlas(packed, false, batch)) return false;
      // A step big enough to share runs whole here only if the threads can share the whole loop.
      const threaded = pool !== null && pool.sharesSteps(batch, hidden, packed.n);
      if (threaded && !pool.sharesSequence(batch)) return false;
      const p = stage.begin(SEQUENCE_FORWARD, steps, batch, hidden, packed.n, stepRowsOf(steps, batch, layout))
        .arg(gates).arg(gh).arg(states).arg(cells).arg(biasHh).arg(peep).arg(layout).bind();
      if (threaded) pool.sequence(KIND_SEQUENCE_FORWARD, batch, [kind, steps, batch, hidden, packed.ptr, p[0], p[1], p[2], p[3], p[4], p[5], p[6]], gemmWork);
      else w.sequenceForward(kind, steps, batch, hidden, packed.ptr, p[0], p[1], p[2], p[3], p[4], p[5], p[6], gemmWork);
      stage.finish();
      return true;
    },

    sequenceBackward(kind, steps, batch, hidden, packed, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep, layout = null) {
      if (!(packed instanceof WasmPacked) || f64(gates) || stepOnBlas(packed, false, batch)) return false;
      // The peephole gradient sums over batch rows: shared by rows, it would sum in another order.
      const threaded = pool !== null && pool.sharesSteps(batch, hidden, packed.k);
      if (threaded && (peep || !pool.sharesSequence(batch))) return false;
      const p = stage.begin(SEQUENCE_BACKWARD, steps, batch, hidden, packed.k, stepRowsOf(steps, batch, layout))
        .arg(gates).arg(gh).arg(states).arg(cells).arg(dOut).arg(dh).arg(dc).arg(dGates).arg(dGh).arg(dhPrev).arg(peep).arg(peep ? dPeep : null)
        .arg(layout).bind();
      if (threaded) {
        const args = [kind, steps, batch, hidden, packed.ptr, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]!];
        pool.sequence(KIND_SEQUENCE_BACKWARD, batch, args, gemmWork);
      } else {
        w.sequenceBackward(kind, steps, batch, hidden, packed.ptr, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]!, gemmWork);
      }
      stage.finish();
      return true;
    },

    softmaxCrossEntropy(rows, classes, logits, logitsOffset, targets, ignoreIndex, loss, lossOffset, dLogits, dLogitsOffset) {
      if (f64(logits)) {
        return jsKernels.softmaxCrossEntropy(rows, classes, logits, logitsOffset, targets, ignoreIndex, loss, lossOffset, dLogits, dLogitsOffset);
      }
      const p = stage.begin(SOFTMAX_CROSS_ENTROPY, rows, classes)
        .arg(logits, logitsOffset).arg(targets).arg(loss, lossOffset).arg(dLogits, dLogitsOffset).bind();
      w.softmaxCrossEntropy(rows, classes, p[0], p[1], ignoreIndex, p[2], p[3]);
      stage.finish();
    },

    adamUpdate(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step) {
      if (f64(param)) return jsKernels.adamUpdate(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
      // Bias corrections in f64, once per call, exactly as the reference computes them.
      const stepSize = lr / (1 - beta1 ** step);
      const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
      const decay = decoupled ? 1 - lr * weightDecay : 1;
      const p = stage.begin(ADAM_UPDATE, n).arg(param).arg(grad).arg(m).arg(v).bind();
      w.adamUpdate(n, p[0], p[1], p[2], p[3], beta1, beta2, eps, weightDecay, +decoupled, decay, stepSize, bias2Sqrt);
      stage.finish();
    },
  };
}

/** Byte alignment of a packed block's copy of B (a cache line, as BLAS kernels prefer). */
const PLAIN_ALIGN = 64;

const alignUp = (bytes: number, to: number): number => Math.ceil(bytes / to) * to;

/** Copies `rows` rows of `cols` floats from stride `ld` at element `from` to contiguous rows at `to`. */
function copyRows(memory: Float32Array, from: number, ld: number, to: number, rows: number, cols: number): void {
  if (ld === cols) {
    memory.copyWithin(to, from, from + rows * cols);
    return;
  }
  for (let r = 0; r < rows; r++) memory.copyWithin(to + r * cols, from + r * ld, from + r * ld + cols);
}

/** Rows of the step-major arrays of a whole time loop: all steps' active rows with a layout. */
function stepRowsOf(steps: number, batch: number, layout: Int32Array | null): number {
  if (!layout) return steps * batch;
  let rows = 0;
  for (let s = 0; s < steps; s++) rows = Math.max(rows, layout[2 * s]! + layout[2 * s + 1]!);
  return rows;
}

/** Compiles synchronously (Node, workers); check wasmSimdSupported() first. `shared` picks the
 * memory kind (default: shared where the context allows it), `relaxed` the relaxed-SIMD build
 * (default: where the engine has it, unless RECURRENT_RELAXED_SIMD=off). */
export function loadWasmKernelsSync(shared?: boolean, relaxed?: boolean): WasmKernels {
  return createWasmKernels(instantiateWasmSync(shared, relaxed));
}

export async function loadWasmKernels(shared?: boolean, relaxed?: boolean): Promise<WasmKernels> {
  return createWasmKernels(await instantiateWasmAsync(shared, relaxed));
}

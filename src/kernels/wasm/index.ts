/**
 * The WebAssembly SIMD backend: the Kernels contract over the AssemblyScript module (assembly/).
 * float32 only; a float64 call is handed to the TypeScript reference kernels, as the contract says.
 *
 * Loading: Node compiles the module synchronously when src/kernels/index.ts is imported. Browsers
 * forbid synchronous compilation of large modules on the main thread, so there the application
 * calls `await initWasm()` (exported by src/kernels/index.ts) once before training.
 */
import type { DType, FloatArray, KernelBuffer, Kernels, PackedMatrix, PreparedStep } from '../contract.js';
import { checkPackedShape } from '../js/gemm.js';
import { jsKernels } from '../js/index.js';
import { checkScatterIds } from '../js/scatter.js';
import { checkThreadCount } from '../thread-count.js';
import type { WasmExports } from './exports.js';
import { LinearMemory, WasmBuffer } from './memory.js';
import type { WasmInstance } from './module.js';
import { instantiateWasmAsync, instantiateWasmSync } from './module.js';
import { gatesOf, prepareStep, WasmPreparedStep } from './prepared-step.js';
import { Staging } from './staging.js';
import {
  KIND_GRU_BACKWARD, KIND_GRU_FORWARD, KIND_LSTM_BACKWARD, KIND_LSTM_FORWARD, KIND_LSTM_STEP, KIND_SEQUENCE_BACKWARD,
  KIND_SEQUENCE_FORWARD, KIND_STEP_GROUPED,
} from './assembly-constants.generated.js';
import type { ThreadTestHooks } from './pool.js';
import { GemmThreads } from './threads.js';

export { sharedMemorySupported, wasmSimdSupported } from './module.js';

/** Elements spanned by a row-major [rows, cols] matrix with row stride ld. */
const span = (rows: number, cols: number, ld: number): number => (rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0);

/** Whether a GEMM writes its whole C span without reading it (beta = 0, rows without gaps), so that a
 * staged C need not be copied in. */
const overwrites = (m: number, n: number, ldc: number, beta: number): boolean => beta === 0 && (ldc === n || m === 1);

/** The wasm kernels plus what tests and benchmarks need to look inside. */
export interface WasmKernels extends Kernels {
  readonly name: 'wasm';
  readonly heap: LinearMemory;
  readonly exports: WasmExports;
  /** Whether the memory is shared (the build that worker threads can join). */
  readonly shared: boolean;
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
}

/** op(B) packed in linear memory (assembly/gemm.ts packB). */
class WasmPacked implements PackedMatrix {
  readonly dtype = 'float32' as const;
  constructor(readonly transB: boolean, readonly k: number, readonly n: number, readonly ptr: number, readonly bytes: number) {}
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
  /** Returns `handle`'s block now, once (a second release, or the collector later, does nothing). */
  const releaseOnce = (handle: KernelBuffer | PackedMatrix | PreparedStep, ptr: number, bytes: number): void => {
    if (released.has(handle)) return;
    released.add(handle);
    collected.unregister(handle);
    heap.release(ptr, bytes);
  };
  let adaptive = true;
  // The gates scratch of lstmStep and stepPrepared (grown on demand; never handed out).
  let stepGates = { ptr: 0, bytes: 0 };
  const gatesScratch = (floats: number): number => {
    const bytes = floats * 4;
    if (bytes > stepGates.bytes) {
      if (stepGates.bytes > 0) heap.release(stepGates.ptr, stepGates.bytes);
      stepGates = { ptr: heap.alloc(bytes), bytes };
    }
    return stepGates.ptr;
  };

  return {
    name: 'wasm',
    heap,
    exports: w,
    shared: instance.shared,

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
      if (buffer instanceof WasmBuffer) releaseOnce(buffer, buffer.ptr, buffer.length * 4);
    },

    gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) {
      if (f64(c)) return jsKernels.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
      const useAB = k > 0 && alpha !== 0 && m > 0 && n > 0;
      stage.begin('gemm')
        .arg(a as Float32Array, aOffset, useAB ? (transA ? span(k, m, lda) : span(m, k, lda)) : 0, false)
        .arg(b as Float32Array, bOffset, useAB ? (transB ? span(n, k, ldb) : span(k, n, ldb)) : 0, false)
        .arg(c, cOffset, span(m, n, ldc), true, !overwrites(m, n, ldc, beta))
        .bind();
      const pa = stage.ptr(0), pb = stage.ptr(1), pc = stage.ptr(2);
      if (!pool?.gemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, gemmWork)) {
        w.gemm(+transA, +transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, gemmWork);
      }
      stage.finish();
    },

    packB(transB, k, n, b, bOffset, ldb) {
      if (f64(b)) return jsKernels.packB(transB, k, n, b, bOffset, ldb);
      // Addresses first (resident B, or B copied to scratch), then the block: growing the memory
      // for it may detach the caller's views but never moves the bytes they address.
      stage.begin('packB').arg(b, bOffset, transB ? span(n, k, ldb) : span(k, n, ldb), false).bind();
      const bytes = w.packedBBytes(k, n);
      const ptr = heap.alloc(bytes);
      if (k > 0 && n > 0) w.packB(+transB, k, n, stage.ptr(0), ldb, ptr);
      stage.finish();
      const packed = new WasmPacked(transB, k, n, ptr, bytes);
      owned(packed, ptr, bytes);
      return packed;
    },

    gemmPacked(transA, m, n, k, alpha, a, aOffset, lda, packed, beta, c, cOffset, ldc) {
      if (!(packed instanceof WasmPacked)) return jsKernels.gemmPacked(transA, m, n, k, alpha, a, aOffset, lda, packed, beta, c, cOffset, ldc);
      checkPackedShape(packed, n, k);
      if (f64(c) || f64(a)) throw new Error('gemmPacked: a float32 packed matrix takes float32 A and C');
      if (released.has(packed)) throw new Error('gemmPacked: this packed matrix was released');
      const useA = k > 0 && alpha !== 0 && m > 0 && n > 0;
      stage.begin('gemmPacked')
        .arg(a, aOffset, useA ? (transA ? span(k, m, lda) : span(m, k, lda)) : 0, false)
        .arg(c, cOffset, span(m, n, ldc), true, !overwrites(m, n, ldc, beta))
        .bind();
      const pa = stage.ptr(0), pc = stage.ptr(1);
      if (!pool?.gemmPacked(transA, m, n, k, alpha, pa, lda, packed.ptr, beta, pc, ldc, gemmWork)) {
        w.gemmPacked(+transA, m, n, k, alpha, pa, lda, packed.ptr, beta, pc, ldc, 0, n, gemmWork);
      }
      stage.finish();
    },

    releasePacked(packed) {
      if (packed instanceof WasmPacked) releaseOnce(packed, packed.ptr, packed.bytes);
    },

    addRowVector(rows, cols, x, xOffset, v, vOffset) {
      if (f64(x)) return jsKernels.addRowVector(rows, cols, x, xOffset, v, vOffset);
      stage.begin('addRowVector').arg(x, xOffset, rows * cols, true).arg(v as Float32Array, vOffset, rows > 0 ? cols : 0, false).bind();
      w.addRowVector(rows, cols, stage.ptr(0), stage.ptr(1));
      stage.finish();
    },

    sumRows(rows, cols, x, xOffset, out, outOffset, accumulate) {
      if (f64(out)) return jsKernels.sumRows(rows, cols, x, xOffset, out, outOffset, accumulate);
      stage.begin('sumRows').arg(x as Float32Array, xOffset, rows * cols, false).arg(out, outOffset, cols, true, accumulate).bind();
      w.sumRows(rows, cols, stage.ptr(0), stage.ptr(1), +accumulate);
      stage.finish();
    },

    scatterAddRows(rows, cols, ids, src, srcOffset, dst, dstOffset, dstRows) {
      if (f64(dst)) return jsKernels.scatterAddRows(rows, cols, ids, src, srcOffset, dst, dstOffset, dstRows);
      checkScatterIds(ids, rows, dstRows);
      const active = rows > 0 && cols > 0;
      stage.begin('scatterAddRows')
        .arg(ids, 0, active ? rows : 0, false)
        .arg(src as Float32Array, srcOffset, active ? rows * cols : 0, false)
        .arg(dst, dstOffset, active ? dstRows * cols : 0, true)
        .bind();
      if (active) w.scatterAddRows(rows, cols, stage.ptr(0), stage.ptr(1), stage.ptr(2));
      stage.finish();
    },

    axpy(n, alpha, x, xOffset, y, yOffset) {
      if (f64(y)) return jsKernels.axpy(n, alpha, x, xOffset, y, yOffset);
      stage.begin('axpy').arg(x as Float32Array, xOffset, n, false).arg(y, yOffset, n, true).bind();
      w.axpy(n, alpha, stage.ptr(0), stage.ptr(1));
      stage.finish();
    },

    sumSquares(n, x, xOffset) {
      if (f64(x)) return jsKernels.sumSquares(n, x, xOffset);
      stage.begin('sumSquares').arg(x, xOffset, n, false).bind();
      const s = w.sumSquares(n, stage.ptr(0));
      stage.finish();
      return s;
    },

    scale(n, alpha, x, xOffset) {
      if (f64(x)) return jsKernels.scale(n, alpha, x, xOffset);
      stage.begin('scale').arg(x, xOffset, n, true).bind();
      w.scale(n, alpha, stage.ptr(0));
      stage.finish();
    },

    rnnForward(n, activation, pre, preOffset) {
      if (f64(pre)) return jsKernels.rnnForward(n, activation, pre, preOffset);
      stage.begin('rnnForward').arg(pre, preOffset, n, true).bind();
      w.rnnForward(n, activation, stage.ptr(0));
      stage.finish();
    },

    rnnBackward(n, activation, h, hOffset, dh, dhOffset, dPre, dPreOffset) {
      if (f64(dPre)) return jsKernels.rnnBackward(n, activation, h, hOffset, dh, dhOffset, dPre, dPreOffset);
      stage.begin('rnnBackward')
        .arg(h as Float32Array, hOffset, n, false)
        .arg(dh as Float32Array, dhOffset, n, false)
        .arg(dPre, dPreOffset, n, true)
        .bind();
      w.rnnBackward(n, activation, stage.ptr(0), stage.ptr(1), stage.ptr(2));
      stage.finish();
    },

    lstmForward(batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, hRaw, hRawOffset, peep, peepOffset) {
      if (f64(gates)) {
        return jsKernels.lstmForward(batch, hidden, gates, gatesOffset, cPrev, cPrevOffset, c, cOffset, hRaw, hRawOffset, peep, peepOffset);
      }
      const state = batch * hidden;
      stage.begin('lstmForward')
        .arg(gates, gatesOffset, 4 * state, true)
        .arg(cPrev as Float32Array, cPrevOffset, state, false)
        .arg(c as Float32Array, cOffset, state, true)
        .arg(hRaw as Float32Array, hRawOffset, state, true)
        .arg(peep as Float32Array | null, peepOffset, 3 * hidden, false)
        .bind();
      const ptrs = [stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4)] as const;
      if (!pool?.steps(KIND_LSTM_FORWARD, batch, hidden, ptrs, gemmWork)) w.lstmForward(batch, hidden, ...ptrs);
      stage.finish();
    },

    lstmStep(batch, input, hidden, x, xOffset, h, hOffset, wIh, wHh, bIh, bHh, cPrev, cPrevOffset, c, cOffset, hOut, hOutOffset) {
      if (f64(c)) throw new Error('lstmStep: float32 only (callers check the dtype)');
      const state = batch * hidden, G = 4 * hidden;
      stage.begin('lstmStep')
        .arg(x as Float32Array, xOffset, batch * input, false)
        .arg(h as Float32Array, hOffset, state, false)
        .arg(wIh as Float32Array, 0, G * input, false)
        .arg(wHh as Float32Array, 0, G * hidden, false)
        .arg(bIh as Float32Array | null, 0, G, false)
        .arg(bHh as Float32Array | null, 0, G, false)
        .arg(cPrev as Float32Array, cPrevOffset, state, false)
        .arg(c, cOffset, state, true, false)
        .arg(hOut as Float32Array, hOutOffset, state, true, false)
        .bind();
      // The scratch after bind() (as packB): growing a plain memory detaches the caller's views of it,
      // which bind() has already turned into addresses.
      const gates = gatesScratch(batch * G);
      const ptrs = [
        stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4), stage.ptr(5), stage.ptr(6), stage.ptr(7), stage.ptr(8), gates,
      ] as const;
      if (!pool?.unitStep(KIND_LSTM_STEP, hidden, G * (input + hidden), [batch, input, hidden, ...ptrs], gemmWork)) {
        w.lstmStepUnits(batch, input, hidden, ...ptrs, 0, hidden, gemmWork);
      }
      stage.finish();
    },

    prepareStep(cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens) {
      const step = prepareStep(heap, stage, cell, input, hidden, wIh, wHh, bIh, bHh, peep, tokens);
      owned(step, step.ptr, step.bytes);
      return step;
    },

    stepPrepared(step, batch, x, tokens, h, cPrev, c, hOut) {
      if (!(step instanceof WasmPreparedStep)) throw new Error('stepPrepared: the step was prepared by another backend');
      if (released.has(step)) throw new Error('stepPrepared: this prepared step was released');
      const { cell, input, hidden } = step;
      if (step.tokens ? !tokens || tokens.length < batch : !x) {
        throw new Error(`stepPrepared: a step prepared ${step.tokens ? 'for tokens takes token indices' : 'for dense inputs takes x'}`);
      }
      if (tokens) {
        for (let b = 0; b < batch; b++) {
          const t = tokens[b]!;
          if (!(t >= 0 && t < input)) throw new RangeError(`stepPrepared: token ${b} must be in [0, ${input}), got ${t}`);
        }
      }
      const lstm = cell === 2;
      if (lstm !== (cPrev !== null && c !== null)) throw new Error('stepPrepared: an LSTM step takes cPrev and c, other cells neither');
      const state = batch * hidden, G = gatesOf(cell) * hidden;
      stage.begin('stepPrepared')
        .arg(step.tokens ? null : (x as Float32Array), 0, batch * input, false)
        .arg(tokens, 0, batch, false)
        .arg(h as Float32Array, 0, state, false)
        .arg(cPrev as Float32Array | null, 0, state, false)
        .arg(c as Float32Array | null, 0, state, true, false)
        .arg(hOut as Float32Array, 0, state, true, false)
        .bind();
      // Scratch (after bind(), as in lstmStep): gates, and for GRU the recurrent part beside it.
      const gates = gatesScratch(batch * G * (cell === 3 ? 2 : 1));
      const args = [
        cell, batch, input, hidden, stage.ptr(0), stage.ptr(1), stage.ptr(2), step.wIh, step.wHh, step.bIh, step.bHh, step.peep,
        stage.ptr(3), stage.ptr(4), stage.ptr(5), gates, gates + batch * G * 4,
      ] as const;
      const weights = G * ((step.tokens ? 0 : input) + hidden);
      if (!pool?.unitStep(KIND_STEP_GROUPED, hidden, weights, args, gemmWork)) w.stepGroupedUnits(...args, 0, hidden, gemmWork);
      stage.finish();
    },

    releasePrepared(step) {
      if (step instanceof WasmPreparedStep) releaseOnce(step, step.ptr, step.bytes);
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
      const state = batch * hidden;
      stage.begin('lstmBackward')
        .arg(gates, gatesOffset, 4 * state, false)
        .arg(cPrev as Float32Array, cPrevOffset, state, false)
        .arg(c as Float32Array, cOffset, state, false)
        .arg(dhRaw as Float32Array, dhRawOffset, state, false)
        .arg(dc as Float32Array, dcOffset, state, true)
        .arg(dGates as Float32Array, dGatesOffset, 4 * state, true)
        .arg(peep as Float32Array | null, peepOffset, 3 * hidden, false)
        .arg(peep ? (dPeep as Float32Array | null) : null, dPeepOffset, 3 * hidden, true)
        .bind();
      const ptrs = [stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4), stage.ptr(5)] as const;
      // Peepholes sum their gradient over the batch: that stays on one thread, in row order.
      if (peep || !pool?.steps(KIND_LSTM_BACKWARD, batch, hidden, ptrs, gemmWork)) w.lstmBackward(batch, hidden, ...ptrs, stage.ptr(6), stage.ptr(7));
      stage.finish();
    },

    gruForward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, h, hOffset) {
      if (f64(gi)) return jsKernels.gruForward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, h, hOffset);
      const state = batch * hidden;
      stage.begin('gruForward')
        .arg(gi, giOffset, 3 * state, true)
        .arg(gh as Float32Array, ghOffset, 3 * state, false)
        .arg(hPrev as Float32Array, hPrevOffset, state, false)
        .arg(h as Float32Array, hOffset, state, true)
        .bind();
      const ptrs = [stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3)] as const;
      if (!pool?.steps(KIND_GRU_FORWARD, batch, hidden, ptrs, gemmWork)) w.gruForward(batch, hidden, ...ptrs);
      stage.finish();
    },

    gruBackward(batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, dh, dhOffset, dGi, dGiOffset, dGh, dGhOffset, dhPrev, dhPrevOffset) {
      if (f64(gi)) {
        return jsKernels.gruBackward(
          batch, hidden, gi, giOffset, gh, ghOffset, hPrev, hPrevOffset, dh, dhOffset, dGi, dGiOffset, dGh, dGhOffset, dhPrev, dhPrevOffset,
        );
      }
      const state = batch * hidden;
      stage.begin('gruBackward')
        .arg(gi, giOffset, 3 * state, false)
        .arg(gh as Float32Array, ghOffset, 3 * state, false)
        .arg(hPrev as Float32Array, hPrevOffset, state, false)
        .arg(dh as Float32Array, dhOffset, state, false)
        .arg(dGi as Float32Array, dGiOffset, 3 * state, true)
        .arg(dGh as Float32Array, dGhOffset, 3 * state, true)
        .arg(dhPrev as Float32Array, dhPrevOffset, state, true)
        .bind();
      const ptrs = [stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4), stage.ptr(5), stage.ptr(6)] as const;
      if (!pool?.steps(KIND_GRU_BACKWARD, batch, hidden, ptrs, gemmWork)) w.gruBackward(batch, hidden, ...ptrs);
      stage.finish();
    },

    sequenceForward(kind, steps, batch, hidden, packed, gates, gh, states, cells, biasHh, peep) {
      if (!(packed instanceof WasmPacked) || f64(gates)) return false;
      // A step big enough to share runs whole here only if the threads can share the whole loop.
      const threaded = pool !== null && pool.sharesSteps(batch, hidden, packed.n);
      if (threaded && !pool.sharesSequence(batch)) return false;
      const G = packed.n / hidden;
      const state = batch * hidden;
      stage.begin('sequenceForward')
        .arg(gates, 0, steps * batch * G * hidden, true)
        .arg(gh as Float32Array | null, 0, steps * batch * G * hidden, true, false)
        .arg(states as Float32Array, 0, (steps + 1) * state, true)
        .arg(cells as Float32Array | null, 0, (steps + 1) * state, true)
        .arg(biasHh as Float32Array | null, 0, G * hidden, false)
        .arg(peep as Float32Array | null, 0, 3 * hidden, false)
        .bind();
      const args = [kind, steps, batch, hidden, packed.ptr, stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4), stage.ptr(5)];
      if (threaded) pool.sequence(KIND_SEQUENCE_FORWARD, batch, args, gemmWork);
      else (w.sequenceForward as (...a: number[]) => void)(...args, gemmWork);
      stage.finish();
      return true;
    },

    sequenceBackward(kind, steps, batch, hidden, packed, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep) {
      if (!(packed instanceof WasmPacked) || f64(gates)) return false;
      // The peephole gradient sums over batch rows: shared by rows, it would sum in another order.
      const threaded = pool !== null && pool.sharesSteps(batch, hidden, packed.k);
      if (threaded && (peep || !pool.sharesSequence(batch))) return false;
      const G = packed.k / hidden;
      const state = batch * hidden, all = steps * batch * G * hidden;
      stage.begin('sequenceBackward')
        .arg(gates, 0, all, false)
        .arg(gh as Float32Array | null, 0, all, false)
        .arg(states as Float32Array, 0, (steps + 1) * state, false)
        .arg(cells as Float32Array | null, 0, (steps + 1) * state, false)
        .arg(dOut as Float32Array, 0, steps * state, false)
        .arg(dh as Float32Array, 0, state, true)
        .arg(dc as Float32Array | null, 0, state, true)
        .arg(dGates as Float32Array, 0, all, true, false)
        .arg(dGh as Float32Array | null, 0, all, true, false)
        .arg(dhPrev as Float32Array | null, 0, state, true, false)
        .arg(peep as Float32Array | null, 0, 3 * hidden, false)
        .arg(peep ? (dPeep as Float32Array | null) : null, 0, 3 * hidden, true)
        .bind();
      const args = [
        kind, steps, batch, hidden, packed.ptr, stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), stage.ptr(4),
        stage.ptr(5), stage.ptr(6), stage.ptr(7), stage.ptr(8), stage.ptr(9), stage.ptr(10), stage.ptr(11),
      ];
      if (threaded) pool.sequence(KIND_SEQUENCE_BACKWARD, batch, args, gemmWork);
      else (w.sequenceBackward as (...a: number[]) => void)(...args, gemmWork);
      stage.finish();
      return true;
    },

    softmaxCrossEntropy(rows, classes, logits, logitsOffset, targets, ignoreIndex, loss, lossOffset, dLogits, dLogitsOffset) {
      if (f64(logits)) {
        return jsKernels.softmaxCrossEntropy(rows, classes, logits, logitsOffset, targets, ignoreIndex, loss, lossOffset, dLogits, dLogitsOffset);
      }
      stage.begin('softmaxCrossEntropy')
        .arg(logits, logitsOffset, rows * classes, false)
        .arg(targets, 0, rows, false)
        .arg(loss as Float32Array, lossOffset, rows, true, false)
        .arg(dLogits as Float32Array | null, dLogitsOffset, rows * classes, true, false)
        .bind();
      w.softmaxCrossEntropy(rows, classes, stage.ptr(0), stage.ptr(1), ignoreIndex, stage.ptr(2), stage.ptr(3));
      stage.finish();
    },

    adamUpdate(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step) {
      if (f64(param)) return jsKernels.adamUpdate(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
      // Bias corrections in f64, once per call, exactly as the reference computes them.
      const stepSize = lr / (1 - beta1 ** step);
      const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
      const decay = decoupled ? 1 - lr * weightDecay : 1;
      stage.begin('adamUpdate')
        .arg(param, 0, n, true)
        .arg(grad as Float32Array, 0, n, false)
        .arg(m as Float32Array, 0, n, true)
        .arg(v as Float32Array, 0, n, true)
        .bind();
      w.adamUpdate(
        n, stage.ptr(0), stage.ptr(1), stage.ptr(2), stage.ptr(3), beta1, beta2, eps, weightDecay, +decoupled, decay,
        stepSize, bias2Sqrt,
      );
      stage.finish();
    },
  };
}

/** Compiles synchronously (Node, workers); check wasmSimdSupported() first. `shared` picks the
 * memory kind (default: shared where the context allows it). */
export function loadWasmKernelsSync(shared?: boolean): WasmKernels {
  return createWasmKernels(instantiateWasmSync(shared));
}

export async function loadWasmKernels(shared?: boolean): Promise<WasmKernels> {
  return createWasmKernels(await instantiateWasmAsync(shared));
}

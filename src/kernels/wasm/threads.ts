/**
 * Helper threads for large GEMMs and the recurrent step kernels. Each worker instantiates the same
 * module over the same shared memory and sleeps on a small control block. A job is cut into chunks
 * (GEMMs: whole output tiles, rows of C in multiples of MR or columns in multiples of NR; steps:
 * whole batch rows) and every thread, the calling one included, claims chunks until none are left:
 * a helper that the operating system has not scheduled (a busy machine) costs only its share of the
 * speed-up, because the caller takes its chunks. Every element is computed by the same instruction
 * sequence whatever chunk it falls in (a chunk never takes a product below gemm's small-m threshold,
 * where another kernel would run), so results are bit for bit the same for any number of threads.
 *
 * This module cuts work into jobs; pool.ts runs them on the helpers (worker.ts), through the slots
 * of control-block.ts. Nothing here is needed for one thread.
 */
import {
  KIND_GEMM, KIND_GEMM_PACKED, KIND_GRU_FORWARD, KIND_LSTM_BACKWARD, KIND_LSTM_FORWARD, KIND_SEQUENCE_FORWARD, KIND_STEP_QUANTIZED,
  MC, MR, NR,
} from './assembly-constants.generated.js';
import { Chooser } from './chooser.js';
import type { LinearMemory } from './memory.js';
import type { WasmInstance } from './module.js';
import { HelperPool, type ThreadTestHooks } from './pool.js';

/** Fewest weights (gate rows x (input + hidden)) of a step cut by hidden units that is shared by
 * threads: a smaller step is over before waking a helper could pay. */
const MIN_SPLIT_STEP_WEIGHTS = 1 << 17;
/** Hidden units per chunk of a step cut by units: a multiple of 8 (gemm-small's column groups, the
 * prepared layout's row groups). */
const STEP_UNIT_MULTIPLE = 8;
/** Fewest units (batch x hidden) of a recurrent step shared by threads: fewer are over before
 * waking a helper could pay. */
const MIN_SPLIT_UNITS = 4096;

/** Rows of C from which a product over a packed B is cut by rows rather than columns: two chunks
 * of PACKED_MIN_CHUNK_ROWS at least. */
const PACKED_ROW_SPLIT_M = 16;
/** Fewest rows in a chunk of a product over a packed B (each chunk streams all of B). */
const PACKED_MIN_CHUNK_ROWS = 8;
/** Fewest batch rows per thread for a time loop shared by rows: each thread's per-step products
 * stream all of W_hh, as the per-step path's row chunks do from this size on. */
const MIN_SEQUENCE_ROWS = PACKED_MIN_CHUNK_ROWS;
/** Below this many multiply-adds a GEMM stays on one thread: waking a worker costs microseconds. */
const MIN_SPLIT_WORK = 1 << 21;
/** Products of at most gemm's small-m rows (assembly/gemm-small.ts) stream B from memory, and two
 * cores may stream faster than one: they are shared from this many elements of B on. */
const MIN_SPLIT_STREAM = 1 << 16;
/** Chunks per thread: more than one, so a late thread leaves its share to the others; few, because
 * each chunk of a product over a packed B packs its own copy of A. */
const CHUNKS_PER_THREAD = 2;
/** ...except where smaller chunks cost nothing (row chunks of whole MC blocks; a time loop's rows,
 * whose products run as fast per row at 4 rows as at 64): a thread that falls behind leaves less. */
const FINE_CHUNKS_PER_THREAD = 4;
/** Narrowest column chunk: each chunk packs its own copy of A, which must stay cheap beside it. */
const MIN_CHUNK_COLUMNS = 64;
/** Fewest rows in a chunk (above gemm's small-m threshold, so every chunk takes the packed path). */
const MIN_CHUNK_ROWS = 64;
/** Largest B (bytes packed) that a gemm cut by rows packs once for all threads: the copy stays
 * allocated for the next product. */
const MAX_SHARED_PACK = 64 << 20;

const ceilTo = (x: number, step: number): number => Math.ceil(x / step) * step;

export class GemmThreads {
  private readonly pool: HelperPool;
  private readonly chooser = new Chooser();
  /** gemm's small-m threshold: row chunks (of MIN_CHUNK_ROWS or more) never fall to it. */
  private readonly smallRows: number;
  private shared = { ptr: 0, bytes: 0 };

  constructor(
    private readonly heap: LinearMemory,
    private readonly instance: WasmInstance,
    workBytes: number,
  ) {
    this.pool = new HelperPool(heap, instance, workBytes);
    this.smallRows = instance.exports.gemmSmallRows();
    if (this.smallRows >= MIN_CHUNK_ROWS) throw new Error('GemmThreads: row chunks must stay above gemm\'s small-m threshold');
  }

  /** Threads that share work now: this one plus the helpers that are ready. */
  get count(): number {
    return this.pool.threads;
  }

  /** Whether each shape is shared only where measured faster (the default; see Chooser). */
  set adaptive(on: boolean) {
    this.chooser.enabled = on;
  }

  /** Chunks the helpers computed so far (diagnostics, tests). */
  get helperChunks(): number {
    return this.pool.helperChunks;
  }

  /** What tests use to make a helper fail (pool.ts). */
  get testHooks(): ThreadTestHooks {
    return this.pool;
  }

  /** See HelperPool.resize: `threads` threads share the work, starting at once where it can. */
  resize(threads: number): Promise<void> {
    return this.pool.resize(threads);
  }

  /** Helpers in the pool (ready or starting): work is cut for them and this thread. */
  private get helpers(): number {
    return this.pool.helperCount;
  }

  /**
   * C = alpha op(A) op(B) + beta C (addresses in bytes), on all threads or on this one, whichever
   * this shape has been faster with. Returns false, having done nothing, when the GEMM is too small
   * to share or there are no helpers: the caller then runs it.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, mainWork: number,
  ): boolean {
    if (this.helpers === 0 || k <= 0 || alpha === 0) return false;
    const streams = m <= this.smallRows && !transA;
    if (streams ? n * k < MIN_SPLIT_STREAM : m * n * k < MIN_SPLIT_WORK) return false;
    const byColumns = n >= m;
    const size = byColumns ? this.columnChunk(n) : this.rowChunk(m);
    if (size >= (byColumns ? n : m)) return false;
    const bytes = byColumns ? 0 : this.instance.exports.packedBBytes(k, n);
    if (bytes > MAX_SHARED_PACK) return false;
    const e = this.instance.exports;
    const key = `g${+transA}${+transB}:${m}:${n}:${k}`;
    const start = performance.now();
    const shared = this.chooser.share();
    if (!shared) {
      e.gemm(+transA, +transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, mainWork);
    } else if (byColumns) {
      this.gemmArgs(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      this.pool.run(KIND_GEMM, 1, size, Math.ceil(n / size), mainWork);
    } else {
      // Cut by rows: op(B) is packed once, here, for all threads (each would otherwise pack all of it).
      const packed = this.sharedPack(bytes);
      e.packB(+transB, k, n, b, ldb, packed);
      this.gemmArgs(transA, transB, m, n, k, alpha, a, lda, packed, 0, beta, c, ldc);
      this.pool.run(KIND_GEMM_PACKED, 0, size, Math.ceil(m / size), mainWork);
    }
    this.chooser.record(key, shared, performance.now() - start);
    return true;
  }

  /**
   * Whether a recurrent time step of this size (its GEMM of batch x gateWidth x hidden, its step kernel
   * over batch x hidden units) could be shared: when not, a whole time loop runs in one call on this
   * thread; when so, on all threads if sharesSequence accepts the batch, else step by step.
   */
  sharesSteps(batch: number, hidden: number, gateWidth: number): boolean {
    return this.helpers > 0 && (batch * gateWidth * hidden >= MIN_SPLIT_WORK || (batch >= 2 && batch * hidden >= MIN_SPLIT_UNITS));
  }

  /** Whether a whole time loop of this batch can be shared by rows (sequence below). */
  sharesSequence(batch: number): boolean {
    return this.helpers > 0 && Math.ceil(batch / (this.helpers + 1)) >= MIN_SEQUENCE_ROWS;
  }

  /**
   * A whole recurrent time loop (assembly/sequence.ts: KIND_SEQUENCE_FORWARD or _BACKWARD, `args` in
   * the order of sequenceForward's or sequenceBackward's arguments up to the workspace), on all
   * threads or whole on this one, whichever this shape has been faster with. Shared, the chunks are
   * ranges of batch rows, each for the whole sequence: rows never meet in the recurrence, so no
   * thread waits for another until the end, where a step-by-step loop hands out two jobs a step.
   * Only for batches that sharesSequence accepts and, backwards, for cells without peepholes.
   */
  sequence(kind: number, batch: number, args: readonly number[], mainWork: number): void {
    // Fine chunks: a loop's products run as fast per row at 4 rows as at 16, and a late helper
    // leaves less to wait for.
    const size = ceilTo(batch / ((this.helpers + 1) * FINE_CHUNKS_PER_THREAD), MR);
    const key = `q${kind}:${args.slice(0, 4).join(':')}`; // cell, steps, batch, hidden
    const start = performance.now();
    const shared = size < batch && this.chooser.share();
    if (!shared) {
      const e = this.instance.exports;
      const whole = kind === KIND_SEQUENCE_FORWARD ? e.sequenceForward : e.sequenceBackward;
      (whole as (...a: number[]) => void)(...args, mainWork);
    } else {
      const { i32, at } = this.pool.jobArgs;
      for (let i = 0; i < args.length; i++) i32[at + i] = args[i]!;
      this.pool.run(kind, 0, size, Math.ceil(batch / size), mainWork);
    }
    this.chooser.record(key, shared, performance.now() - start);
  }

  /** gemmPacked, as gemm above; false when too small to share. */
  gemmPacked(
    transA: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, packed: number, beta: number, c: number, ldc: number, mainWork: number,
  ): boolean {
    if (this.helpers === 0 || m * n * k < MIN_SPLIT_WORK || k <= 0 || alpha === 0) return false;
    // B is packed already: cutting rows duplicates no packing (each chunk packs its own rows of A)
    // and each chunk streams all of B, which at 8 rows or more per chunk is cheap beside the
    // arithmetic. Cutting columns would pack all of A again for every chunk.
    const byRows = m >= PACKED_ROW_SPLIT_M;
    const size = byRows ? this.rowChunk(m, PACKED_MIN_CHUNK_ROWS) : this.columnChunk(n);
    if (size >= (byRows ? m : n)) return false;
    const key = `p${+transA}:${m}:${n}:${k}`;
    const start = performance.now();
    const shared = this.chooser.share();
    if (!shared) {
      this.instance.exports.gemmPacked(+transA, m, n, k, alpha, a, lda, packed, beta, c, ldc, 0, n, mainWork);
    } else {
      this.gemmArgs(transA, false, m, n, k, alpha, a, lda, packed, 0, beta, c, ldc);
      this.pool.run(KIND_GEMM_PACKED, byRows ? 0 : 1, size, Math.ceil((byRows ? m : n) / size), mainWork);
    }
    this.chooser.record(key, shared, performance.now() - start);
    return true;
  }

  /**
   * One recurrent step kernel (KIND_LSTM_FORWARD...), in chunks of batch rows on all threads or
   * whole on this one; `args` are the kernel's pointer arguments after batch and hidden (for the LSTM
   * backward, without peepholes). False when too small to share.
   */
  steps(kind: number, batch: number, hidden: number, args: readonly number[], mainWork: number): boolean {
    if (this.helpers === 0 || batch < 2 || batch * hidden < MIN_SPLIT_UNITS) return false;
    const key = `s${kind}:${batch}:${hidden}`;
    const start = performance.now();
    const shared = this.chooser.share();
    if (!shared) {
      const e = this.instance.exports;
      const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0] = args;
      if (kind === KIND_LSTM_FORWARD) e.lstmForward(batch, hidden, p0, p1, p2, p3, p4);
      else if (kind === KIND_LSTM_BACKWARD) e.lstmBackward(batch, hidden, p0, p1, p2, p3, p4, p5, 0, 0);
      else if (kind === KIND_GRU_FORWARD) e.gruForward(batch, hidden, p0, p1, p2, p3);
      else e.gruBackward(batch, hidden, p0, p1, p2, p3, p4, p5, p6);
    } else {
      const size = Math.ceil(batch / ((this.helpers + 1) * 2));
      const { i32, at } = this.pool.jobArgs;
      i32[at] = batch;
      i32[at + 1] = hidden;
      for (let i = 0; i < args.length; i++) i32[at + 2 + i] = args[i]!;
      this.pool.run(kind, 0, size, Math.ceil(batch / size), mainWork);
    }
    this.chooser.record(key, shared, performance.now() - start);
    return true;
  }

  /**
   * A recurrent step cut into chunks of hidden units (assembly/prepared-step.ts, KIND_STEP_GROUPED, or
   * assembly/quantized-step.ts, KIND_STEP_QUANTIZED) on all threads; `args` are the kernel's arguments
   * up to the unit range, which comes last. `weights` (gate rows x (input + hidden) read per batch
   * row) decides whether sharing can pay. False when too small to share: the caller runs it whole.
   */
  unitStep(kind: number, hidden: number, weights: number, args: readonly number[], mainWork: number): boolean {
    if (this.helpers === 0 || weights < MIN_SPLIT_STEP_WEIGHTS) return false;
    const size = Math.max(STEP_UNIT_MULTIPLE, ceilTo(hidden / ((this.helpers + 1) * CHUNKS_PER_THREAD), STEP_UNIT_MULTIPLE));
    if (size >= hidden) return false;
    const key = `u${kind}:${args[0]}:${args[1]}:${weights}`;
    const start = performance.now();
    const shared = this.chooser.share();
    if (!shared) {
      const e = this.instance.exports;
      ((kind === KIND_STEP_QUANTIZED ? e.stepQuantizedUnits : e.stepGroupedUnits) as (...a: number[]) => void)(...args, 0, hidden, mainWork);
    } else {
      const { i32, at } = this.pool.jobArgs;
      for (let i = 0; i < args.length; i++) i32[at + i] = args[i]!;
      this.pool.run(kind, 0, size, Math.ceil(hidden / size), mainWork);
    }
    this.chooser.record(key, shared, performance.now() - start);
    return true;
  }

  private gemmArgs(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void {
    const { i32, f32, at } = this.pool.jobArgs;
    i32[at + 0] = +transA;
    i32[at + 1] = +transB;
    i32[at + 2] = m;
    i32[at + 3] = n;
    i32[at + 4] = k;
    f32[at + 5] = alpha;
    i32[at + 6] = a;
    i32[at + 7] = lda;
    i32[at + 8] = b;
    i32[at + 9] = ldb;
    f32[at + 10] = beta;
    i32[at + 11] = c;
    i32[at + 12] = ldc;
  }

  private columnChunk(n: number): number {
    return Math.max(MIN_CHUNK_COLUMNS, ceilTo(n / ((this.helpers + 1) * CHUNKS_PER_THREAD), NR));
  }

  private rowChunk(m: number, least = MIN_CHUNK_ROWS): number {
    const fine = m / ((this.helpers + 1) * FINE_CHUNKS_PER_THREAD);
    if (fine >= MC) return ceilTo(fine, MC);
    return Math.max(least, ceilTo(m / ((this.helpers + 1) * CHUNKS_PER_THREAD), MR));
  }

  private sharedPack(bytes: number): number {
    if (bytes > this.shared.bytes) {
      if (this.shared.bytes > 0) this.heap.release(this.shared.ptr, this.shared.bytes);
      this.shared = { ptr: this.heap.alloc(bytes), bytes };
    }
    return this.shared.ptr;
  }
}

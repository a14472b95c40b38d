/**
 * Helper threads for large GEMMs. Each worker instantiates the same module over the same shared
 * memory and sleeps on a small control block; a GEMM is cut into blocks of whole output tiles (rows
 * of C in multiples of MR, or columns in multiples of NR), the main thread computes the first block
 * and each ready worker one more. Every element of C is computed by the same instruction sequence
 * whatever block it falls in, so results are bit for bit the same for any number of threads.
 *
 * Workers come from `node:worker_threads` in Node and from Web Workers (a blob URL) in browsers; both
 * need the shared-memory build (module.ts). Nothing here is needed for one thread.
 */
import type { LinearMemory } from './memory.js';
import type { WasmInstance } from './module.js';

// Control block: one per worker, Int32 slots (floats share the slot through a Float32Array view).
const SEQ = 0; //    job number, bumped by the main thread to start a job
const DONE = 1; //   last job finished, written by the worker
const READY = 2; //  1 once the worker has instantiated the module
const FAILED = 3; // 1 if a job threw
const ARGS = 4; //   gemm's 14 arguments, in order (alpha and beta as f32)
const CONTROL_BYTES = 128;

/** Register-tile sizes of assembly/gemm.ts: blocks are cut on these multiples. */
const MR = 4;
const NR = 8;
/** Below this many multiply-adds a GEMM stays on one thread: waking a worker costs microseconds. */
const MIN_SPLIT_WORK = 1 << 21;

// The worker's whole program. It spins briefly before sleeping, because a recurrent layer issues
// GEMMs back to back, one per time step.
const WORKER_SOURCE = `
const start = ({ module, memory, control }) => {
  const { gemm } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const i32 = new Int32Array(memory.buffer, control, ${CONTROL_BYTES / 4});
  const f32 = new Float32Array(memory.buffer, control, ${CONTROL_BYTES / 4});
  Atomics.store(i32, ${READY}, 1);
  Atomics.notify(i32, ${READY});
  let seen = 0;
  for (;;) {
    const spinUntil = performance.now() + 0.2;
    while (Atomics.load(i32, ${SEQ}) === seen && performance.now() < spinUntil);
    Atomics.wait(i32, ${SEQ}, seen);
    seen = Atomics.load(i32, ${SEQ});
    const a = ${ARGS};
    try {
      gemm(i32[a], i32[a + 1], i32[a + 2], i32[a + 3], i32[a + 4], f32[a + 5], i32[a + 6], i32[a + 7],
        i32[a + 8], i32[a + 9], f32[a + 10], i32[a + 11], i32[a + 12], i32[a + 13]);
    } catch {
      Atomics.store(i32, ${FAILED}, 1);
    }
    Atomics.store(i32, ${DONE}, seen);
    Atomics.notify(i32, ${DONE});
  }
};
if (typeof self === 'undefined') require('node:worker_threads').parentPort.once('message', start);
else self.onmessage = (event) => start(event.data);
`;

interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

interface Helper {
  readonly worker: WorkerHandle;
  readonly control: number;
  readonly work: number;
  seq: number;
}

async function spawnWorker(): Promise<WorkerHandle> {
  if (typeof process === 'object' && process.versions?.node !== undefined) {
    // A variable specifier keeps browser bundlers from trying to resolve the Node module.
    const specifier = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref(); // an idle helper must not keep the process alive
    return worker;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return new Worker(url);
}

/** Atomics.wait is refused on browsers' main threads, which then spin instead. */
function mainThreadMayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

export type GemmArgs = [
  transA: number, transB: number, m: number, n: number, k: number, alpha: number,
  a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
];

export class GemmThreads {
  private readonly helpers: Helper[] = [];
  private readonly mayBlock = mainThreadMayBlock();

  constructor(
    private readonly heap: LinearMemory,
    private readonly instance: WasmInstance,
    private readonly workBytes: number,
  ) {}

  /** Threads a GEMM may use now: this one plus the helpers that are ready. */
  get count(): number {
    let ready = 1;
    for (const h of this.helpers) if (Atomics.load(this.controlI32(h), READY) === 1) ready++;
    return ready;
  }

  /** Starts or stops helpers so that `threads` threads compute large GEMMs; resolves once the new
   * helpers are ready. */
  async resize(threads: number): Promise<void> {
    const want = Math.max(0, Math.floor(threads) - 1);
    while (this.helpers.length > want) {
      const h = this.helpers.pop()!;
      await h.worker.terminate();
      this.heap.release(h.control, CONTROL_BYTES);
      this.heap.release(h.work, this.workBytes);
    }
    const started: Helper[] = [];
    while (this.helpers.length < want) {
      const control = this.heap.alloc(CONTROL_BYTES);
      new Int32Array(this.heap.memory.buffer, control, CONTROL_BYTES / 4).fill(0);
      const h: Helper = { worker: await spawnWorker(), control, work: this.heap.alloc(this.workBytes), seq: 0 };
      h.worker.postMessage({ module: this.instance.module, memory: this.instance.memory, control });
      this.helpers.push(h);
      started.push(h);
    }
    for (const h of started) await this.whenReady(h);
  }

  /**
   * C = alpha op(A) op(B) + beta C over all ready threads (addresses in bytes). Returns false, having
   * done nothing, when the GEMM is too small to share or no helper is ready.
   */
  run(args: GemmArgs, mainWork: number): boolean {
    const [transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc] = args;
    if (m * n * k < MIN_SPLIT_WORK) return false;
    const ready = this.helpers.filter((h) => Atomics.load(this.controlI32(h), READY) === 1);
    // Cut the longer side of C into one block of whole tiles per thread.
    const byRows = m >= n;
    const tile = byRows ? MR : NR;
    const size = byRows ? m : n;
    const threads = Math.min(ready.length + 1, Math.floor(size / tile));
    if (threads < 2) return false;
    const block = Math.ceil(size / threads / tile) * tile;
    const part = (t: number): GemmArgs | null => {
      const start = t * block;
      const len = Math.min(size, start + block) - start;
      if (len <= 0) return null;
      if (byRows) {
        const aAt = a + (transA ? start * 4 : start * lda * 4);
        return [transA, transB, len, n, k, alpha, aAt, lda, b, ldb, beta, c + start * ldc * 4, ldc];
      }
      const bAt = b + (transB ? start * ldb * 4 : start * 4);
      return [transA, transB, m, len, k, alpha, a, lda, bAt, ldb, beta, c + start * 4, ldc];
    };
    const busy: Helper[] = [];
    for (let t = 1; t < threads; t++) {
      const job = part(t);
      const h = ready[t - 1]!;
      if (!job) break;
      const i32 = this.controlI32(h);
      const f32 = new Float32Array(i32.buffer, i32.byteOffset, i32.length);
      job.forEach((v, i) => {
        if (i === 5 || i === 10) f32[ARGS + i] = v;
        else i32[ARGS + i] = v;
      });
      i32[ARGS + 13] = h.work;
      h.seq++;
      Atomics.store(i32, SEQ, h.seq);
      Atomics.notify(i32, SEQ);
      busy.push(h);
    }
    this.instance.exports.gemm(...part(0)!, mainWork);
    let failed = false;
    for (const h of busy) {
      const i32 = this.controlI32(h);
      this.waitFor(i32, h.seq);
      if (Atomics.exchange(i32, FAILED, 0) !== 0) failed = true;
    }
    if (failed) throw new Error('gemm: a helper thread failed (a bad address or size reached the kernel)');
    return true;
  }

  private controlI32(h: Helper): Int32Array {
    // The control block sits below any later growth, so a view over the current buffer always covers it.
    return new Int32Array(this.heap.memory.buffer, h.control, CONTROL_BYTES / 4);
  }

  private waitFor(i32: Int32Array, seq: number): void {
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(i32, DONE);
      if (done === seq) return;
      if (this.mayBlock && spins > 1000) Atomics.wait(i32, DONE, done, 1);
    }
  }

  private async whenReady(h: Helper): Promise<void> {
    const deadline = performance.now() + 30_000;
    while (Atomics.load(this.controlI32(h), READY) !== 1) {
      if (performance.now() > deadline) throw new Error('GemmThreads: a worker did not start within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

/**
 * The program of a helper thread. A helper instantiates the kernels module over the shared memory,
 * then claims chunks of each job that the calling thread opens (pool.ts) until none are left, and
 * waits for the next one.
 *
 * Workers run these functions from their source text (helperSource), not as imports, so each must
 * be self-contained: it may use its parameters and the globals of a worker, nothing from this module
 * or any other. And it must not bind a function to a name in its body (`const f = () => ...`, an
 * inner `function f`): compilers that keep function names (esbuild's keepNames, which tsx uses)
 * wrap those in a helper defined at the top of the module, which the worker does not have. Functions
 * passed directly as arguments or assigned to properties are left alone. Nor may it use what a
 * bundler lowers to helpers for older targets (async functions, object spread).
 */
import type { ControlLayout } from './control-block.js';

/** What a helper is given to start: structured-cloned to it (workerData in Node, a message in browsers). */
export interface HelperStart {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  readonly control: number;
  /** Byte address of this helper's own slots. */
  readonly slots: number;
  /** Byte address of this helper's GEMM workspace. */
  readonly work: number;
  readonly layout: ControlLayout;
  /** How long an idle helper spins for the next job before sleeping (ms). */
  readonly spinMs: number;
}

interface HelperExports {
  runChunk(job: number, index: number, work: number): void;
}

/**
 * The helper's whole life: claim chunks of each new job until none are left, then wait for the next;
 * return once retired (the protocol is described in control-block.ts).
 */
export function runHelper(start: HelperStart): void {
  const { layout: at, spinMs } = start;
  const exports = new WebAssembly.Instance(start.module, { env: { memory: start.memory } }).exports as unknown as HelperExports;
  const control = new Int32Array(start.memory.buffer, start.control, at.controlInts);
  const mine = new Int32Array(start.memory.buffer, start.slots, at.helperInts);
  const job = start.control + 4 * at.job;
  const bits = at.indexBits;
  const mask = (1 << bits) - 1;
  Atomics.store(mine, at.holding, -1);
  Atomics.store(mine, at.ready, 1);
  let seen = Atomics.load(control, at.claim) >>> bits;
  for (;;) {
    let word = Atomics.load(control, at.claim);
    const spinUntil = performance.now() + spinMs;
    while (word >>> bits === seen) {
      if (Atomics.load(mine, at.state) === at.retired) return;
      if (performance.now() > spinUntil) Atomics.wait(control, at.claim, word);
      word = Atomics.load(control, at.claim);
    }
    seen = word >>> bits;
    if (Atomics.compareExchange(mine, at.state, at.idle, at.claiming) !== at.idle) return;
    for (;;) {
      word = Atomics.load(control, at.claim);
      const index = word & mask;
      if (word >>> bits !== seen || index >= Atomics.load(control, at.count)) break;
      if (Atomics.compareExchange(control, at.claim, word, word + 1) !== word) continue;
      Atomics.store(mine, at.holding, index);
      // The test hook of control-block.ts: exit holding the chunk.
      if (Atomics.load(control, at.abandon) !== 0 && Atomics.compareExchange(control, at.abandon, 1, 0) === 1) return;
      try {
        exports.runChunk(job, index, start.work);
      } catch {
        Atomics.store(control, at.failed, seen);
      }
      Atomics.store(mine, at.holding, -1);
      for (;;) {
        const done = Atomics.load(control, at.done);
        if (done >>> bits !== seen) break; // the caller gave up on this job
        if (Atomics.compareExchange(control, at.done, done, done + 1) !== done) continue;
        if ((done & mask) + 1 === Atomics.load(control, at.count)) Atomics.notify(control, at.done);
        break;
      }
    }
    if (Atomics.compareExchange(mine, at.state, at.claiming, at.idle) !== at.claiming) return;
  }
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?(id: string): unknown;
}

/** Finds the start data (workerData in Node, the first message in browsers) and hands it to `run`. */
export function helperEntry(run: (start: HelperStart) => void): void {
  const nodeProcess = (globalThis as { process?: NodeProcess }).process;
  if (nodeProcess?.versions?.node === undefined) {
    const scope = globalThis as unknown as { onmessage: (event: MessageEvent<HelperStart>) => void; close(): void };
    scope.onmessage = (event) => {
      run(event.data);
      scope.close();
    };
    return;
  }
  const threads = nodeProcess.getBuiltinModule?.('node:worker_threads') as { workerData: HelperStart } | undefined;
  if (threads) {
    run(threads.workerData);
    return;
  }
  // Node before getBuiltinModule: import(), not require, which a worker of an ES module program may
  // lack; a variable specifier keeps browser bundlers from resolving it in the main bundle.
  const specifier = 'node:worker_threads';
  import(/* @vite-ignore */ specifier).then((loaded: { workerData: HelperStart }) => run(loaded.workerData));
}

/** The text a helper worker runs. */
export function helperSource(): string {
  return `(${helperEntry.toString()})(${runHelper.toString()});\n`;
}

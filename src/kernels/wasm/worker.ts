/**
 * The program of a helper thread. A helper instantiates the kernels module over the shared memory,
 * then claims chunks of each job that the calling thread opens (threads.ts) until none are left,
 * and waits for the next one.
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
  /** Byte address of this helper's GEMM workspace. */
  readonly work: number;
  readonly layout: ControlLayout;
  /** How long an idle helper spins for the next job before sleeping (ms). */
  readonly spinMs: number;
}

interface HelperExports {
  runChunk(job: number, index: number, work: number): void;
}

/** The helper's whole life: claim chunks of each new job until none are left, then wait. */
export function runHelper(start: HelperStart): void {
  const { layout: slot, spinMs } = start;
  const exports = new WebAssembly.Instance(start.module, { env: { memory: start.memory } }).exports as unknown as HelperExports;
  const control = new Int32Array(start.memory.buffer, start.control, slot.ints);
  const job = start.control + 4 * slot.job;
  const mask = (1 << slot.indexBits) - 1;
  Atomics.add(control, slot.ready, 1);
  Atomics.notify(control, slot.ready);
  let seen = Atomics.load(control, slot.claim) >>> slot.indexBits;
  for (;;) {
    let word = Atomics.load(control, slot.claim);
    const spinUntil = performance.now() + spinMs;
    while (word >>> slot.indexBits === seen) {
      if (performance.now() > spinUntil) Atomics.wait(control, slot.claim, word);
      word = Atomics.load(control, slot.claim);
    }
    seen = word >>> slot.indexBits;
    for (;;) {
      word = Atomics.load(control, slot.claim);
      const index = word & mask;
      if (word >>> slot.indexBits !== seen || index >= Atomics.load(control, slot.count)) break;
      if (Atomics.compareExchange(control, slot.claim, word, word + 1) !== word) continue;
      try {
        exports.runChunk(job, index, start.work);
      } catch {
        Atomics.store(control, slot.failed, 1);
      }
      if (Atomics.add(control, slot.done, 1) + 1 === Atomics.load(control, slot.count)) Atomics.notify(control, slot.done);
    }
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
    (globalThis as unknown as { onmessage: (event: MessageEvent<HelperStart>) => void }).onmessage = (event) => run(event.data);
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

// Which storage streams W4's quantized weights fastest: the loops of loops.ts on 1 or 2 threads (a
// worker over shared memory takes half the rows), each kind several times in turn, since the host is
// shared. Prints µs per token (the GEMV alone) and GB/s of weights.
//
//   node bench/quantized-gemv/run.mjs [threads=2] [rounds=2]
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const NAMES = ['float32 (the float stepper\'s loop)', 'int8 values as int16, dot', 'int8, extend + dot', 'int8, mask + dot', 'int8, shift + dot', 'int8, row pairs 256 a + b (the quantized stepper\'s loop)'];
const BYTES = [4, 2, 1, 1, 1, 1];
// W4's weights (w4TokenCost in bench/workloads.mjs) rounded to whole groups: 6,208 rows of 512.
const ROWS = 6208, K = 512, REPS = 300, X = 1024, OUT = 4096, W = 1 << 20;

/** Weights and x as a model holds them. Never-written wasm memory reads as the kernel's one zero page,
 * which stays in L1: timed on it, every loop looked compute-bound and storage size seemed not to
 * matter. Small floats (their bytes read as integers of every size) and no subnormals. */
function fillWeights(memory) {
  const f32 = new Float32Array(memory.buffer);
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  for (let i = X >> 2; i < (X >> 2) + K; i++) f32[i] = next();
  for (let i = W >> 2; i < (W >> 2) + ROWS * K; i++) f32[i] = next();
}

if (isMainThread) {
  const threads = Number(process.argv[2] ?? 2), rounds = Number(process.argv[3] ?? 2);
  let binary;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const { error, stderr } = await asc.main([
    'bench/quantized-gemv/loops.ts', '--baseDir', `${here}../..`, '--outFile', 'loops.wasm', '-O3', '--runtime', 'stub', '--noAssert',
    '--enable', 'simd', '--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', '2000',
  ], { writeFile: (name, contents) => { if (name.endsWith('.wasm')) binary = contents; } });
  if (error) throw new Error(stderr.toString());
  const memory = new WebAssembly.Memory({ initial: 1000, maximum: 2000, shared: true });
  const module = await WebAssembly.compile(binary);
  const sync = new Int32Array(new SharedArrayBuffer(16)); // [generation, kind, done, ready]
  for (let t = 1; t < threads; t++) new Worker(new URL(import.meta.url), { workerData: { module, memory, sync, t, threads } }).unref();
  const { exports } = await WebAssembly.instantiate(module, { env: { memory, abort() {} } });
  const rows = ROWS / threads;
  while (Atomics.load(sync, 3) < threads - 1) await new Promise((resolve) => setTimeout(resolve, 10));
  fillWeights(memory);
  exports.run(0, rows, K, X, W, OUT, 10); // this thread's code tiered up too
  for (let round = 0; round < rounds; round++) {
    for (const kind of [0, 1, 2, 3, 4, 5]) {
      Atomics.store(sync, 1, kind);
      Atomics.store(sync, 2, 0);
      Atomics.add(sync, 0, 1);
      Atomics.notify(sync, 0);
      const t0 = performance.now();
      exports.run(kind, rows, K, X, W, OUT, REPS);
      while (Atomics.load(sync, 2) < threads - 1);
      const ms = (performance.now() - t0) / REPS;
      console.log(`${threads} thread(s), ${NAMES[kind]}: ${(ms * 1000).toFixed(1)} µs/token, ${((ROWS * K * BYTES[kind]) / ms / 1e6).toFixed(1)} GB/s`);
    }
  }
  process.exit(0);
} else {
  const { module, memory, sync, t, threads } = workerData;
  const { exports } = await WebAssembly.instantiate(module, { env: { memory, abort() {} } });
  const rows = ROWS / threads;
  Atomics.add(sync, 3, 1);
  for (let seen = 0; ; ) {
    Atomics.wait(sync, 0, seen);
    seen = Atomics.load(sync, 0);
    const kind = Atomics.load(sync, 1);
    exports.run(kind, rows, K, X, W + rows * K * BYTES[kind] * t, OUT + 64 * t, REPS);
    Atomics.add(sync, 2, 1);
  }
}

// GEMM throughput of the wasm kernels (on one thread and on two) and of the TypeScript reference, in
// GFLOPS, against the measured ceiling of a plain wasm f32x4 mul+add loop on one thread. The generation
// step (one row) is bound by memory, not arithmetic: 2.3 GFLOPS there is 4 MB of weights per call.
// Run from the sources with `node --import tsx bench/gemm.mjs`, or after `npm run build` with
// `node bench/gemm.mjs` (imports dist/). Add --quick for fewer repetitions.
const load = async (path) => import(`../src/kernels/${path}.ts`).catch(() => import(`../dist/kernels/${path}.js`));
const { loadWasmKernelsSync } = await load('wasm/index');
const { jsKernels } = await load('js/index');

const quick = process.argv.includes('--quick');
const wasm = loadWasmKernelsSync();
const wasm2 = loadWasmKernelsSync(true);
await wasm2.setThreads(2);
// The column shows what two threads do, not when the adaptive sharing would stand back on a busy machine.
wasm2.adaptiveThreads = false;

/** Best time in seconds of fn over repetitions lasting about `budget` seconds. */
function time(fn, budget = quick ? 0.2 : 1) {
  fn();
  let best = Infinity;
  const start = performance.now();
  do {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  } while ((performance.now() - start) / 1000 < budget);
  return best;
}

function peakGflops() {
  const iterations = 20_000_000;
  const seconds = time(() => wasm.exports.peakLoop(iterations, 0.999));
  return (iterations * 13 * 4 * 2) / seconds / 1e9; // 13 chains (assembly/peak.ts) x 4 lanes x (mul + add)
}

function filled(kernels, length) {
  const buffer = kernels.allocate(length, 'float32');
  const view = buffer.view();
  for (let i = 0; i < length; i++) view[i] = Math.sin(i) * 0.5;
  return buffer;
}

/** GFLOPS of C[m, n] = op(A) op(B) with operands allocated by the backend (no staging copies); with
 * `packed`, B is packed once beforehand (packB) and the products use it (gemmPacked), as the
 * recurrent layers' time steps do. */
function gemmGflops(kernels, transA, transB, m, n, k, budget, packed = false) {
  const a = filled(kernels, m * k);
  const b = filled(kernels, k * n);
  const c = filled(kernels, m * n);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const pb = packed ? kernels.packB(transB, k, n, b.view(), 0, ldb) : null;
  const product = pb
    ? () => kernels.gemmPacked(transA, m, n, k, 1, a.view(), 0, lda, pb, 0, c.view(), 0, n)
    : () => kernels.gemm(transA, transB, m, n, k, 1, a.view(), 0, lda, b.view(), 0, ldb, 0, c.view(), 0, n);
  const seconds = time(product, budget);
  if (pb) kernels.releasePacked(pb);
  for (const x of [a, b, c]) kernels.release(x);
  return (2 * m * n * k) / seconds / 1e9;
}

// Other processes and frequency changes disturb single measurements: every figure is the best of
// repeated runs, and the peak is measured before and after the table (the higher one counts).
let peak = peakGflops();

const rows = [];
// [label, transA, transB, m, n, k, B packed once]
const shapes = [
  ['square 64', false, false, 64, 64, 64],
  ['square 256', false, false, 256, 256, 256],
  ['square 1024', false, false, 1024, 1024, 1024],
  ['input projection X W^T [2048x256]x[256x1024]', false, true, 2048, 1024, 256],
  ['recurrent step h W^T [32x256]x[256x1024]', false, true, 32, 1024, 256],
  ['  the same, W packed once per layer call', false, true, 32, 1024, 256, true],
  ['backward dh = dG W [32x1024]x[1024x256]', false, false, 32, 256, 1024],
  ['  the same, W packed once per layer call', false, false, 32, 256, 1024, true],
  ['backward dW = dG^T X [1024x2048]x[2048x256]', true, false, 1024, 256, 2048],
  ['backward dX = dG W [2048x1024]x[1024x256]', false, false, 2048, 256, 1024],
  ['generation step h W^T [1x512]x[512x2048]', false, true, 1, 2048, 512],
];
for (const [label, transA, transB, m, n, k, packed = false] of shapes) {
  const w = gemmGflops(wasm, transA, transB, m, n, k, undefined, packed);
  const w2 = gemmGflops(wasm2, transA, transB, m, n, k, undefined, packed);
  // The reference is slow: one repetition is enough for the big shapes.
  const j = gemmGflops(jsKernels, transA, transB, m, n, k, m * n * k > 1e7 ? 0 : 0.3, packed);
  rows.push({ label, w, w2, j });
}
peak = Math.max(peak, peakGflops());

const fmt = (g) => `${g.toFixed(2).padStart(7)} GFLOPS ${((100 * g) / peak).toFixed(0).padStart(3)}%`;
console.log(`wasm f32x4 mul+add peak: ${peak.toFixed(1)} GFLOPS per thread; % columns are of one thread's peak\n`);
console.log(`${'shape'.padEnd(48)} ${'wasm, 1 thread'.padEnd(19)} ${'wasm, 2 threads'.padEnd(19)} js`);
for (const { label, w, w2, j } of rows) console.log(`${label.padEnd(48)} ${fmt(w)}  ${fmt(w2)}  ${fmt(j)}`);

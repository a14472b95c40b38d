// GEMM throughput in GFLOPS, each column as a percentage of its own measured ceiling: the wasm
// kernels (plain SIMD, against a wasm f32x4 mul+add loop), the relaxed-SIMD build where this Node has
// it (against a relaxed_madd loop; Node 20 needs --experimental-wasm-relaxed-simd, which `npm run
// bench` passes), the wasm kernels with the system BLAS under them where the native addon was built
// (against a native FMA loop at this CPU's widest vectors), each on one thread and on two (ceiling
// twice one thread's), and the TypeScript reference (against the wasm mul+add ceiling). The native
// columns show what the layers get: products the BLAS does not take (packed B, a few rows) stay on
// the wasm kernels there. The generation step (one row) is bound by memory, not arithmetic: 2.3 GFLOPS
// there is 4 MB of weights per call.
// Run from the sources with `node --import tsx bench/gemm.mjs`, or after `npm run build` with
// `node bench/gemm.mjs` (imports dist/). Add --quick for fewer repetitions.
const load = async (path) => import(`../src/kernels/${path}.ts`).catch(() => import(`../dist/kernels/${path}.js`));
const { loadWasmKernelsSync, relaxedSimdSupported } = await load('wasm/index');
const { jsKernels } = await load('js/index');
const { loadNativeBlas } = await load('native/addon');
const { NativeGemm } = await load('native/gemm');

const { W4_STREAM_LABEL, WORKLOADS, w4TokenCost } = await import('./workloads.mjs');

const quick = process.argv.includes('--quick');

/** Wasm kernels of one build on `threads` threads, with the system BLAS under them when `addon`. */
async function kernelsOn(threads, { relaxed = false, addon = null } = {}) {
  const kernels = loadWasmKernelsSync(true, relaxed);
  if (threads > 1) await kernels.setThreads(threads);
  // The columns show what `threads` threads do, not when the adaptive sharing would stand back on a busy machine.
  kernels.adaptiveThreads = false;
  if (addon) {
    kernels.nativeGemm = new NativeGemm(addon, kernels.exports.gemmSmallRows());
    kernels.nativeGemm.adaptive = false;
  }
  return kernels;
}

const native = loadNativeBlas('auto');
const relaxedHere = relaxedSimdSupported();
const wasm = await kernelsOn(1);
const wasm2 = await kernelsOn(2);
const relaxed1 = relaxedHere ? await kernelsOn(1, { relaxed: true }) : null;
const relaxed2 = relaxedHere ? await kernelsOn(2, { relaxed: true }) : null;
const native1 = native.addon ? await kernelsOn(1, { addon: native.addon }) : null;
const native2 = native.addon ? await kernelsOn(2, { addon: native.addon }) : null;

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

/** GFLOPS of a multiply-add loop run by `loop(iterations)`, which returns the flops it did. */
function loopGflops(loop, iterations) {
  let flops = 0;
  const seconds = time(() => (flops = loop(iterations)));
  return flops / seconds / 1e9;
}

// Chains (assembly/peak.ts) x 4 lanes x (mul + add) per iteration.
const wasmPeak = () => loopGflops((it) => (wasm.exports.peakLoop(it, 0.999), it * wasm.exports.peakChains(0) * 4 * 2), 20_000_000);
const relaxedPeak = () => loopGflops((it) => (relaxed1.exports.peakLoopMadd(it, 0.999), it * relaxed1.exports.peakChains(1) * 4 * 2), 20_000_000);
const nativePeak = () => loopGflops((it) => native.addon.peakLoop(it, 0.999), 20_000_000);

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
// repeated runs, and each ceiling is measured before and after the table (the higher one counts).
const peaks = { wasm: wasmPeak(), relaxed: relaxed1 ? relaxedPeak() : null, native: native.addon ? nativePeak() : null };

// [label, kernels, threads, ceiling per thread]
const columns = [
  ['wasm, 1 thread', wasm, 1, 'wasm'],
  ['wasm, 2 threads', wasm2, 2, 'wasm'],
  ...(relaxed1 ? [['relaxed, 1 thread', relaxed1, 1, 'relaxed'], ['relaxed, 2 threads', relaxed2, 2, 'relaxed']] : []),
  ...(native1 ? [['native BLAS, 1 thread', native1, 1, 'native'], ['native BLAS, 2 threads', native2, 2, 'native']] : []),
  ['js', jsKernels, 1, 'wasm'],
];

const rows = [];
// [label, transA, transB, m, n, k, B packed once]
const shapes = [
  ['square 64', false, false, 64, 64, 64],
  ['square 256', false, false, 256, 256, 256],
  ['square 1024', false, false, 1024, 1024, 1024],
  ['input projection X W^T [2048x256]x[256x1024]', false, true, 2048, 1024, 256],
  ['W5 input projection [3200x256]x[256x2048]', false, true, 3200, 2048, 256],
  ['recurrent step h W^T [32x256]x[256x1024]', false, true, 32, 1024, 256],
  ['  the same, W packed once per layer call', false, true, 32, 1024, 256, true],
  ['W5 recurrent step, packed [64x512]x[512x2048]', false, true, 64, 2048, 512, true],
  ['backward dh = dG W [32x1024]x[1024x256]', false, false, 32, 256, 1024],
  ['  the same, W packed once per layer call', false, false, 32, 256, 1024, true],
  ['backward dW = dG^T X [1024x2048]x[2048x256]', true, false, 1024, 256, 2048],
  ['W5 backward dW_hh = dG^T H [2048x3200]x[3200x512]', true, false, 2048, 512, 3200],
  ['backward dX = dG W [2048x1024]x[1024x256]', false, false, 2048, 256, 1024],
  ['generation step h W^T [1x512]x[512x2048]', false, true, 1, 2048, 512],
  // W4's weights for one token (bench/workloads.mjs w4TokenCost: 6209 rows of 512), read once each:
  // larger than the cores' L2, so this measures how fast a token's weights stream (report.mjs's W4 bound).
  [W4_STREAM_LABEL, false, true, 1, w4TokenCost().weightRows, WORKLOADS.W4.hidden],
];
for (const [label, transA, transB, m, n, k, packed = false] of shapes) {
  const values = columns.map(([, kernels]) => {
    // The reference is slow: one repetition is enough for the big shapes.
    const budget = kernels === jsKernels ? (m * n * k > 1e7 ? 0 : 0.3) : undefined;
    return gemmGflops(kernels, transA, transB, m, n, k, budget, packed);
  });
  rows.push({ label, values });
}
peaks.wasm = Math.max(peaks.wasm, wasmPeak());
if (relaxed1) peaks.relaxed = Math.max(peaks.relaxed, relaxedPeak());
if (native.addon) peaks.native = Math.max(peaks.native, nativePeak());

const fmt = (g, ceiling) => `${g.toFixed(2).padStart(7)} GFLOPS ${((100 * g) / ceiling).toFixed(0).padStart(3)}%`;
console.log(`wasm f32x4 mul+add peak: ${peaks.wasm.toFixed(1)} GFLOPS per thread`);
console.log(relaxed1 ? `wasm relaxed_madd (FMA) peak: ${peaks.relaxed.toFixed(1)} GFLOPS per thread` : 'wasm relaxed SIMD: not in this Node (Node 20: --experimental-wasm-relaxed-simd)');
console.log(native.addon ? `native FMA peak: ${peaks.native.toFixed(1)} GFLOPS per thread (${native.addon.describe()})` : `native BLAS: ${native.reason}`);
console.log('% columns are of the column\'s own ceiling: its loop\'s peak per thread times its threads (js: the wasm mul+add peak)\n');
console.log(`${'shape'.padEnd(52)} ${columns.map(([name]) => name.padEnd(23)).join(' ')}`);
for (const { label, values } of rows) {
  const cells = values.map((g, i) => fmt(g, peaks[columns[i][3]] * columns[i][2]).padEnd(23));
  console.log(`${label.padEnd(52)} ${cells.join(' ')}`);
}
process.exit(0);

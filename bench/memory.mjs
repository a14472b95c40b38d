// Memory of a W1 training step of this library, in its own process:
// `node --expose-gc bench/memory.mjs VARIANT` (VARIANT wasm or js; run.mjs sets RECURRENT_BACKEND).
// - step growth: the RSS high-water mark during one step minus the RSS just before it, in a process
//   already warmed up by a few steps (the measure), the worst of a few steps;
// - footprint: the high-water mark from before the model was built to the end of the warm-up steps;
// both against what the step needs in theory (workloads.mjs w1MemoryNeed) and with the wasm heap.
import { emit, procMemory, resetPeakRss } from './measure.mjs';
import { w1MemoryNeed } from './workloads.mjs';

const variant = process.argv[2] ?? 'wasm';
const gc = globalThis.gc;

try {
  if (!gc) throw new Error('run with node --expose-gc');
  if (!procMemory()) throw new Error('needs /proc/self/status (Linux)');
  const adapter = await import('./adapters/recurrent.mjs');
  const about = await adapter.info(variant);
  gc();
  const before = procMemory().rss;
  const canReset = resetPeakRss();
  const step = await adapter.setup('W1');
  for (let i = 0; i < 3; i++) step();
  const footprintPeak = procMemory().peakRss;

  const steps = [];
  for (let i = 0; i < 5; i++) {
    gc();
    const baseline = procMemory().rss;
    resetPeakRss();
    step();
    steps.push(procMemory().peakRss - baseline);
  }
  const need = w1MemoryNeed();
  const stepGrowth = Math.max(...steps);
  const ungraded = variant === 'wasm' ? await ungradedForwards(500) : null;
  emit({
    ok: true, kind: 'memory', lib: 'recurrent', variant, workload: 'W1', ...about,
    need, stepGrowth, stepGrowths: steps, stepRatio: stepGrowth / need.total,
    footprint: canReset ? footprintPeak - before : null, footprintRatio: canReset ? (footprintPeak - before) / need.total : null,
    peakResetWorks: canReset,
    wasmHeap: (await adapter.wasmHeap()) ?? null,
    ungraded,
    memory: procMemory(),
  });
  process.exit(0);

  /**
   * An evaluation loop that forgets noGrad: W1's network called `calls` times with gradients on and
   * no backward, without gc(). What it leaves allocated in the wasm heap (bytes in use, and the rise
   * of the heap's top) and in the process (RSS).
   */
  async function ungradedForwards(calls) {
    const { nn, tensor } = await import('../dist/index.js');
    const { kernelsFor } = await import('../dist/kernels/index.js');
    const { makeBatch } = await import('./data.mjs');
    const { WORKLOADS } = await import('./workloads.mjs');
    const w = WORKLOADS.W1;
    const heap = kernelsFor('float32').heap;
    const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
    const x = tensor(makeBatch('W1').oneHot, [w.seq, w.batch, w.vocab]);
    gc();
    const rss = procMemory().rss;
    const inUse = heap.inUse ?? heap.used;
    const top = heap.used;
    const started = performance.now();
    for (let i = 0; i < calls; i++) lstm.forward(x);
    const seconds = (performance.now() - started) / 1000;
    return { calls, heapInUse: (heap.inUse ?? heap.used) - inUse, heapTop: heap.used - top, rssGrowth: procMemory().rss - rss, seconds };
  }
} catch (error) {
  emit({ ok: false, kind: 'memory', lib: 'recurrent', variant, workload: 'W1', error: String(error?.stack ?? error).split('\n').slice(0, 4).join(' | ') });
  process.exit(1);
}

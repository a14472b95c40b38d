// Gradient checkpointing (workload C1): a GRU(1, 32) + Linear(32→1) on every step, MSE, batch 1,
// SGD, trained one step at a time over one long sequence. Rows, each in a process of its own so the
// WebAssembly memory (which never shrinks) is the row's alone:
//   plain        T = 100,000, the plain path (every step's activations saved)
//   ckpt-short   T = 100,000, checkpointEvery 316 (≈ √T): the compute price, side by side with plain
//   ckpt-long    T = 1,000,000, checkpointEvery 1000 (≈ √T): the plain path would need about ten
//                times its T = 100,000 heap, so it is not run
// Each row reports the step time (forward + backward + update; the fastest of its steps after a
// warm-up step), the time per time step, the allocator's high-water mark and the linear memory's size.
//
//   node bench/checkpoint.mjs            all rows, a table (npm run bench -- --only C1 runs this)
//   node bench/checkpoint.mjs ROW        one row, its BENCH_RESULT line
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, RESULT_PREFIX } from './measure.mjs';
import { OWN_WORKLOADS } from './workloads.mjs';

const C1 = OWN_WORKLOADS.C1;
const { hidden: H, rows: ROWS } = C1;
const row = process.argv[2];

if (!row) {
  const results = [];
  for (const name of Object.keys(ROWS)) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = child.stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
    const r = line ? JSON.parse(line.slice(RESULT_PREFIX.length)) : { ok: false, row: name, error: child.stderr.trim().split('\n').at(-1) ?? `exit ${child.status}` };
    results.push(r);
    console.error(r.ok
      ? `C1 ${name.padEnd(10)} T=${String(r.T).padStart(9)} every=${String(r.every ?? '-').padStart(5)}  step ${(r.stepMs / 1000).toFixed(2)} s  ${r.usPerTimeStep.toFixed(2)} µs/time step  heap peak ${(r.heapPeak / 2 ** 20).toFixed(1)} MiB  linear memory ${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB`
      : `C1 ${name}: failed: ${r.error}`);
  }
  const byName = Object.fromEntries(results.map((r) => [r.row, r]));
  const plain = byName.plain, short = byName['ckpt-short'];
  const ratio = plain?.ok && short?.ok ? short.stepMs / plain.stepMs : null;
  if (ratio !== null) console.error(`C1 checkpointed / plain step time at T=${plain.T}: ${ratio.toFixed(2)}x`);
  emit({ ok: results.every((r) => r.ok), kind: 'checkpoint', workload: 'C1', rows: results, timeRatio: ratio });
  process.exit(0);
}

try {
  const spec = ROWS[row];
  if (!spec) throw new Error(`unknown row ${row} (known: ${Object.keys(ROWS).join(', ')})`);
  const lib = await import('../dist/index.js');
  const kernels = await import('../dist/kernels/index.js');
  const { nn, optim, fromArray, Generator } = lib;
  const heap = kernels.kernelsFor('float32').heap;
  if (!heap) throw new Error('the WebAssembly backend is not available');
  const { T, every } = spec;
  const gru = new nn.GRU({ inputSize: 1, hiddenSize: H, generator: new Generator(1), ...(every ? { checkpointEvery: every } : {}) });
  const head = new nn.Linear(H, 1, { generator: new Generator(2) });
  const params = [...gru.parameters(), ...head.parameters()];
  const opt = new optim.SGD(params, { lr: C1.lr });
  // A noisy sine, the target its next value.
  const series = Float32Array.from({ length: T + 1 }, (_, t) => Math.sin(t * 0.05) + 0.1 * Math.sin(t * 1.7));
  const x = fromArray(series.subarray(0, T), [T, 1, 1]);
  const target = fromArray(series.slice(1), [T, 1, 1]);
  const start = heap.used;
  heap.resetPeak();
  const step = () => {
    opt.zeroGrad();
    const [out] = gru.forward(x);
    const loss = nn.functional.mseLoss(head.forward(out), target);
    loss.backward();
    opt.step();
    return loss.item();
  };
  const times = [];
  let loss = 0;
  for (let i = 0; i < 1 + spec.steps; i++) {
    const t0 = performance.now();
    loss = step();
    if (i > 0) times.push(performance.now() - t0);
  }
  const stepMs = Math.min(...times);
  emit({
    ok: true, kind: 'checkpoint', workload: 'C1', row, T, every: every ?? null, steps: times.length, stepMs, stepTimes: times,
    usPerTimeStep: (stepMs * 1000) / T, heapPeak: heap.peak - start, heapPeakTotal: heap.peak, memoryBytes: heap.memory.buffer.byteLength, loss,
    backend: lib.getBackendInfo?.() ?? null,
  });
  process.exit(0);
} catch (e) {
  emit({ ok: false, kind: 'checkpoint', workload: 'C1', row, error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}

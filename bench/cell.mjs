// One cell of the table in its own process: `node bench/cell.mjs LIB VARIANT WORKLOAD PROFILE`.
// A fresh process per cell keeps one library's heap, threads and JIT state away from the next one's.
// Prints the result as the last line (see measure.mjs emit()); run.mjs reads it.
import { emit, measure, procMemory } from './measure.mjs';

const [lib, variant, id, profile = 'full'] = process.argv.slice(2);
const adapters = {
  recurrent: './adapters/recurrent.mjs',
  tfjs: './adapters/tfjs.mjs',
  onnxruntime: './adapters/onnx.mjs',
  brain: './adapters/brain.mjs',
};

try {
  if (!adapters[lib]) throw new Error(`unknown library '${lib}' (known: ${Object.keys(adapters).join(', ')})`);
  const adapter = await import(adapters[lib]);
  const about = await adapter.info(variant);
  const made = await adapter.setup(id, variant);
  const { unit, unitsPerStep = 1, note } = typeof made === 'function' ? { unit: made } : made;
  const timing = await measure(unit, profile, { unitsPerStep });
  const heap = adapter.wasmHeap ? await adapter.wasmHeap() : undefined;
  emit({
    ok: true, lib, variant, workload: id, ...about,
    rate: timing.rate / unitsPerStep, // steps/s (W4: tokens/s)
    roundRates: timing.rounds.map((r) => r / unitsPerStep),
    units: timing.units, unitsPerStep, seconds: timing.seconds, firstCall: timing.first,
    short: timing.short, note: [note, timing.note].filter(Boolean).join('; ') || undefined,
    memory: procMemory(), wasmHeap: heap ?? undefined,
  });
  process.exit(0); // some peers keep worker threads alive
} catch (error) {
  emit({ ok: false, lib, variant, workload: id, error: String(error?.stack ?? error).split('\n').slice(0, 4).join(' | ') });
  process.exit(1);
}

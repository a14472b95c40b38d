// bench/results.json → docs/performance.md. Every figure in that page comes from a run's JSON: none
// is typed by hand. `npm run bench` calls it after a complete run; by hand:
//   node bench/report.mjs [bench/results.json] [docs/performance.md]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILES } from './measure.mjs';
import { EARLIER, MEMORY_LIMIT, NATIVE, OURS } from './targets.mjs';
import { LIBRARIES, evaluateTargets, formatNumber, formatPercent, formatRatio, mb, parseGemm, w4Bound, workloadRows } from './summary.mjs';
import { WORKLOADS, w5FlopsPerStep } from './workloads.mjs';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/** A Markdown table; `align` has one letter per column, l or r (numbers go right). */
const table = (head, rows, align) => [
  `| ${head.join(' | ')} |`,
  `|${head.map((_, i) => (align[i] === 'r' ? ' ---: ' : ' --- ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

const cellOf = (results, id, key) => results.cells.find((c) => c.workload === id && `${c.lib}/${c.variant}` === key && c.ok);

function versions(results) {
  const seen = new Map();
  for (const c of results.cells) {
    if (!c.ok || c.lib === 'recurrent') continue;
    const name = { tfjs: 'TensorFlow.js', onnxruntime: `onnxruntime-${c.variant === 'web' ? 'web' : 'node'}`, brain: 'brain.js', pytorch: 'PyTorch' }[c.lib];
    if (name && c.version) seen.set(name, c.version);
  }
  return [...seen].map(([k, v]) => `${k} ${v}`).join(', ');
}

const ourThreads = (r) => r.cells.find((c) => c.lib === 'recurrent' && c.variant === 'wasm' && c.ok)?.threads ?? '?';
const minutes = (r) => ((Date.parse(r.finished) - Date.parse(r.date)) / 60000).toFixed(0);

function setupSection(results) {
  const m = results.machine;
  const torch = results.cells.find((c) => c.lib === 'pytorch' && c.ok);
  const tfWasm = results.cells.find((c) => c.lib === 'tfjs' && c.variant === 'wasm' && c.ok);
  const lines = [
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}. Load average at the start: ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(', ')} (the machine is shared; each cell's load average is in the JSON).`,
    `- recurrent ${results.library.version} at commit ${results.library.commit}${results.library.uncommittedChanges ? ' plus uncommitted changes in src/ or assembly/' : ''}, measured from dist/ built ${results.dist.builtAt}${results.dist.stale ? ' (older than the sources: stale)' : ''}${results.dist.buildFailed ? '; npm run build failed at the start of the run, so the dist/ already there was measured' : ''}.`,
    results.cells.some((c) => c.variant === 'wasm-1t')
      ? `- Our wasm cells run with ${ourThreads(results) === '?' ? 'one thread per core (setThreads; the count in effect was not recorded in this run)' : `${ourThreads(results)} threads (the build's setThreads, one per core)`}; the "wasm, 1 thread" rows with one.`
      : '- Our wasm cells run on one thread (this build offers no threads).',
    `- Peers: ${versions(results) || 'none'}.`,
    `- Run: ${results.date}, profile \`${results.profile}\`${results.complete ? '' : ' (partial run)'}, ${results.cells.length} cells${(results.passes ?? 1) > 1 ? ` × ${results.passes} passes` : ''}, each in its own process, one after the other; ${minutes(results)} minutes in all.`,
  ];
  if (torch?.blas) {
    lines.push(`- PyTorch BLAS: ${torch.blas.config ?? torch.blas.mapped?.join(', ')}${torch.blas.corename ? `, kernel ${torch.blas.corename}` : ''} (from the libraries mapped into its process), OMP_WAIT_POLICY=PASSIVE, threads set per cell.`);
  }
  if (tfWasm) lines.push(`- TF.js wasm backend: SIMD ${tfWasm.simd ? 'on' : 'off'}, threads ${tfWasm.wasmThreads ? 'on' : 'off'}.`);
  for (const [peer, why] of Object.entries(results.unavailable ?? {})) lines.push(`- ${peer}: ${why}.`);
  return lines.join('\n');
}

function targetsSection(results) {
  const targets = evaluateTargets(results);
  const bound = w4Bound(results);
  const rows = targets.map((t) => {
    if (t.memory) {
      const mem = results.memory?.find((m) => m.variant === 'wasm' && m.ok);
      return [t.id, t.text, mem ? mb(mem.stepGrowth) : '–', mem ? `need ${mb(mem.need.total)}` : t.reason, formatRatio(t.ratio), `≤ ${t.need}×`, verdict(t)];
    }
    if (t.gemm) {
      const needed = `≥ ${formatPercent(t.need)}`;
      if (t.status === 'n/a') return [t.id, t.text, '–', t.reason, '–', needed, verdict(t)];
      return [t.id, t.text, `${formatNumber(t.gflops)} GFLOPS`, `its ceiling (${t.column}: bench/gemm.mjs's peak loop × 2)`, formatPercent(t.ratio), needed, verdict(t)];
    }
    if (t.status === 'n/a') return [t.id, t.text, '–', t.reason, '–', `${t.need}×`, verdict(t)];
    const unit = WORKLOADS[t.id].unit;
    // W4 against TF.js: the bound says whether any kernel could meet it (see w4BoundSection).
    const beyond = t.id === 'W4' && !t.quantized && t.status === 'not met' && bound && t.peer * t.need > bound.bound;
    return [
      t.id, t.text, `${formatNumber(t.ours)} ${unit}`, `${t.againstWorkload ? `${t.againstWorkload} ` : ''}${LIBRARIES[t.peerKey] ?? t.peerKey}: ${formatNumber(t.peer)}${t.shortSample ? ' (short sample)' : ''}`,
      formatRatio(t.ratio), `≥ ${t.need}×`, beyond ? `${verdict(t)}: beyond the bound, ${formatRatio(bound.bound / t.peer)} (W4's bound below)` : verdict(t),
    ];
  });
  const met = targets.filter((t) => t.status === 'met').length;
  return [
    `${met} of ${targets.length} targets met. Ratios are ours (the cell the target names: ${LIBRARIES[NATIVE]} or ${LIBRARIES[OURS]}) ÷ the peer, from this one run.`,
    '',
    table(['workload', 'target', 'ours', 'against', 'ratio', 'needed', 'status'], rows, 'llrlrrl'),
  ].join('\n');
}

const verdict = (t) => (t.status === 'met' ? '**met**' : t.status === 'not met' ? '**not met**' : 'n/a');

function workloadSection(results, id) {
  const w = WORKLOADS[id];
  const rows = workloadRows(results, id).map((r) => {
    const earlier = EARLIER[r.key]?.[id];
    if (r.error) return [r.name, 'failed', '', '', '', '', r.error.replace(/\|/g, '/').slice(0, 120)];
    const notes = [r.cell.note, r.cell.short && !/short sample|one call/.test(r.cell.note ?? '') ? 'short sample' : null].filter(Boolean).join('; ');
    return [
      r.name,
      formatNumber(r.figure) + (id === 'W1' ? ` (${formatNumber(r.stepsPerSecond)} steps/s)` : '') + (id === 'W5' ? ` (${formatNumber(r.gflops)} GFLOPS)` : ''),
      formatRatio(r.ratio), earlier === undefined ? '–' : formatNumber(earlier), mb(r.peakRss), r.cell.loadAverage?.toFixed(2) ?? '–', notes,
    ];
  });
  const extra = id === 'W5' ? ` One step is ${formatNumber(w5FlopsPerStep() / 1e9)} GFLOP (forward 2·B·T·4H·(I+H), backward twice that).` : '';
  return [
    `### ${id} ${w.title}`,
    '',
    `${w.what}.${extra}`,
    '',
    table(['library', w.unit, 'ours ÷ it', "issue's earlier figure", 'peak RSS', 'load', 'notes'], rows, 'lrrrrrl'),
  ].join('\n');
}

function memorySection(results) {
  const lines = [];
  for (const m of results.memory ?? []) {
    if (!m.ok) {
      lines.push(`- ${m.variant}: failed (${m.error}).`);
      continue;
    }
    const p = m.need.parts;
    lines.push(
      `- **${m.variant} backend**: RSS growth during a warmed-up W1 step (high-water mark minus the RSS just before it, worst of ${m.stepGrowths.length} steps): ` +
      `**${mb(m.stepGrowth)}**, ${formatRatio(m.stepRatio)} the need of ${mb(m.need.total)} (target ≤ ${MEMORY_LIMIT}×). ` +
      `Footprint from before the model was built through three steps: ${mb(m.footprint)} (${formatRatio(m.footprintRatio)}). ` +
      (m.wasmHeap
        ? `WebAssembly heap high-water mark: ${mb(m.wasmHeap.used)} allocated (${formatRatio(m.wasmHeap.used / m.need.total)} the need), linear memory ${mb(m.wasmHeap.memoryBytes)}.`
        : 'No WebAssembly heap on this backend.'),
    );
    if (m.ungraded) {
      const u = m.ungraded;
      lines.push(
        `- **Heap after ${u.calls} ungraded forwards** (W1's network called with gradients on and no backward, as an evaluation loop that forgets noGrad does; no gc()): ` +
        `${mb(u.heapInUse)} still allocated in the wasm heap, its top ${mb(u.heapTop)} higher, RSS ${mb(u.rssGrowth)} higher (${u.seconds.toFixed(1)} s).`,
      );
    }
    if (lines.length === 1) {
      lines.unshift(
        `The need is computed from the shapes: ${m.need.parameterCount.toLocaleString('en-US')} parameters (${mb(p.parameters)}), as many gradients (${mb(p.gradients)}), ` +
        `Adam's two moments (${mb(p.adamState)}), and what BPTT keeps: per layer and time step the four gate activations, the cell state and the hidden output, ` +
        `plus the one-hot input, the logits and their gradient (${mb(p.activations)}).`, '',
      );
    }
  }
  return lines.join('\n');
}

function gemmSection(results) {
  const g = results.gemm;
  if (!g) return 'Not run.';
  if (!g.ok) return `Failed: ${g.error}`;
  const { rows, peakLine } = parseGemm(g.output);
  if (!rows.length) return ['```', g.output.trim(), '```'].join('\n');
  const columns = rows[0].values.map((v) => v.column);
  return [
    `bench/gemm.mjs: C = op(A)·op(B) in float32. Its ceiling line: "${peakLine}".`,
    '',
    table(['shape', ...columns.flatMap((c) => [`${c} GFLOPS`, '% of peak'])],
      rows.map((r) => [r.label, ...r.values.flatMap((v) => [formatNumber(v.gflops), `${v.percentOfPeak}%`])]), `l${'r'.repeat(2 * columns.length)}`),
  ].join('\n');
}

/**
 * What WebAssembly can reach at best on W5, the compute-bound workload: both threads at the f32x4
 * mul+add peak that bench/gemm.mjs measured in this run, with no time for anything but arithmetic.
 * Node 20 has no relaxed SIMD, so no fused multiply-add: a peer with FMA has twice the ceiling.
 */
function ceilingSection(results) {
  const peak = results.gemm?.ok ? parseGemm(results.gemm.output).peakGflops : null;
  const torch = cellOf(results, 'W5', 'pytorch/1t');
  const ours = cellOf(results, 'W5', OURS);
  if (!peak || !torch) return null;
  const flops = w5FlopsPerStep();
  const threads = ours?.threads ?? 2;
  const ceiling = (threads * peak * 1e9) / flops;
  const torchGflops = (torch.rate * flops) / 1e9;
  return [
    `W5 is bound by arithmetic: ${formatNumber(flops / 1e9)} GFLOP per step. This run measured the f32x4 mul+add peak at ${formatNumber(peak)} GFLOPS per thread, so ${threads} threads doing nothing but arithmetic would reach ${formatNumber(ceiling)} steps/s. PyTorch on one thread ran ${formatNumber(torch.rate)} steps/s (${formatNumber(torchGflops)} GFLOPS, with AVX2/AVX-512 fused multiply-add), ${formatRatio(torch.rate / ceiling)} that ceiling.` +
      (ours ? ` Ours: ${formatNumber(ours.rate)} steps/s, ${Math.round((100 * ours.rate) / ceiling)}% of the ceiling.` : ''),
    '',
    'That ceiling is the plain-SIMD build\'s (what Node 20 runs by default and the wasm-only targets measure). The relaxed-SIMD build fuses the multiply-add where the engine has it (Chromium, Node 22, or Node 20 with --experimental-wasm-relaxed-simd: the wasm-relaxed rows), and the native-BLAS rows run every product of more than 8 rows (the input projections, the per-step recurrent products, the weight gradients) on the same OpenBLAS PyTorch uses; PyTorch\'s W5 speed is the target for those.',
  ].join('\n');
}

/**
 * What batch-1 generation can reach at best (summary.mjs w4Bound): the bound from streaming W4's
 * weights once per token, the arithmetic one above it, and where TF.js's figure times the target
 * falls against them.
 */
function w4BoundSection(results) {
  const b = w4Bound(results);
  if (!b) return null;
  const onnx = ['onnxruntime/node-1t', 'onnxruntime/node-2t'].map((k) => cellOf(results, 'W4', k)).filter(Boolean)
    .reduce((x, y) => (!x || y.rate > x.rate ? y : x), null);
  return [
    `A W4 token reads every weight once for one multiply-add: ${formatNumber(b.flops / 1e6)} MFLOP and ${formatNumber(b.bytes / 1e6)} MB of float32 weights ` +
      `(W_hh of both layers, W_ih of the second, the head; the first layer's one-hot input is a column gather), more than the two cores' L2 caches hold, so each token streams them again.`,
    '',
    `- **Streaming bound**: bench/gemm.mjs's row "${W4_ROW_NAME}" (those weights as one GEMV) ran at ${formatNumber(b.streamGflops)} GFLOPS on ${b.threads} threads ` +
      `(${formatNumber(b.streamGBps)} GB/s of weights; it does one vector load per vector multiply-add, so a bare read of the weights is not much faster): ` +
      `no batch-1 kernel on these threads generates more than about **${formatNumber(b.streaming)} tok/s**.`,
    `- **Arithmetic bound**: ${b.threads} threads at the f32x4 mul+add peak (${formatNumber(b.peakGflops)} GFLOPS each): ${formatNumber(b.arithmetic)} tok/s, ` +
      `${formatRatio(b.arithmetic / b.streaming)} the streaming bound: ${b.arithmetic >= b.streaming ? 'streaming' : 'arithmetic'} binds first.`,
    `- **The target**: 10× TF.js's faster backend (${LIBRARIES[b.tfjsKey] ?? b.tfjsKey}, ${formatNumber(b.tfjs)} tok/s, ${formatNumber((b.tfjs * b.flops) / 1e9)} GFLOPS) ` +
      `is ${formatNumber(b.needed)} tok/s: ${formatRatio(b.needed / b.bound)} the bound, out of reach for any kernel at batch 1; the bound is ${formatRatio(b.bound / b.tfjs)} TF.js.` +
      (b.ours ? ` Ours ran ${formatNumber(b.ours)} tok/s, ${Math.round((100 * b.ours) / b.bound)}% of the bound.` : '') +
      (onnx ? ` Native code is bound alike: ${LIBRARIES[`${onnx.lib}/${onnx.variant}`] ?? onnx.variant} (AVX-512) ran ${formatNumber(onnx.rate)} tok/s.` : ''),
  ].join('\n');
}

const W4_ROW_NAME = "W4 token's weights as one GEMV";

const method = (p, passes, rotated) => `## How it is measured

- One "step" is forward + backward + optimizer update on one batch (W4: one generated token). Every
  library gets the same shapes and the same seeded inputs (bench/data.mjs); each cell runs in its own
  process, one at a time.
- Each cell warms up for about ${p.warmup} s (WebAssembly code tiers up while it runs), then times
  rounds of about ${p.round} s for about ${p.budget} s and reports the median round. A cell whose first
  call takes over ${p.slowCutoff} s is reported from that one call, and one with fewer than five rounds
  is marked *short sample*: that keeps the slow peers time-boxed.${passes > 1 ? `
- This run made ${passes} passes over all cells, ${rotated ? "each starting at another point of the same order (a cell's passes lie at least half a pass apart)" : 'every other one in reverse order'}, and each cell shows
  its fastest pass, for every library alike (bench/results.json keeps every pass): the host is
  shared, and its slow periods last tens of seconds.` : ''}
- brain.js has no batches: it trains one sequence at a time with its own update, so its W1, W3 and W5
  figures are equivalents (sequences per second ÷ batch); its RNN is ReLU only (W2).
- TF.js uses tfjs-layers on the cpu and wasm backends with glorotUniform recurrent initialisers (the
  default orthogonal one takes minutes to initialise, not what is timed); its GRU applies the reset gate
  before the recurrent product (the only mode it has; same cost). @tensorflow/tfjs-node is not used (it
  cannot install here).
- ONNX Runtime runs bench/models/w4.onnx (tools/make_w4_onnx.py exports the W4 network from PyTorch):
  one session.run per token with h and c fed back. All W4 cells sample with the same JavaScript code
  (PyTorch with torch.multinomial). Ours generates through \`lstm.stepper({ tokens: true })\` (weights
  prepared once, as an ONNX Runtime session prepares its own; the token as an index); the row
  *forward per token* runs the same network through \`lstm.forward\` on one step at a time; the row
  *int8 generation* steps it through \`lstm.stepper({ tokens: true, quantize: 'int8' })\` (weights
  quantized once per row, x and h per step; the head stays float32): close to the float32 numbers,
  not equal (README, "Quantized generation").
- PyTorch runs bench/pytorch.py with OpenBLAS's pthread build and OMP_WAIT_POLICY=PASSIVE. Every
  cell runs without the machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin, so PyTorch's OpenBLAS and
  our native-BLAS cells pick the same kernel (named above).
- Memory: Linux's RSS high-water mark (VmHWM, reset through /proc/self/clear_refs), and the wasm
  allocator's high-water mark.

Reproduce: \`npm run bench\` (the peers install into bench/node_modules on first use),
\`npm run bench -- --quick\`, \`--only W1,W4\`, \`--peers none\`, \`--passes 2\`.`;

export function renderReport(results) {
  return [
    '# Performance',
    '',
    `<!-- Generated by bench/report.mjs from bench/results.json (${results.date}). Do not edit: run \`npm run bench\`. -->`,
    '',
    'The reference workloads of this library against PyTorch, ONNX Runtime, TensorFlow.js and brain.js, measured side by side in one run on one machine.',
    '',
    setupSection(results),
    '',
    '## Targets',
    '',
    targetsSection(results),
    '',
    '## Workloads',
    '',
    results.workloads.map((id) => workloadSection(results, id)).join('\n\n'),
    '',
    '## Memory (W1)',
    '',
    memorySection(results) || 'Not measured in this run.',
    '',
    '## GEMM',
    '',
    gemmSection(results),
    '',
    ...(ceilingSection(results) ? ['## The ceiling without fused multiply-add (W5)', '', ceilingSection(results), ''] : []),
    ...(w4BoundSection(results) ? ["## W4's bound", '', w4BoundSection(results), ''] : []),
    method(PROFILES[results.profile], results.passes ?? 1, results.passOrder !== undefined),
    '',
  ].join('\n');
}

export function writeReport(results, out = join(ROOT, 'docs', 'performance.md')) {
  writeFileSync(out, renderReport(results));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? join(ROOT, 'bench', 'results.json');
  const out = process.argv[3] ?? join(ROOT, 'docs', 'performance.md');
  writeReport(JSON.parse(readFileSync(input, 'utf8')), out);
  console.log(`wrote ${relative(process.cwd(), out)} from ${relative(process.cwd(), input)}`);
}

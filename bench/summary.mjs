// From a run's cells to what people read: per-workload rows with ratios to our figure, the targets
// met or not, and a plain-text table for the terminal. bench/report.mjs renders the same as Markdown.
import { MEMORY_LIMIT, OURS, TARGETS, W5_GEMM_PEAK_FRACTION, display } from './targets.mjs';
import { W4_STREAM_LABEL, WORKLOADS, w4TokenCost, w5FlopsPerStep } from './workloads.mjs';

export const cellKey = (cell) => `${cell.lib}/${cell.variant}`;

/** Display names for the table, in the order rows appear. */
export const LIBRARIES = {
  'recurrent/native': 'recurrent (wasm + native BLAS)',
  'recurrent/wasm': 'recurrent (wasm only)',
  'recurrent/wasm-relaxed': 'recurrent (wasm only, relaxed SIMD)',
  'recurrent/wasm-forward': 'recurrent (wasm, forward per token)',
  'recurrent/wasm-int8': 'recurrent (wasm only, int8 generation)',
  'recurrent/wasm-import': 'recurrent (wasm, threads as imported, setThreads never called)',
  'recurrent/wasm-1t': 'recurrent (wasm, 1 thread)',
  'recurrent/js': 'recurrent (js)',
  'pytorch/1t': 'PyTorch, 1 thread',
  'pytorch/2t': 'PyTorch, 2 threads',
  'onnxruntime/node-1t': 'onnxruntime-node, 1 thread',
  'onnxruntime/node-2t': 'onnxruntime-node, 2 threads',
  'onnxruntime/web': 'onnxruntime-web (wasm)',
  'tfjs/wasm': 'TF.js wasm',
  'tfjs/cpu': 'TF.js cpu',
  'brain/js': 'brain.js',
};

const order = (key) => {
  const i = Object.keys(LIBRARIES).indexOf(key);
  return i < 0 ? 99 : i;
};

/** Rows of one workload: figure in its display unit, extra figures, ratio ours ÷ this. */
export function workloadRows(results, id) {
  const cells = results.cells.filter((c) => c.workload === id).sort((a, b) => order(cellKey(a)) - order(cellKey(b)));
  const ours = cells.find((c) => cellKey(c) === OURS && c.ok);
  return cells.map((c) => {
    const row = { key: cellKey(c), name: LIBRARIES[cellKey(c)] ?? cellKey(c), cell: c };
    if (!c.ok) return { ...row, error: c.error };
    row.figure = display(id, c.rate);
    row.stepsPerSecond = c.rate;
    if (id === 'W5') row.gflops = (c.rate * w5FlopsPerStep()) / 1e9;
    row.ratio = ours ? ours.rate / c.rate : null;
    row.peakRss = c.memory?.peakRss ?? null;
    return row;
  });
}

/** Each target with our figure, the best peer figure it is judged against, the ratio and the verdict. */
export function evaluateTargets(results) {
  const byKey = new Map(results.cells.filter((c) => c.ok).map((c) => [`${c.workload} ${cellKey(c)}`, c]));
  const out = TARGETS.filter((t) => results.workloads.includes(t.id)).map((t) => {
    const ours = byKey.get(`${t.id} ${t.ours ?? OURS}`);
    const peerId = t.againstWorkload ?? t.id;
    const peers = t.against.map((k) => byKey.get(`${peerId} ${k}`)).filter(Boolean);
    const best = peers.reduce((a, b) => (!a || b.rate > a.rate ? b : a), null);
    if (!ours || !best) {
      return { ...t, status: 'n/a', reason: !ours ? `our cell (${t.ours ?? OURS}) missing or failed` : `no figure for ${t.against.join(' or ')}` };
    }
    // In display units: a target may compare two workloads per token (W6 against W1).
    const ratio = display(t.id, ours.rate) / display(peerId, best.rate);
    return {
      ...t, ours: display(t.id, ours.rate), peer: display(peerId, best.rate), peerKey: cellKey(best), ratio,
      status: ratio >= t.need ? 'met' : 'not met', shortSample: Boolean(best.short || ours.short),
    };
  });
  const mem = results.memory?.find((m) => m.variant === 'wasm' && m.ok);
  if (results.workloads.includes('W1')) {
    out.push(mem
      ? { id: 'W1', text: `memory: RSS growth in a step ≤ ${MEMORY_LIMIT}× need`, ratio: mem.stepRatio, need: MEMORY_LIMIT, status: mem.stepRatio <= MEMORY_LIMIT ? 'met' : 'not met', memory: true }
      : { id: 'W1', text: `memory: RSS growth in a step ≤ ${MEMORY_LIMIT}× need`, status: 'n/a', reason: 'memory cell missing or failed', memory: true });
  }
  out.push(...gemmTargets(results));
  return out;
}

/** The column whose ceiling the W5 GEMM target uses: relaxed FMA where this Node has relaxed SIMD. */
const W5_GEMM_COLUMNS = ['relaxed, 2 threads', 'wasm, 2 threads'];

/**
 * The issue's GEMM target, one row per W5 product in bench/gemm.mjs's table: on 2 threads, at least
 * W5_GEMM_PEAK_FRACTION of the ceiling (the relaxed FMA loop's where relaxed SIMD ran, else the
 * mul+add loop's). The GEMM table shows the other column too.
 */
export function gemmTargets(results) {
  if (!results.workloads.includes('W5') || !results.gemm) return [];
  const gemm = results.gemm.ok ? parseGemm(results.gemm.output) : null;
  const rows = gemm?.rows.filter((r) => r.label.startsWith('W5 ')) ?? [];
  const text = (label) => `wasm only, GEMM ${label}: ≥ ${W5_GEMM_PEAK_FRACTION * 100}% of the 2-thread peak (relaxed FMA where present)`;
  const unjudged = (label, reason) => ({ id: 'W5', text: text(label), status: 'n/a', reason, need: W5_GEMM_PEAK_FRACTION, gemm: true });
  if (rows.length === 0) return [unjudged('products', 'GEMM cell missing or failed')];
  return rows.map((r) => {
    const v = W5_GEMM_COLUMNS.map((column) => r.values.find((x) => x.column === column)).find(Boolean);
    if (!v) return unjudged(r.label, 'no 2-thread wasm column');
    const ratio = v.percentOfPeak / 100;
    return {
      id: 'W5', text: text(r.label), ratio, need: W5_GEMM_PEAK_FRACTION, status: ratio >= W5_GEMM_PEAK_FRACTION ? 'met' : 'not met',
      gemm: true, gflops: v.gflops, column: v.column,
    };
  });
}

export function formatNumber(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.01) return x.toFixed(3);
  return x.toPrecision(2);
}

export const formatPercent = (fraction) => `${Math.round(fraction * 100)}%`;
export const formatRatio = (r) => (r === null || r === undefined ? '–' : `${formatNumber(r)}×`);
export const mb = (bytes) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(0)} MB`);

/** Columns padded to one width; `right` lists the columns (numbers) aligned right. */
function pad(rows, right) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((v, i) => (right.includes(i) ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** The terminal table: one block per workload, then the targets and the memory line. */
/**
 * What batch-1 generation (W4) can reach at best on our threads: every weight is read once per token
 * for one multiply-add, so a token takes at least its weights' streaming time (bench/gemm.mjs's row
 * of W4's weights as one GEMV, on the same threads) and its arithmetic at the f32x4 mul+add peak.
 * Null where this run lacks the GEMM row or a TF.js W4 figure.
 */
export function w4Bound(results) {
  const gemm = results.gemm?.ok ? parseGemm(results.gemm.output) : null;
  const row = gemm?.rows.find((r) => r.label === W4_STREAM_LABEL);
  const ok = (key) => results.cells.find((c) => c.workload === 'W4' && `${c.lib}/${c.variant}` === key && c.ok);
  const tfjs = ['tfjs/wasm', 'tfjs/cpu'].map(ok).filter(Boolean).reduce((a, b) => (!a || b.rate > a.rate ? b : a), null);
  const ours = ok(OURS);
  const threads = ours?.threads ?? 2;
  const stream = row?.values.find((v) => v.column === `wasm, ${threads} thread${threads === 1 ? '' : 's'}`);
  if (!gemm?.peakGflops || !stream || !tfjs) return null;
  const { flops, bytes } = w4TokenCost();
  const streaming = (stream.gflops * 1e9) / flops;
  const arithmetic = (threads * gemm.peakGflops * 1e9) / flops;
  return {
    flops, bytes, threads, streamGflops: stream.gflops, streamGBps: (stream.gflops * bytes) / flops, peakGflops: gemm.peakGflops,
    streaming, arithmetic, bound: Math.min(streaming, arithmetic), tfjs: tfjs.rate, tfjsKey: `${tfjs.lib}/${tfjs.variant}`,
    ours: ours?.rate ?? null, needed: 10 * tfjs.rate,
  };
}

/** One line on W4's bound for the text report and the targets table. */
export function w4BoundNote(b) {
  return `W4 bound at batch 1 on ${b.threads} threads: ${formatNumber(b.bound)} tok/s (${formatRatio(b.bound / b.tfjs)} TF.js), ` +
    `from its weights streaming at ${formatNumber(b.streamGBps)} GB/s; 10× TF.js needs ${formatNumber(b.needed)} tok/s`;
}

export function textReport(results) {
  const lines = [];
  for (const id of results.workloads) {
    const w = WORKLOADS[id];
    lines.push('', `${id} ${w.title}: ${w.what}`);
    const head = ['library', w.unit, ...(id === 'W1' ? ['steps/s'] : []), ...(id === 'W5' ? ['GFLOPS'] : []), 'ours ÷ it', 'peak RSS', ''];
    const rows = workloadRows(results, id).map((r) => r.error
      ? [r.name, 'failed', ...(id === 'W1' || id === 'W5' ? [''] : []), '', '', r.error.slice(0, 60)]
      : [
        r.name, formatNumber(r.figure), ...(id === 'W1' ? [formatNumber(r.stepsPerSecond)] : []), ...(id === 'W5' ? [formatNumber(r.gflops)] : []),
        formatRatio(r.ratio), mb(r.peakRss), r.cell.short ? 'short sample' : '',
      ]);
    lines.push(pad([head, ...rows], head.map((_, i) => i).slice(1, -1)));
  }
  const targets = evaluateTargets(results);
  if (targets.length) {
    lines.push('', 'Targets (ours = the cell each target names: native BLAS or wasm only):');
    lines.push(pad([
      ['workload', 'target', 'ratio', 'status', 'against'],
      ...targets.map((t) => [
        t.id, t.text, t.ratio === undefined ? '–' : t.gemm ? formatPercent(t.ratio) : formatRatio(t.ratio), t.status,
        t.reason ?? (t.gemm ? `${t.column} ceiling` : t.peerKey ? `${LIBRARIES[t.peerKey] ?? t.peerKey}${t.shortSample ? ' (short sample)' : ''}` : ''),
      ]),
    ], [2]));
  }
  const bound = w4Bound(results);
  if (bound) lines.push('', `${w4BoundNote(bound)} (docs/performance.md, "W4's bound").`);
  for (const m of results.memory ?? []) {
    if (!m.ok) {
      lines.push('', `memory (${m.variant}): failed: ${m.error}`);
      continue;
    }
    lines.push('', `W1 memory (${m.variant}): need ${mb(m.need.total)} (params ${mb(m.need.parts.parameters)}, grads ${mb(m.need.parts.gradients)}, Adam ${mb(m.need.parts.adamState)}, BPTT activations ${mb(m.need.parts.activations)}); ` +
      `RSS growth in a warmed-up step ${mb(m.stepGrowth)} (${formatRatio(m.stepRatio)}); footprint from before the model ${mb(m.footprint)} (${formatRatio(m.footprintRatio)}); ` +
      `wasm heap ${m.wasmHeap ? `${mb(m.wasmHeap.used)} used, ${mb(m.wasmHeap.memoryBytes)} memory` : 'n/a (js backend)'}`);
  }
  if (results.gemm) {
    lines.push('', results.gemm.ok ? `GEMM (bench/gemm.mjs):\n${results.gemm.output.trim()}` : `GEMM: failed: ${results.gemm.error}`);
  }
  return lines.join('\n');
}

/**
 * Picks the figures out of gemm.mjs's printed table, whatever its columns: a header line starting
 * with "shape" names them, and each row has one "X GFLOPS P%" pair per column.
 */
export function parseGemm(text) {
  const peak = /peak:\s*([\d.]+)\s*GFLOPS/.exec(text);
  const lines = text.split('\n');
  const header = lines.find((l) => /^shape\s/.test(l));
  const columns = header ? header.trim().split(/\s{2,}/).slice(1) : [];
  const rows = [];
  for (const line of lines) {
    const pairs = [...line.matchAll(/([\d.]+) GFLOPS\s+(\d+)%/g)];
    if (pairs.length === 0) continue;
    rows.push({
      label: line.slice(0, pairs[0].index).trim(),
      values: pairs.map((m, i) => ({ column: columns[i] ?? `column ${i + 1}`, gflops: +m[1], percentOfPeak: +m[2] })),
    });
  }
  return { peakGflops: peak ? +peak[1] : null, peakLine: peak ? lines.find((l) => l.includes(peak[0])).trim() : null, rows };
}

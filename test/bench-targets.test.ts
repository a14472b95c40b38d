// How the bench judges its targets (bench/summary.mjs): from a run's cells to met / not met, on
// made-up results, so a change to the rules shows here rather than in a 40-minute run.
import assert from 'node:assert/strict';
import { test } from 'node:test';

// A variable specifier: the bench is plain JavaScript outside the typed sources.
const summaryPath = '../bench/summary.mjs';
const workloadsPath = '../bench/workloads.mjs';
const { evaluateTargets, gemmTargets, w4Bound } = await import(summaryPath);
const { W4_STREAM_LABEL, w4TokenCost } = await import(workloadsPath);

interface Target { id: string; text: string; status: string; ratio?: number; column?: string; peerKey?: string }

const cell = (workload: string, key: string, rate: number) => {
  const [lib, variant] = key.split('/');
  return { workload, lib, variant, ok: true, rate, threads: 2 };
};

/** gemm.mjs's printed table, as the bench stores it. */
function gemmOutput(columns: string[], rows: [string, ...number[]][]): string {
  const head = `shape${' '.repeat(50)}${columns.map((c) => c.padEnd(24)).join('')}`;
  const lines = rows.map(([label, ...pct]) => `${label.padEnd(55)}${pct.map((p) => `${(p / 2).toFixed(2)} GFLOPS  ${p}%`.padEnd(24)).join('')}`);
  return ['wasm f32x4 mul+add peak: 50.0 GFLOPS per thread', '', head, ...lines].join('\n');
}

const find = (targets: Target[], id: string, text: string): Target => {
  const t = targets.find((x) => x.id === id && x.text.includes(text));
  assert.ok(t, `no ${id} target "${text}"`);
  return t;
};

test('a target compares our named cell with the best of its peers, and says met only at the needed ratio', () => {
  const results = {
    workloads: ['W1', 'W4'],
    cells: [
      cell('W1', 'recurrent/native', 20_000), cell('W1', 'recurrent/wasm', 13_000),
      cell('W1', 'pytorch/1t', 19_000), cell('W1', 'pytorch/2t', 21_000), cell('W1', 'tfjs/wasm', 100), cell('W1', 'brain/js', 90),
      cell('W4', 'recurrent/wasm', 9_000), cell('W4', 'recurrent/wasm-int8', 20_000), cell('W4', 'tfjs/wasm', 1_900), cell('W4', 'tfjs/cpu', 120),
    ],
    memory: [],
  };
  const targets: Target[] = evaluateTargets(results);
  const native = find(targets, 'W1', 'native BLAS');
  assert.equal(native.peerKey, 'pytorch/2t', 'judged against the faster PyTorch');
  assert.ok(Math.abs(native.ratio! - 20 / 21) < 1e-12);
  assert.equal(native.status, 'not met');
  const wasm = find(targets, 'W1', '0.7× PyTorch');
  assert.ok(Math.abs(wasm.ratio! - 13 / 21) < 1e-12);
  assert.equal(wasm.status, 'not met');
  assert.equal(find(targets, 'W1', '10× TF.js').status, 'met');
  assert.equal(find(targets, 'W4', "wasm only: ≥ 10× TF.js").status, 'not met');
  assert.equal(find(targets, 'W4', 'int8').status, 'met');
  // A target whose peer did not run is not counted as met.
  assert.equal(find(targets, 'W4', 'onnxruntime').status, 'n/a');
  assert.equal(find(targets, 'W1', 'memory').status, 'n/a');
});

test('the W5 GEMM target reads the relaxed column where it ran, else the plain one, at 80% of its ceiling', () => {
  const rows: [string, ...number[]][] = [
    ['square 256', 90, 90, 90, 90],
    ['W5 input projection [3200x256]x[256x2048]', 81, 78, 85, 82],
    ['W5 backward dW_hh = dG^T H [2048x3200]x[3200x512]', 82, 79, 83, 79],
  ];
  const withRelaxed = { workloads: ['W5'], cells: [], gemm: { ok: true, output: gemmOutput(['wasm, 1 thread', 'wasm, 2 threads', 'relaxed, 1 thread', 'relaxed, 2 threads'], rows) } };
  const relaxed: Target[] = gemmTargets(withRelaxed);
  assert.deepEqual(relaxed.map((t) => [t.column, t.ratio, t.status]), [['relaxed, 2 threads', 0.82, 'met'], ['relaxed, 2 threads', 0.79, 'not met']]);
  const plainRows = rows.map(([label, a, b]) => [label, a, b] as [string, number, number]);
  const plainOnly = { workloads: ['W5'], cells: [], gemm: { ok: true, output: gemmOutput(['wasm, 1 thread', 'wasm, 2 threads'], plainRows) } };
  assert.deepEqual(gemmTargets(plainOnly).map((t: Target) => [t.column, t.ratio, t.status]), [['wasm, 2 threads', 0.78, 'not met'], ['wasm, 2 threads', 0.79, 'not met']]);
  const failed: Target[] = gemmTargets({ workloads: ['W5'], cells: [], gemm: { ok: false, error: 'crashed' } });
  assert.deepEqual(failed.map((t) => t.status), ['n/a']);
  assert.deepEqual(gemmTargets({ workloads: ['W1'], cells: [], gemm: withRelaxed.gemm }), []);
});

test("W4's bound comes from the GEMM row of its weights and the faster TF.js backend", () => {
  const results = {
    workloads: ['W4'],
    cells: [cell('W4', 'recurrent/wasm', 9_000), cell('W4', 'tfjs/wasm', 1_500), cell('W4', 'tfjs/cpu', 2_000)],
    gemm: { ok: true, output: gemmOutput(['wasm, 1 thread', 'wasm, 2 threads'], [[W4_STREAM_LABEL, 60, 160]]) },
  };
  const bound = w4Bound(results);
  assert.ok(bound, 'a bound');
  assert.equal(bound.tfjsKey, 'tfjs/cpu');
  assert.equal(bound.needed, 20_000);
  assert.equal(bound.streamGflops, 80);
  // 80 GFLOPS over the token's flops (2 per weight).
  assert.ok(Math.abs(bound.streaming - 80e9 / w4TokenCost().flops) < 1e-6);
  assert.ok(bound.bound <= bound.streaming && bound.bound <= bound.arithmetic);
});

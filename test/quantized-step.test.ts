// Quantized generation (`stepper({ quantize: 'int8' })`): the int8 rule, the wasm kernel against the
// TypeScript reference, how far stepping moves from the float stepper, thread-count independence,
// what a trained text model loses in bits per character, and the errors for what it does not cover.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTextFile, shippedDataPath } from '../src/data/files.js';
import { kernelsFor } from '../src/kernels/index.js';
import { INT8_LEVELS, quantizeRow, roundHalfEven } from '../src/kernels/quantize.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { GRU, LSTM, RNN } from '../src/nn/index.js';
import { createTextTask, generateText, ModelStepper, steppedBitsPerCharacter, train, type TextOptions } from '../src/tasks/index.js';
import { Generator, randn } from '../src/tensor/index.js';
import '../src/ops/index.js';
import { backends, onBackend } from './helpers/backends.js';

/** Largest |a - b| over two runs of steps. */
const maxAbsDiff = (a: Float32Array[], b: Float32Array[]): number =>
  Math.max(...a.map((row, t) => Math.max(...row.map((v, i) => Math.abs(v - b[t]![i]!)))));

type Layer = LSTM | GRU | RNN;
const layers: { name: string; make: () => Layer }[] = [
  { name: 'LSTM 2 layers', make: () => new LSTM({ inputSize: 7, hiddenSize: 17, numLayers: 2, generator: new Generator(1) }) },
  { name: 'LSTM hidden 1, no bias', make: () => new LSTM({ inputSize: 3, hiddenSize: 1, bias: false, generator: new Generator(1) }) },
  { name: 'LSTM with peepholes', make: () => new LSTM({ inputSize: 7, hiddenSize: 5, numLayers: 2, peephole: true, generator: new Generator(1) }) },
  { name: 'GRU 2 layers', make: () => new GRU({ inputSize: 7, hiddenSize: 9, numLayers: 2, generator: new Generator(1) }) },
  { name: 'RNN relu', make: () => new RNN({ inputSize: 7, hiddenSize: 4, nonlinearity: 'relu', generator: new Generator(1) }) },
  { name: 'RNN sigmoid', make: () => new RNN({ inputSize: 7, hiddenSize: 6, nonlinearity: 'sigmoid', generator: new Generator(1) }) },
];

/** `steps` outputs of a new stepper over the same seeded inputs (dense rows, or token indices). */
function stepOutputs(layer: Layer, options: { batch: number; tokens: boolean; quantize?: 'int8' }, steps: number): Float32Array[] {
  const stepper = layer.stepper(options);
  const random = new Generator(3);
  const out: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const x = options.tokens
      ? Array.from({ length: options.batch }, () => Math.floor(random.uniform() * layer.inputSize))
      : randn([options.batch, layer.inputSize], { generator: random }).data;
    out.push(stepper.step(x).data as Float32Array);
  }
  stepper.dispose();
  return out;
}

test('int8 rule: |w - q·scale| ≤ scale/2 per row, the largest value maps to ±127, ties go to even, zero and non-finite rows', () => {
  const random = new Generator(7);
  for (let r = 0; r < 20; r++) {
    const n = 1 + Math.floor(random.uniform() * 300);
    const spread = 10 ** (random.uniform() * 6 - 3);
    const w = randn([n], { generator: random }).data.map((v) => v * spread);
    const q = new Int8Array(n);
    const scale = quantizeRow(w, 0, n, q, 0);
    const max = Math.max(...w.map(Math.abs));
    assert.equal(scale, Math.fround(max / INT8_LEVELS));
    assert.equal(Math.max(...q.map(Math.abs)), INT8_LEVELS, 'the largest magnitude uses the whole range');
    for (let i = 0; i < n; i++) {
      // Half a step, plus the float32 rounding of the scale and of w * (127 / max).
      assert.ok(Math.abs(w[i]! - q[i]! * scale) <= scale * (0.5 + 1e-5), `row ${r} element ${i}: ${w[i]} vs ${q[i]} × ${scale}`);
    }
  }
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3]);
  const ties = new Int8Array(4);
  quantizeRow(Float32Array.of(127, 2.5, -3.5, 0.5), 0, 4, ties, 0);
  assert.deepEqual([...ties], [127, 2, -4, 0]);
  const zero = new Int8Array(3).fill(9);
  assert.equal(quantizeRow(new Float32Array(3), 0, 3, zero, 0), 0);
  assert.deepEqual([...zero], [0, 0, 0]);
  assert.ok(Number.isNaN(quantizeRow(Float32Array.of(1, NaN), 0, 2, zero, 0)));
  assert.ok(Number.isNaN(quantizeRow(Float32Array.of(1, -Infinity), 0, 2, zero, 0)));
});

test('wasm quantizeRows gives the reference\'s integers and scales, bit for bit, with zero padding', { skip: !backends.includes('wasm') }, () => {
  const k = kernelsFor('float32') as WasmKernels;
  // Ties and a NaN near the start of a row (n 13) and near its end (n 37), where a kernel that takes
  // several lanes at a time would run its one-at-a-time tail.
  for (const [rows, n, stride, at] of [[5, 13, 16, 0], [4, 37, 40, 33], [6, 517, 520, 200]] as const) {
    const random = new Generator(2);
    const src = randn([rows, n], { generator: random }).data;
    src.set([127, 2.5, -3.5, 0.5], at); // ties at scale 1
    src.fill(0, n, 2 * n); // a zero row
    src[3 * n + (at === 0 ? 4 : n - 1)] = NaN; // a non-finite row
    if (rows > 4) src[4 * n + 5] = -Infinity; // another, inside the lanes taken four at a time
    if (rows > 5) src.set([-0, 0.5 / 127, -1.5 / 127, 1e-30], 5 * n + 8); // signed zero and small values, inside the lanes taken eight at a time
    const heap = k.heap;
    const s = heap.alloc(rows * n * 4), d = heap.alloc(rows * stride * 2), sc = heap.alloc(rows * 4);
    new Float32Array(heap.memory.buffer, s, rows * n).set(src);
    new Int16Array(heap.memory.buffer, d, rows * stride).fill(99);
    k.exports.quantizeRows(rows, n, stride, s, d, sc);
    const got = new Int16Array(heap.memory.buffer, d, rows * stride);
    const scales = new Float32Array(heap.memory.buffer, sc, rows);
    for (let r = 0; r < rows; r++) {
      const want = new Int16Array(stride);
      const scale = quantizeRow(src, r * n, n, want, 0);
      assert.ok(Object.is(scales[r], scale) || (Number.isNaN(scales[r]) && Number.isNaN(scale)), `n ${n} row ${r} scale ${scales[r]} vs ${scale}`);
      assert.deepEqual([...got.subarray(r * stride, (r + 1) * stride)], [...want], `n ${n} row ${r}`);
    }
    assert.deepEqual([...got.subarray(at, at + 4)], [127, 2, -4, 0], `n ${n}: ties to even`);
    heap.release(s, rows * n * 4);
    heap.release(d, rows * stride * 2);
    heap.release(sc, rows * 4);
  }
});

for (const { name, make } of layers) {
  test(`${name}: the wasm quantized step agrees with the TypeScript reference (≤ 1e-6), dense and tokens, batch 1 and 3`, { skip: !backends.includes('wasm') }, () => {
    for (const batch of [1, 3]) {
      for (const tokens of [false, true]) {
        const layer = make();
        const js = onBackendValue('js', () => stepOutputs(layer, { batch, tokens, quantize: 'int8' }, 6));
        const wasm = onBackendValue('wasm', () => stepOutputs(layer, { batch, tokens, quantize: 'int8' }, 6));
        const diff = maxAbsDiff(wasm, js);
        // The pre-activations are the same bits; only the nonlinearities' exp and tanh differ.
        assert.ok(diff <= 1e-6, `batch ${batch}, tokens ${tokens}: max |wasm - js| = ${diff}`);
      }
    }
  });
}

test('the wasm quantized step sums long rows exactly: k 2100 (two runs of 2048 columns) at the largest products, as the reference', { skip: !backends.includes('wasm') }, () => {
  // Every product is 127 × 127 in row 0 of batch row 0 (weights and inputs of one sign pattern at
  // their rows' largest magnitude), so its sum, 2100 × 16129, is past what one 2048-column run of
  // the kernel's scaled lanes may hold; relu passes the pre-activation through unchanged.
  const k = 2100;
  const layer = new RNN({ inputSize: k, hiddenSize: 3, nonlinearity: 'relu', generator: new Generator(5) });
  const sign = Array.from({ length: k }, (_, j) => ((j * 7919) % 3 === 0 ? -1 : 1));
  const p = layer.stateDict();
  const random = new Generator(8);
  const noise = randn([3 * k], { generator: random }).data;
  p['weight_ih_l0']!.data.set(noise.map((v, i) => (i < k ? sign[i]! * 0.01 : v * 0.01)));
  p['bias_ih_l0']!.data.fill(0);
  p['bias_hh_l0']!.data.fill(0);
  const x = Float32Array.from([...sign, ...randn([k], { generator: random }).data]);
  const run = (backend: 'js' | 'wasm', quantize?: 'int8') => onBackendValue(backend, () => {
    const stepper = layer.stepper({ batch: 2, tokens: false, ...(quantize ? { quantize } : {}) });
    const out = Float32Array.from(stepper.step(x).data);
    stepper.dispose();
    return out;
  });
  const wasm = run('wasm', 'int8'), js = run('js', 'int8'), float = run('js');
  assert.deepEqual([...wasm], [...js]);
  // (2100 × 127 × 127) × (0.01 / 127) × (1 / 127): the float sum, 21.
  assert.ok(Math.abs(wasm[0]! - 21) < 1e-4 && Math.abs(float[0]! - 21) < 1e-4, `row 0: int8 ${wasm[0]}, float ${float[0]}`);
  for (let i = 1; i < 6; i++) assert.ok(Math.abs(wasm[i]! - float[i]!) < 0.05, `output ${i}: int8 ${wasm[i]}, float ${float[i]}`);
});

/** fn's value with `backend` selected. */
function onBackendValue<T>(backend: 'js' | 'wasm', fn: () => T): T {
  let value: T | undefined;
  onBackend(backend, () => {
    value = fn();
  })();
  return value!;
}

for (const backend of backends) {
  test(`${backend}: stepping on int8 weights stays within 0.02 of the float stepper over 30 steps (LSTM 2×64, GRU 64)`, onBackend(backend, () => {
    for (const layer of [
      new LSTM({ inputSize: 20, hiddenSize: 64, numLayers: 2, generator: new Generator(4) }),
      new GRU({ inputSize: 20, hiddenSize: 64, generator: new Generator(4) }),
    ]) {
      for (const tokens of [false, true]) {
        const float = stepOutputs(layer, { batch: 2, tokens }, 30);
        const int8 = stepOutputs(layer, { batch: 2, tokens, quantize: 'int8' }, 30);
        const diff = maxAbsDiff(int8, float);
        assert.ok(diff < 0.02, `${layer.constructor.name} tokens ${tokens}: max |int8 - float| = ${diff}`);
        assert.ok(diff > 0, 'quantized stepping is not the float path');
      }
    }
  }));
}

test('the quantized W4 shape (LSTM 65 -> 512, 2 layers, tokens) gives the same bits on 1 and 2 threads', { skip: !backends.includes('wasm') }, async () => {
  const k = kernelsFor('float32') as WasmKernels;
  if (k.name !== 'wasm' || !k.shared) return;
  const layer = new LSTM({ inputSize: 65, hiddenSize: 512, numLayers: 2, generator: new Generator(6) });
  const one = stepOutputs(layer, { batch: 1, tokens: true, quantize: 'int8' }, 5);
  await k.setThreads(2);
  k.adaptiveThreads = false;
  try {
    // A helper that the system has not run yet may wake after the caller took every chunk: step
    // again (each time the same bits) until it took part, for up to 10 s.
    const before = k.helperChunks;
    const deadline = performance.now() + 10_000;
    do {
      const two = stepOutputs(layer, { batch: 1, tokens: true, quantize: 'int8' }, 5);
      assert.deepEqual(two.map((r) => [...r]), one.map((r) => [...r]));
    } while (k.helperChunks === before && performance.now() < deadline);
    assert.ok(k.helperChunks > before, 'the helper thread computed no chunk of the quantized step');
  } finally {
    await k.setThreads(1);
    k.adaptiveThreads = true;
  }
});

// 40 kB of Austen, as in tasks-text.test.ts: a model trained for a few steps predicts far better
// than uniform, so the comparison is on weights that learned something.
const AUSTEN = readTextFile(shippedDataPath('text/austen-persuasion.txt')).slice(0, 40_000);

test('a trained text model loses little to int8 generation: bits per character within 0.01, logits within 0.05', async () => {
  const options: TextOptions = {
    training: { seed: 3, optimizer: 'adam', lr: 0.01, clip: 5, batch: 4, seqLen: 32, valSplit: 0.1 },
    model: { cell: 'lstm', hiddenSize: 64, numLayers: 2, dropout: 0, bidirectional: false },
    embedding: 0,
  };
  const task = createTextTask(options, AUSTEN, 'austen');
  await train(task, { steps: 80, clip: 5 });
  const held = AUSTEN.slice(-1_500);
  const float = steppedBitsPerCharacter(task.model, task.vocabulary, held);
  const int8 = steppedBitsPerCharacter(task.model, task.vocabulary, held, { quantize: 'int8' });
  assert.ok(float.bpc < Math.log2(task.vocabulary.size) - 1, `trained: ${float.bpc} bpc`);
  let maxAbs = 0;
  for (let i = 0; i < float.logits.length; i++) maxAbs = Math.max(maxAbs, Math.abs(int8.logits[i]! - float.logits[i]!));
  assert.ok(Math.abs(int8.bpc - float.bpc) < 0.01, `bpc float ${float.bpc}, int8 ${int8.bpc}`);
  assert.ok(maxAbs < 0.05 && maxAbs > 0, `max |logit difference| ${maxAbs}`);
  // Generation takes the option through ModelStepper: greedy (temperature 0) text from the same prime.
  const sample = (quantize?: 'int8') => generateText(task.model, task.vocabulary, { prime: 'Anne', length: 40, temperature: 0, topK: 0, seed: 1, ...(quantize ? { quantize } : {}) });
  const greedy = sample('int8');
  assert.equal(greedy.length, 44);
  assert.ok(greedy.startsWith('Anne'));
  // The largest logit difference above is far below the gaps greedy decoding usually turns on.
  assert.equal(greedy, sample(), 'greedy int8 text is the float text here');
});

test('ModelStepper refuses quantize on a bidirectional model', () => {
  const task = createTextTask({
    training: { seed: 1, optimizer: 'adam', lr: 0.01, clip: 5, batch: 2, seqLen: 16, valSplit: 0.1 },
    model: { cell: 'lstm', hiddenSize: 8, numLayers: 1, dropout: 0, bidirectional: true }, embedding: 0,
  }, AUSTEN.slice(0, 2_000), 'austen');
  assert.throws(() => new ModelStepper(task.model, { quantize: 'int8' }), /ModelStepper: quantize needs a unidirectional model/);
});

test('quantize: bad values, float64, projections and non-finite weights get clear errors', () => {
  const layer = new LSTM({ inputSize: 4, hiddenSize: 3 });
  assert.throws(() => layer.stepper({ quantize: 'int4' as 'int8' }), /LSTM.stepper: quantize must be 'int8' \(or left out for float weights\), got "int4"/);
  assert.throws(() => layer.stepper({ quantize: true as unknown as 'int8' }), /quantize must be 'int8'/);
  assert.throws(() => layer.stepper({ quantise: 'int8' } as never), /quantize/);
  assert.throws(() => new LSTM({ inputSize: 4, hiddenSize: 3, dtype: 'float64' }).stepper({ quantize: 'int8' }), /runs float32 layers; this one is float64/);
  assert.throws(() => new LSTM({ inputSize: 4, hiddenSize: 6, projSize: 2 }).stepper({ quantize: 'int8' }), /does not cover LSTM projections \(projSize 2\)/);
  const broken = new LSTM({ inputSize: 4, hiddenSize: 3, numLayers: 2 });
  broken.stateDict()['weight_hh_l1']!.data[7] = NaN;
  assert.throws(() => broken.stepper({ quantize: 'int8' }), /LSTM.stepper: quantize: weight_hh_l1 row 2 holds a non-finite weight \(NaN at column 1\)/);
  assert.ok(layer.stepper({ quantize: 'int8' }).fast, 'a quantized stepper runs the quantized kernel');
});

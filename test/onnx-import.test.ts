// importOnnx beyond ONNX's own node tests: models exported by PyTorch (tools/make_onnx_fixtures.py)
// agree with PyTorch; our own exports agree with our forward; every attribute variant of the
// recurrent operators agrees with ONNX Runtime (a test peer); the fused and reference paths agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../src/ops/index.js';
import { exportOnnx, importOnnx } from '../src/interop/index.js';

import { Generator, nn, noGrad, randn, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { DOUBLE, INT64, modelBytes, type AttributeValue } from './helpers/onnx-graphs.js';
import { loadPeer } from './helpers/peers.js';
import { loadFixtureTensors } from './helpers/fixtures.js';
import { backends, onBackend } from './helpers/backends.js';
import type { DType } from '../src/kernels/index.js';
import { kernelCalls } from './helpers/kernel-calls.js';

const TORCH = fileURLToPath(new URL('./fixtures/onnx-torch/', import.meta.url));

for (const file of readdirSync(TORCH).filter((f) => f.endsWith('.onnx'))) {
  test(`importOnnx agrees with PyTorch on a torch.onnx.export model: ${file}`, () => {
    const model = importOnnx(new Uint8Array(readFileSync(`${TORCH}/${file}`)));
    const f = loadFixtureTensors(new Uint8Array(readFileSync(`${TORCH}/${file.replace('.onnx', '.safetensors')}`)));
    const feeds = Object.fromEntries(model.inputNames.map((n) => [n, f[`input.${n}`]!]));
    assert.deepEqual(Object.keys(feeds).sort(), Object.keys(f).filter((k) => k.startsWith('input.')).map((k) => k.slice(6)).sort());
    const got = model.run(feeds);
    assert.ok(model.outputNames.length >= 2);
    for (const n of model.outputNames) assertClose(got[n]!, f[`output.${n}`]!, 1e-5, 0, `${file} ${n}`);
  });
}

test('importOnnx runs what exportOnnx writes: the same outputs and states as our forward, on every layer kind', () => {
  const g = new Generator(3);
  const layers = [
    new nn.RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, nonlinearity: 'relu', generator: g }),
    // Our extension; ONNX's RNN takes Sigmoid, and the import runs it on the fused kernels.
    new nn.RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid', generator: g }),
    new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, generator: g }),
    new nn.LSTM({ inputSize: 3, hiddenSize: 4, peephole: true, batchFirst: true, generator: g }),
    new nn.GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, generator: g }),
  ];
  for (const m of layers) {
    const D = m.bidirectional ? 2 : 1;
    const x = randn([5, 2, 3], { generator: g });
    const h0 = randn([m.numLayers * D, m.batchFirst ? 5 : 2, 4], { generator: g }), c0 = randn(h0.shape, { generator: g });
    const imported = importOnnx(exportOnnx(m, x));
    const label = `${m.layerName} ${m.numLayers} layers${m.batchFirst ? ' batchFirst' : ''}`;
    if (m instanceof nn.LSTM) {
      assert.deepEqual(imported.inputNames, ['input', 'h0', 'c0']);
      const [y, [hn, cn]] = noGrad(() => m.forward(x, [h0, c0]));
      const got = imported.run({ input: x, h0, c0 });
      assertClose(got.output!, y, 1e-5, 0, `${label} output`);
      assertClose(got.hn!, hn, 1e-5, 0, `${label} hn`);
      assertClose(got.cn!, cn, 1e-5, 0, `${label} cn`);
    } else {
      const [y, hn] = noGrad(() => (m as nn.GRU).forward(x, h0));
      const got = imported.run({ input: x, h0 });
      assertClose(got.output!, y, 1e-5, 0, `${label} output`);
      assertClose(got.hn!, hn, 1e-5, 0, `${label} hn`);
    }
  }
});

// One recurrent node with random weights, the states as inputs.
interface NodeCase {
  op: 'RNN' | 'LSTM' | 'GRU';
  attributes?: Record<string, AttributeValue>;
  seqLens?: number[];
  peephole?: boolean;
  layout?: 0 | 1;
  /** float64 inputs and weights (ONNX DOUBLE); float32 otherwise. */
  dtype?: DType;
  /** GRU, linear_before_reset 0: the steps expected on the fused kernels (directions fused x steps). */
  fusedSteps?: number;
}

function recurrentModel(c: NodeCase, seed: number): { bytes: Uint8Array; feeds: Record<string, Tensor> } {
  const T = 5, B = 3, I = 2, H = 4;
  const G = c.op === 'LSTM' ? 4 : c.op === 'GRU' ? 3 : 1;
  const direction = (c.attributes?.direction as string | undefined) ?? 'forward';
  const D = direction === 'bidirectional' ? 2 : 1;
  const g = new Generator(seed);
  const dtype = c.dtype ?? 'float32';
  const rand = (shape: number[]): Tensor => randn(shape, { generator: g, std: 0.7, dtype });
  const layout = c.layout ?? 0;
  const feeds: Record<string, Tensor> = {
    X: rand(layout === 0 ? [T, B, I] : [B, T, I]), W: rand([D, G * H, I]), R: rand([D, G * H, H]), B: rand([D, 2 * G * H]),
    initial_h: rand(layout === 0 ? [D, B, H] : [B, D, H]),
  };
  if (c.seqLens) feeds.sequence_lens = tensor(c.seqLens, [B], { dtype: 'float64' });
  if (c.op === 'LSTM') feeds.initial_c = rand(feeds.initial_h!.shape as number[]);
  if (c.peephole) feeds.P = rand([D, 3 * H]);
  const names = ['X', 'W', 'R', 'B', c.seqLens ? 'sequence_lens' : '', 'initial_h', ...(c.op === 'LSTM' ? ['initial_c', c.peephole ? 'P' : ''] : [])];
  const outputs = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const bytes = modelBytes({
    nodes: [{ op: c.op, inputs: names, outputs, attributes: { hidden_size: H, ...(layout ? { layout } : {}), ...c.attributes } }],
    inputs: Object.keys(feeds).map((name) => ({ name, type: name === 'sequence_lens' ? onnxInt32 : dtype === 'float64' ? DOUBLE : undefined, shape: [...feeds[name]!.shape] })),
    outputs,
  });
  return { bytes, feeds };
}
const onnxInt32 = 6;

const nodeCases: [string, NodeCase][] = [
  ['RNN reverse', { op: 'RNN', attributes: { direction: 'reverse' } }],
  ['RNN LeakyRelu (alpha 0.3), bidirectional with Tanh backwards', { op: 'RNN', attributes: { direction: 'bidirectional', activations: ['LeakyRelu', 'Tanh'], activation_alpha: { floats: [0.3] } } }],
  ['RNN clip 0.5', { op: 'RNN', attributes: { clip: { float: 0.5 } } }],
  ['RNN sequence_lens', { op: 'RNN', seqLens: [5, 2, 3] }],
  ['LSTM peepholes bidirectional', { op: 'LSTM', peephole: true, attributes: { direction: 'bidirectional' } }],
  ['LSTM input_forget', { op: 'LSTM', attributes: { input_forget: 1 } }],
  ['LSTM clip 0.3 reverse', { op: 'LSTM', attributes: { clip: { float: 0.3 }, direction: 'reverse' } }],
  ['LSTM HardSigmoid (alpha, beta), ScaledTanh, Softsign', { op: 'LSTM', attributes: { activations: ['HardSigmoid', 'ScaledTanh', 'Softsign'], activation_alpha: { floats: [0.3, 0.8] }, activation_beta: { floats: [0.4, 1.2] } } }],
  ['LSTM sequence_lens bidirectional peepholes', { op: 'LSTM', peephole: true, seqLens: [1, 5, 3], attributes: { direction: 'bidirectional' } }],
  ['GRU linear_before_reset 0 bidirectional', { op: 'GRU', attributes: { direction: 'bidirectional' }, fusedSteps: 10 }],
  // ONNX Runtime's CPU kernels refuse layout 1: ONNX's test_gru_batchwise covers it.
  ['GRU linear_before_reset 0 reverse, sequence_lens', { op: 'GRU', seqLens: [3, 1, 5], attributes: { direction: 'reverse' }, fusedSteps: 5 }],
  ['GRU linear_before_reset 0 bidirectional, sequence_lens', { op: 'GRU', seqLens: [2, 4, 3], attributes: { direction: 'bidirectional' }, fusedSteps: 8 }],
  // Each direction picks its path: the forward one fused, the backward one (alpha/beta) the reference.
  ['GRU bidirectional, default activations forwards, HardSigmoid and Softsign backwards', {
    op: 'GRU', fusedSteps: 5,
    attributes: { direction: 'bidirectional', activations: ['Sigmoid', 'Tanh', 'HardSigmoid', 'Softsign'], activation_alpha: { floats: [0.25] }, activation_beta: { floats: [0.45] } },
  }],
  ['RNN bidirectional, Relu forwards and Tanh backwards', { op: 'RNN', attributes: { direction: 'bidirectional', activations: ['Relu', 'Tanh'] } }],
  ['GRU linear_before_reset 1 reverse', { op: 'GRU', attributes: { linear_before_reset: 1, direction: 'reverse' } }],
  ['GRU linear_before_reset 1 sequence_lens', { op: 'GRU', seqLens: [4, 5, 2], attributes: { linear_before_reset: 1 } }],
  ['GRU HardSigmoid (alpha, beta) and Softsign', { op: 'GRU', attributes: { activations: ['HardSigmoid', 'Softsign'], activation_alpha: { floats: [0.25] }, activation_beta: { floats: [0.45] } }, fusedSteps: 0 }],
  ['RNN Elu (alpha 0.5)', { op: 'RNN', attributes: { activations: ['Elu'], activation_alpha: { floats: [0.5] } } }],
  ['RNN Affine (alpha 0.5, beta 0.1)', { op: 'RNN', attributes: { activations: ['Affine'], activation_alpha: { floats: [0.5] }, activation_beta: { floats: [0.1] } } }],
  ['LSTM Sigmoid, Softplus, ThresholdedRelu (alpha 0.2)', { op: 'LSTM', attributes: { activations: ['Sigmoid', 'Softplus', 'ThresholdedRelu'], activation_alpha: { floats: [0.2] } } }],
];

interface OrtTensor { data: Float32Array | Int32Array; dims: readonly number[] }
interface Ort {
  Tensor: new (type: string, data: Float32Array | Int32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(bytes: Uint8Array): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }> };
}

for (const [i, [label, c]] of nodeCases.entries()) {
  test(`importOnnx ${label}: equals ONNX Runtime`, async () => {
    const ort = loadPeer<Ort>('onnxruntime-node');
    const { bytes, feeds } = recurrentModel(c, 40 + i);
    const session = await ort.InferenceSession.create(bytes);
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) =>
      [k, k === 'sequence_lens' ? new ort.Tensor('int32', Int32Array.from(t.data), [...t.shape]) : new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape])]));
    const expected = await session.run(ortFeeds);
    let got: Outputs = {};
    const fusedSteps = kernelCalls('float32', 'gruResetBeforeGates', () => (got = importOnnx(bytes).run(feeds)));
    if (c.fusedSteps !== undefined) assert.equal(fusedSteps, c.fusedSteps, `${label}: steps on the fused kernels`);
    for (const [name, want] of Object.entries(expected)) {
      assertClose(got[name]!, tensor(Float32Array.from(want.data), [...want.dims]), 1e-5, 0, `${label} ${name}`);
    }
  });
}

test('importOnnx: the fused path (PyTorch equations) and the reference path agree, layout 0 and 1, with and without sequence_lens', () => {
  // sequence_lens runs packed on the fused kernels: unsorted lengths, ties, a length-0 sequence.
  for (const seqLens of [undefined, [3, 5, 3], [2, 0, 5]]) {
    for (const op of ['RNN', 'LSTM', 'GRU'] as const) {
      for (const layout of [0, 1] as const) {
        const attributes = { direction: 'bidirectional', ...(op === 'GRU' ? { linear_before_reset: 1 } : {}) };
        const fused = recurrentModel({ op, layout, seqLens, peephole: op === 'LSTM', attributes }, 9);
        // A clip no value reaches changes nothing but sends the node to the reference path.
        const reference = recurrentModel({ op, layout, seqLens, peephole: op === 'LSTM', attributes: { ...attributes, clip: { float: 1e30 } } }, 9);
        const a = importOnnx(fused.bytes).run(fused.feeds), b = importOnnx(reference.bytes).run(reference.feeds);
        for (const name of Object.keys(a)) assertClose(a[name]!, b[name]!, 1e-5, 0, `${op} layout ${layout} lengths ${String(seqLens)} ${name}`);
      }
    }
  }
});

type Outputs = ReturnType<ReturnType<typeof importOnnx>['run']>;

for (const backend of backends) {
  test(`importOnnx: GRU linear_before_reset 0 runs on the fused kernels and agrees with the reference path (every direction and layout, sequence_lens, float32 and float64; ${backend} backend)`, onBackend(backend, () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const direction of ['forward', 'reverse', 'bidirectional']) {
        for (const layout of [0, 1] as const) {
          for (const seqLens of [undefined, [3, 5, 3], [2, 0, 4]]) {
            const label = `${dtype} ${direction} layout ${layout} lengths ${String(seqLens)}`;
            const fused = recurrentModel({ op: 'GRU', layout, seqLens, dtype, attributes: { direction } }, 9);
            // A clip no value reaches changes nothing but sends the node to the reference path.
            const reference = recurrentModel({ op: 'GRU', layout, seqLens, dtype, attributes: { direction, clip: { float: 1e30 } } }, 9);
            let a: Outputs = {}, b: Outputs = {};
            const fusedCalls = kernelCalls(dtype, 'gruResetBeforeGates', () => (a = importOnnx(fused.bytes).run(fused.feeds)));
            const referenceCalls = kernelCalls(dtype, 'gruResetBeforeGates', () => (b = importOnnx(reference.bytes).run(reference.feeds)));
            // One call per step and direction: the longest sequence's steps (5 without lengths).
            assert.equal(fusedCalls, (direction === 'bidirectional' ? 2 : 1) * (seqLens ? Math.max(...seqLens) : 5), `${label}: fused steps`);
            assert.equal(referenceCalls, 0, `${label}: the reference path runs no fused step`);
            for (const name of ['Y', 'Y_h']) {
              assert.equal(a[name]!.dtype, dtype);
              assertClose(a[name]!, b[name]!, dtype === 'float64' ? 1e-12 : 1e-5, 0, `${label} ${name}`);
            }
          }
        }
      }
    }
  }));
}

test('exportOnnx takes an nn.Sequential; importOnnx runs it; a parameter fed as an input is read safely', () => {
  const g = new Generator(12);
  const model = new nn.Sequential(new nn.Linear(3, 4, { generator: g }), new nn.Dropout(0.3), new nn.Linear(4, 2, { generator: g }));
  model.eval();
  const x = randn([2, 5, 3], { generator: g });
  const imported = importOnnx(exportOnnx(model, x));
  assertClose(imported.run({ input: x }).output!, noGrad(() => model.forward(x)), 1e-6, 0, 'Sequential');
  const lstm = new nn.LSTM({ inputSize: 1, hiddenSize: 2, generator: g });
  const weight = lstm.stateDict().weight_hh_l0!;
  const identity = importOnnx(modelBytes({ nodes: [{ op: 'Identity', inputs: ['w'], outputs: ['y'] }], inputs: [{ name: 'w', shape: [8, 2] }], outputs: ['y'] }));
  assert.deepEqual(Array.from(identity.run({ w: weight }).y!.data), Array.from(weight.data));
});

test('importOnnx: token ids feed an int64 input (an int32 index tensor or whole floats), and integer outputs come back as int32', () => {
  const bytes = modelBytes({
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'] }, { op: 'Shape', inputs: ['rows'], outputs: ['shape'] }],
    inputs: [{ name: 'ids', type: INT64, shape: ['n'] }],
    initializers: [{ name: 'table', shape: [3, 2], data: [0, 1, 10, 11, 20, 21] }],
    outputs: ['rows', 'shape'],
  });
  const m = importOnnx(bytes);
  assert.deepEqual(m.inputNames, ['ids']);
  const out = m.run({ ids: tensor([2, 0, -1]) });
  assert.deepEqual(Array.from(out.rows!.data), [20, 21, 0, 1, 20, 21]);
  assert.equal(out.shape!.dtype, 'int32');
  assert.deepEqual(Array.from(out.shape!.data), [3, 2]);
  const fromLong = m.run({ ids: tensor([2, 0, -1], undefined, { dtype: 'int64' }) });
  assert.deepEqual(Array.from(fromLong.rows!.data), [20, 21, 0, 1, 20, 21]);
  assert.throws(() => m.run({ ids: tensor([0.5]) }), /input 'ids' is int64: its values must be integers, found 0.5/);
});

test('OnnxModel.dispose frees the weights; run afterwards is an error, a second dispose does nothing', () => {
  const g = new Generator(21);
  const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, generator: g });
  const x = randn([5, 2, 3], { generator: g });
  const model = importOnnx(exportOnnx(lstm, x));
  const held = model as unknown as { initializers: Map<string, unknown> };
  assert.ok(held.initializers.size > 0);
  const zeros = tensor(new Float32Array(8), [1, 2, 4]);
  const before = model.run({ input: x, h0: zeros, c0: zeros });
  assertClose(before.output!, noGrad(() => lstm.forward(x)[0]), 1e-5, 0, 'before dispose');
  model.dispose();
  assert.equal(held.initializers.size, 0);
  assert.throws(() => model.run({ input: x, h0: zeros, c0: zeros }), /OnnxModel.run: the model was disposed \(import it again to run it\)/);
  model.dispose();
  assert.deepEqual(model.inputNames, ['input', 'h0', 'c0']);
});

// Bad ONNX input is a clear error, never a crash, a hang, a wrong answer or a giant allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import '../src/ops/index.js';
import { exportOnnx, importOnnx, readOnnxTensor } from '../src/interop/index.js';
import { onnx } from '../src/interop/onnx/proto.js';
import { Generator, nn, randn, tensor } from './helpers/api.js';
import { FLOAT, modelBytes } from './helpers/onnx-graphs.js';

const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, generator: new Generator(1) });
const good = exportOnnx(lstm, randn([2, 1, 3]));

const withInitializer = (tensorProto: object) => onnx.ModelProto.encode(onnx.ModelProto.create({
  irVersion: 7, opsetImport: [{ version: 14 }],
  graph: { node: [{ opType: 'Identity', input: ['w'], output: ['y'] }], initializer: [tensorProto], output: [{ name: 'y' }] },
})).finish();

test('truncated, empty, foreign and non-byte input: a clear error', () => {
  for (const cut of [1, 10, good.length >> 1, good.length - 3]) {
    assert.throws(() => importOnnx(good.subarray(0, cut)), /importOnnx: (not a valid ONNX model|the model has no graph|the model's opset)/, `cut at ${cut}`);
  }
  assert.throws(() => importOnnx(new Uint8Array(0)), /importOnnx: ONNX model \(ModelProto\) is empty/);
  assert.throws(() => importOnnx(new TextEncoder().encode('{"not": "onnx"}')), /importOnnx: /);
  assert.throws(() => importOnnx(readFileSync(new URL('./fixtures/lstm_1layer.safetensors', import.meta.url))), /importOnnx: /);
  assert.throws(() => importOnnx('model.onnx' as unknown as Uint8Array), /expected the bytes of ONNX model \(ModelProto\) as a Uint8Array, got string/);
  // Random bytes: whatever protobuf makes of them, the answer is an error that names importOnnx.
  const g = new Generator(5);
  for (let i = 0; i < 50; i++) {
    const bytes = Uint8Array.from(randn([64], { generator: g }).data, (v) => Math.floor((v + 4) * 32) & 255);
    assert.throws(() => importOnnx(bytes), /importOnnx: /);
  }
  assert.throws(() => readOnnxTensor(new Uint8Array([8, 2, 8])), /readOnnxTensor: not a valid TensorProto/);
});

test('a graph with a cycle, or an edge nobody produces: an error naming the nodes', () => {
  const cycle = modelBytes({
    nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['a'] }, { op: 'Mul', inputs: ['a', 'x'], outputs: ['b'] }],
    inputs: [{ name: 'x', shape: [2] }], outputs: ['b'],
  });
  assert.throws(() => importOnnx(cycle), /the graph has a cycle; these nodes wait on each other: node 0 \(Add 'n0'\), node 1 \(Mul 'n1'\)/);
  const self = modelBytes({ nodes: [{ op: 'Add', inputs: ['x', 'a'], outputs: ['a'] }], inputs: [{ name: 'x' }], outputs: ['a'] });
  assert.throws(() => importOnnx(self), /cycle/);
  const dangling = modelBytes({ nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['a'] }], inputs: [{ name: 'x' }], outputs: ['a'] });
  assert.throws(() => importOnnx(dangling), /node 0 \(Add 'n0'\) reads 'ghost', which no node, input or initializer provides/);
  const twice = modelBytes({ nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['a'] }, { op: 'Identity', inputs: ['x'], outputs: ['a'] }], inputs: [{ name: 'x' }], outputs: ['a'] });
  assert.throws(() => importOnnx(twice), /value 'a' is produced twice/);
});

test('tensors whose declared size does not match their data, and absurd dimensions', () => {
  const F = onnx.TensorProto.DataType.FLOAT;
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [2, 3], dataType: F, floatData: [1, 2, 3, 4, 5] })),
    /initializer 'w': shape \[2, 3\] declares 6 FLOAT values, the tensor holds 5/);
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [2, 3], dataType: F, rawData: new Uint8Array(20) })),
    /initializer 'w': shape \[2, 3\] needs 24 bytes of FLOAT data, got 20/);
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [1e9, 1e9], dataType: F, rawData: new Uint8Array(8) })),
    /initializer 'w': shape \[1000000000, 1000000000\] has more than 268435456 elements/);
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [-4], dataType: F })), /dimension -4 in shape \[-4\] is not a non-negative integer/);
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [2], dataType: onnx.TensorProto.DataType.STRING })), /element type STRING is not supported/);
  assert.throws(() => importOnnx(withInitializer({ name: 'w', dims: [2], dataType: F, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL })),
    /external data .* is not supported/);
  // A shape computed at run time is checked before anything of that size is allocated.
  const huge = modelBytes({ nodes: [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] }], inputs: [{ name: 'shape', type: onnx.TensorProto.DataType.INT64 }], outputs: ['y'] });
  assert.throws(() => importOnnx(huge).run({ shape: tensor([1e6, 1e6, 1e6]) }), /has more than 268435456 elements/);
  const tensorBytes = onnx.TensorProto.encode({ dims: [3], dataType: F, floatData: [1, 2] }).finish();
  assert.throws(() => readOnnxTensor(tensorBytes), /readOnnxTensor: shape \[3\] declares 3 FLOAT values, the tensor holds 2/);
});

test('unsupported operators and attributes are errors naming them; feeds are checked', () => {
  const conv = modelBytes({ nodes: [{ op: 'Conv', inputs: ['x', 'x'], outputs: ['y'] }], inputs: [{ name: 'x' }], outputs: ['y'] });
  assert.throws(() => importOnnx(conv), /node 0 \(Conv 'n0'\): operator Conv is not supported \(supported: Add, Cast/);
  const odd = modelBytes({
    nodes: [{ op: 'GRU', inputs: ['x', 'w', 'r'], outputs: ['y'], attributes: { hidden_size: 2, zoneout: 1 } }],
    inputs: [{ name: 'x' }, { name: 'w' }, { name: 'r' }], outputs: ['y'],
  });
  assert.throws(() => importOnnx(odd), /GRU 'n0'\): attribute 'zoneout' is not supported \(supported: activation_alpha/);
  const badActivation = modelBytes({
    nodes: [{ op: 'RNN', inputs: ['x', 'w', 'r'], outputs: ['y'], attributes: { hidden_size: 2, activations: ['Gelu'] } }],
    inputs: [{ name: 'x', shape: [1, 1, 1] }, { name: 'w', shape: [1, 2, 1] }, { name: 'r', shape: [1, 2, 2] }], outputs: ['y'],
  });
  assert.throws(() => importOnnx(badActivation).run({ x: randn([1, 1, 1]), w: randn([1, 2, 1]), r: randn([1, 2, 2]) }), /activation 'Gelu' is not supported/);
  assert.throws(() => importOnnx(modelBytes({ nodes: [], inputs: [{ name: 'x' }], outputs: ['x'], opset: 3 })), /opset is 3; this importer reads opsets 7 to 21/);

  const m = importOnnx(good);
  assert.throws(() => m.run({ input: randn([2, 1, 3]), h0: randn([1, 1, 4]) }), /input 'c0' is missing/);
  assert.throws(() => m.run({ input: randn([2, 1, 5]), h0: randn([1, 1, 4]), c0: randn([1, 1, 4]) }), /input 'input' must be \[2, 1, 3\], got \[2, 1, 5\]/);
  assert.throws(() => m.run({ input: randn([2, 1, 3]), h0: randn([1, 1, 4]), c0: randn([1, 1, 4]), extra: randn([1]) }), /'extra' is not an input of this model/);
  const shapeless = modelBytes({
    nodes: [{ op: 'LSTM', inputs: ['x', 'w', 'r'], outputs: ['y'], attributes: { hidden_size: 4 } }],
    inputs: [{ name: 'x', type: FLOAT }, { name: 'w', type: FLOAT }, { name: 'r', type: FLOAT }], outputs: ['y'],
  });
  assert.throws(() => importOnnx(shapeless).run({ x: randn([2, 1, 3]), w: randn([1, 16, 2]), r: randn([1, 16, 4]) }), /W must be \[1, 16, 3\], got \[1, 16, 2\]/);
});

test('a recurrent node over no data: X [1e9, 0, I] returns at once, X [0, B, I] keeps the initial state', () => {
  for (const op of ['RNN', 'LSTM', 'GRU'] as const) {
    const G = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
    const outputs = op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
    const inputs = op === 'LSTM' ? ['x', 'w', 'r', '', '', 'h0', 'c0'] : ['x', 'w', 'r', '', '', 'h0'];
    const model = importOnnx(modelBytes({
      nodes: [{ op, inputs, outputs, attributes: { hidden_size: 4, direction: 'bidirectional' } }],
      inputs: inputs.filter((n) => n).map((name) => ({ name })), outputs,
    }));
    const g = new Generator(3);
    const weights = { w: randn([2, G * 4, 3], { generator: g }), r: randn([2, G * 4, 4], { generator: g }) };
    const states = (B: number) => ({ h0: randn([2, B, 4], { generator: g }), ...(op === 'LSTM' ? { c0: randn([2, B, 4], { generator: g }) } : {}) });
    // A length no data backs: it must size no loop and no buffer.
    const none = model.run({ x: tensor(new Float32Array(0), [1e9, 0, 3]), ...weights, ...states(0) });
    assert.deepEqual(none.Y!.shape, [1e9, 2, 0, 4], `${op} Y`);
    assert.deepEqual(none.Y_h!.shape, [2, 0, 4], `${op} Y_h`);
    const initial = states(2);
    const empty = model.run({ x: tensor(new Float32Array(0), [0, 2, 3]), ...weights, ...initial });
    assert.deepEqual(empty.Y!.shape, [0, 2, 2, 4]);
    assert.deepEqual(Array.from(empty.Y_h!.data), Array.from(initial.h0.data), `${op}: Y_h is h0`);
    if (op === 'LSTM') assert.deepEqual(Array.from(empty.Y_c!.data), Array.from(initial.c0!.data), 'LSTM: Y_c is c0');
  }
});

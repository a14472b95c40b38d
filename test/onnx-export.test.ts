// exportOnnx round trip: every layer kind and option, exported here, run in ONNX Runtime (a test peer,
// see helpers/peers.ts), equal to our forward within 1e-5, outputs and final states alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../src/ops/index.js';
import { exportOnnx } from '../src/interop/index.js';
import { Generator, nn, noGrad, randn, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { loadPeer } from './helpers/peers.js';

interface OrtTensor { data: Float32Array; dims: readonly number[] }
interface Ort {
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(bytes: Uint8Array): Promise<{ inputNames: string[]; outputNames: string[]; run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }> };
}
const ort = loadPeer<Ort>('onnxruntime-node');

const ortFloat = (t: Tensor): OrtTensor => new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape]);
const fromOrt = (t: OrtTensor): Tensor => tensor(Float32Array.from(t.data), [...t.dims]);

type Kind = 'rnn' | 'relu' | 'sigmoid' | 'lstm' | 'peephole' | 'gru' | 'gru-reset-first';
interface Case { kind: Kind; numLayers?: number; bidirectional?: boolean; batchFirst?: boolean; bias?: boolean }

function layer(c: Case, inputSize: number, seed: number): nn.RNN | nn.LSTM | nn.GRU {
  const options = {
    inputSize, hiddenSize: 5, numLayers: c.numLayers ?? 1, bidirectional: c.bidirectional ?? false,
    batchFirst: c.batchFirst ?? false, bias: c.bias ?? true, generator: new Generator(seed),
  };
  if (c.kind === 'lstm' || c.kind === 'peephole') return new nn.LSTM({ ...options, peephole: c.kind === 'peephole' });
  if (c.kind === 'gru') return new nn.GRU(options);
  if (c.kind === 'gru-reset-first') return new nn.GRU({ ...options, linearBeforeReset: false });
  return new nn.RNN({ ...options, nonlinearity: c.kind === 'relu' ? 'relu' : c.kind === 'sigmoid' ? 'sigmoid' : 'tanh' });
}

const cases: Case[] = [];
for (const kind of ['rnn', 'relu', 'sigmoid', 'lstm', 'peephole', 'gru', 'gru-reset-first'] as const) {
  cases.push(
    { kind }, { kind, numLayers: 2, bidirectional: true }, { kind, batchFirst: true }, { kind, bias: false, numLayers: 2 },
    { kind, numLayers: 2, bidirectional: true, batchFirst: true },
  );
}

async function compare(bytes: Uint8Array, feeds: Record<string, Tensor>, expected: Record<string, Tensor>, label: string): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.outputNames, Object.keys(expected), `${label}: output names`);
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortFloat(v)]));
  const got = await session.run(ortFeeds);
  for (const [name, want] of Object.entries(expected)) assertClose(fromOrt(got[name]!), want, 1e-5, 0, `${label}: ${name}`);
}

for (const [n, c] of cases.entries()) {
  const label = `${c.kind} layers=${c.numLayers ?? 1}${c.bidirectional ? ' bidirectional' : ''}${c.batchFirst ? ' batchFirst' : ''}${c.bias === false ? ' no bias' : ''}`;
  test(`exportOnnx → ONNX Runtime equals our forward: ${label}`, async () => {
    const m = layer(c, 3, 100 + n);
    const seq = 4, batch = 2, D = c.bidirectional ? 2 : 1, L = c.numLayers ?? 1;
    const x = randn(c.batchFirst ? [batch, seq, 3] : [seq, batch, 3], { generator: new Generator(n) });
    const h0 = randn([L * D, batch, 5], { generator: new Generator(50 + n) });
    const c0 = randn([L * D, batch, 5], { generator: new Generator(70 + n) });
    const bytes = exportOnnx(m, x);
    if (m instanceof nn.LSTM) {
      const [output, [hn, cn]] = noGrad(() => m.forward(x, [h0, c0]));
      await compare(bytes, { input: x, h0, c0 }, { output, hn, cn }, label);
    } else {
      const [output, hn] = noGrad(() => m.forward(x, h0));
      await compare(bytes, { input: x, h0 }, { output, hn }, label);
    }
  });
}

test('exportOnnx: Embedding → Dropout → LSTM → Linear with dynamic axes runs at other lengths and batches in ONNX Runtime', async () => {
  const g = new Generator(7);
  const chain = [new nn.Embedding(11, 4, { generator: g }), new nn.Dropout(0.5), new nn.LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, generator: g }), new nn.Linear(6, 11, { generator: g })];
  chain.forEach((m) => m.eval());
  const bytes = exportOnnx(chain, tensor([[1, 2], [3, 4], [5, 6]], undefined, { dtype: 'int64' }), { dynamicAxes: { input: { 0: 'seq', 1: 'batch' } } });
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['input', 'h0', 'c0']);
  assert.deepEqual(session.outputNames, ['output', 'hn', 'cn']);
  const seq = 7, batch = 3;
  const ids = Array.from({ length: seq * batch }, (_, i) => (i * 7 + 3) % 11);
  const h0 = randn([2, batch, 6], { generator: new Generator(1) }), c0 = randn([2, batch, 6], { generator: new Generator(2) });
  const got = await session.run({ input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [seq, batch]), h0: ortFloat(h0), c0: ortFloat(c0) });
  const [emb, , lstm, head] = chain as [nn.Embedding, nn.Dropout, nn.LSTM, nn.Linear];
  const [features, [hn, cn]] = noGrad(() => lstm.forward(emb.forward(Int32Array.from(ids), [seq, batch]), [h0, c0]));
  assertClose(fromOrt(got.output!), noGrad(() => head.forward(features)), 1e-5, 0, 'output');
  assertClose(fromOrt(got.hn!), hn, 1e-5, 0, 'hn');
  assertClose(fromOrt(got.cn!), cn, 1e-5, 0, 'cn');
});

test('exportOnnx: Embedding → 2-layer bidirectional batchFirst GRU → Linear with dynamic batch and sequence axes runs at other sizes in ONNX Runtime', async () => {
  const g = new Generator(9);
  const emb = new nn.Embedding(11, 4, { generator: g });
  const gru = new nn.GRU({ inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, batchFirst: true, generator: g });
  const head = new nn.Linear(10, 3, { generator: g });
  const bytes = exportOnnx([emb, gru, head], tensor([[1, 2, 3], [4, 5, 6]], undefined, { dtype: 'int64' }), { dynamicAxes: { input: { 0: 'batch', 1: 'seq' } } });
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['input', 'h0']);
  const batch = 3, seq = 6;
  const ids = Array.from({ length: batch * seq }, (_, i) => (i * 5 + 1) % 11);
  const h0 = randn([4, batch, 5], { generator: new Generator(3) });
  const got = await session.run({ input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [batch, seq]), h0: ortFloat(h0) });
  const [features, hn] = noGrad(() => gru.forward(emb.forward(Int32Array.from(ids), [batch, seq]), h0));
  assertClose(fromOrt(got.output!), noGrad(() => head.forward(features)), 1e-5, 0, 'output');
  assertClose(fromOrt(got.hn!), hn, 1e-5, 0, 'hn');
});

test('exportOnnx: what ONNX cannot express is a clear error', () => {
  const x = randn([2, 1, 3]);
  assert.throws(() => exportOnnx(new nn.LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2 }), x), /LSTM with projSize 2.*cannot be exported/);
  assert.throws(() => exportOnnx([new nn.LSTM({ inputSize: 3, hiddenSize: 4 }), new nn.Embedding(4, 2)], x), /Embedding must come first/);
  assert.throws(() => exportOnnx(new nn.GRU({ inputSize: 3, hiddenSize: 4 }), randn([2, 3])), /exampleInput must be 3-D/);
  assert.throws(() => exportOnnx(new nn.GRU({ inputSize: 3, hiddenSize: 4 }), x, { dynamicAxes: { output: { 0: 'seq' } } }), /may name axes of 'input' only/);
  assert.throws(() => exportOnnx([new nn.GRU({ inputSize: 3, hiddenSize: 4 }), new nn.Linear(5, 2)], x), /Linear\) expects 5 features, the chain gives it 4/);
  class Custom extends nn.Module {}
  assert.throws(() => exportOnnx(new Custom(), x), /module 0 \(Custom\) cannot be exported; supported: Embedding/);
});

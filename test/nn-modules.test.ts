import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, gradcheck, nn, randn, tensor, type Tensor } from './helpers/api.js';

const f64 = (shape: number[], seed: number): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed), requiresGrad: true });

test('Linear: PyTorch names, shapes, bound of the initialisation, forward value', () => {
  const lin = new nn.Linear(4, 3, { generator: new Generator(0) });
  assert.deepEqual([...lin.namedParameters()].map(([n, p]) => [n, p.shape]), [['weight', [3, 4]], ['bias', [3]]]);
  assert.ok(lin.weight.data.every((v) => Math.abs(v) <= 0.5));
  const x = tensor([[1, 0, 0, 0]]);
  const y = lin.forward(x);
  assert.deepEqual([...y.data], [0, 1, 2].map((j) => Math.fround(lin.weight.data[j * 4]! + lin.bias!.data[j]!)));
  assert.equal(new nn.Linear(2, 2, { bias: false }).parameters().length, 1);
  assert.throws(() => lin.forward(tensor([[1, 2]])), /Linear: input must be \[\.\.\., 4\], got \[1, 2\]/);
});

test('Embedding looks up rows and routes gradients back to them', () => {
  const emb = new nn.Embedding(5, 2);
  const out = emb.forward(tensor([[1, 4], [1, 0]]));
  assert.deepEqual(out.shape, [2, 2, 2]);
  assert.deepEqual([...out.data.subarray(0, 2)], [...emb.weight.data.subarray(2, 4)]);
  out.sum().backward();
  assert.deepEqual([...emb.weight.grad!.data], [1, 1, 2, 2, 0, 0, 0, 0, 1, 1]);
  assert.throws(() => emb.forward([5]), /Embedding: index 5 at position 0 is out of range \[0, 5\)/);
  assert.throws(() => emb.forward([1.5]), /Embedding: index 1.5 at position 0 is not an integer index in \[0, 5\)/);
});

test('Dropout: identity in eval, scaled mask in training, seeded', () => {
  const x = tensor(new Float32Array(1000).fill(1));
  const d = new nn.Dropout(0.3, { generator: new Generator(1) });
  const y = d.forward(x);
  const zeros = y.data.filter((v) => v === 0).length;
  assert.ok(zeros > 230 && zeros < 370, `dropped ${zeros}`);
  assert.ok(y.data.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  d.eval();
  assert.equal(d.forward(x), x);
  assert.throws(() => new nn.Dropout(1), /p must be a number in \[0, 1\)/);
});

test('losses: values against hand computation and gradchecks', () => {
  const logits = tensor([[2, 1, 0], [0, 0, 0]], undefined, { dtype: 'float64' });
  const ce = nn.crossEntropy(logits, [0, 2]).item();
  const expected = ((Math.log(Math.exp(2) + Math.exp(1) + 1) - 2) + Math.log(3)) / 2;
  assert.ok(Math.abs(ce - expected) < 1e-12);
  assert.ok(Math.abs(nn.crossEntropy(logits, [0, -100]).item() - (Math.log(Math.exp(2) + Math.exp(1) + 1) - 2)) < 1e-12);
  assert.ok(Math.abs(nn.nllLoss(logits.logSoftmax(1), [0, 2]).item() - expected) < 1e-12);
  assert.equal(nn.mseLoss(tensor([1, 2]), tensor([1, 4])).item(), 2);
  assert.equal(nn.mseLoss(tensor([1, 2]), tensor([1, 4]), 'sum').item(), 4);
  const bce = nn.bceWithLogits(tensor([0], undefined, { dtype: 'float64' }), tensor([1], undefined, { dtype: 'float64' })).item();
  assert.ok(Math.abs(bce - Math.log(2)) < 1e-12);
  assert.ok(Number.isFinite(nn.bceWithLogits(tensor([1000, -1000]), tensor([0, 1])).item()), 'stable for large logits');

  gradcheck((x) => nn.crossEntropy(x!, [1, 0, 3], { ignoreIndex: 3 }), [f64([3, 4], 1)]);
  gradcheck((x) => nn.crossEntropy(x!, tensor([[0, 1], [2, 2]]), { reduction: 'sum' }), [f64([2, 3, 2], 2)]);
  gradcheck((x) => nn.nllLoss(x!.logSoftmax(1), [2, 1]), [f64([2, 3], 3)]);
  gradcheck((x, y) => nn.mseLoss(x!, y!), [f64([3, 2], 4), f64([3, 2], 5)]);
  gradcheck((x, y) => nn.mseLoss(x!, y!, 'sum'), [f64([2, 3], 7), f64([2, 3], 8)]);
  gradcheck((x, y) => nn.mseLoss(x!, y!, 'none').sum(), [f64([4], 9), f64([4], 10)]);
  gradcheck((x) => nn.bceWithLogits(x!, tensor(new Float64Array([0, 1, 1, 0]), [2, 2])), [f64([2, 2], 6)]);
  assert.throws(() => nn.crossEntropy(logits, [0, 3]), /target 3 at position 1 is not a class index in \[0, 3\)/);
  assert.throws(() => nn.crossEntropy(logits, [0]), /target must be \[2\] for input \[2, 3\], got \[1\]/);
  assert.throws(() => nn.mseLoss(tensor([1, 2]), tensor([1])), /target must have the input's shape \[2\], got \[1\]/);
  assert.deepEqual(nn.crossEntropy(logits, [0, 1], { reduction: 'none' }).shape, [2]);
});

test('Module: stateDict keys, strict loading lists every problem at once, train/eval, zeroGrad', () => {
  class Net extends nn.Module {
    rnn = this.registerModule('rnn', new nn.GRU({ inputSize: 2, hiddenSize: 3 }));
    head = this.registerModule('head', new nn.Sequential(new nn.Linear(3, 3), new nn.Linear(3, 1)));
  }
  const net = new Net();
  assert.deepEqual(Object.keys(net.stateDict()), [
    'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.0.weight', 'head.0.bias', 'head.1.weight', 'head.1.bias',
  ]);
  assert.equal(net.parameterCount(), 9 * 2 + 9 * 3 + 9 + 9 + 9 + 3 + 3 + 1);
  const other = new Net();
  other.loadStateDict(net.stateDict());
  assert.deepEqual(other.stateDict()['rnn.weight_ih_l0']!.data, net.stateDict()['rnn.weight_ih_l0']!.data);
  const broken = { ...net.stateDict(), extra: tensor([1]), 'head.1.bias': tensor([1, 2]) };
  delete (broken as Record<string, Tensor>)['head.0.bias'];
  assert.throws(() => other.loadStateDict(broken), (e: Error) =>
    /missing keys: head\.0\.bias/.test(e.message) && /unexpected keys: extra/.test(e.message) && /head\.1\.bias: expected \[1\], got \[2\]/.test(e.message));
  const partial = { ...net.stateDict(), extra: tensor([1]) };
  assert.deepEqual(other.loadStateDict(partial, { strict: false }).unexpected, ['extra']);
  net.eval();
  assert.equal(net.rnn.training, false);
  net.train();
  assert.equal(net.head.training, true);
  const x = randn([4, 1, 2]);
  net.rnn.forward(x)[0].sum().backward();
  assert.ok(net.rnn.parameters().every((p) => p.grad !== null));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
});

test('loadStateDict and the initialisers bump the versions of the parameters they write', () => {
  const lin = new nn.Linear(2, 1);
  const before = [lin.weight.version, lin.bias!.version];
  assert.ok(before.every((v) => v >= 1), `the initialiser wrote them: versions ${before}`);
  lin.loadStateDict({ weight: tensor([[1, 2]]), bias: tensor([3]) });
  assert.deepEqual([lin.weight.version, lin.bias!.version], [before[0]! + 1, before[1]! + 1]);
  lin.loadStateDict({ weight: tensor([[1, 2]]) }, { strict: false });
  assert.deepEqual([lin.weight.version, lin.bias!.version], [before[0]! + 2, before[1]! + 1], 'a key left out is not written');
  const t = tensor([1, 2]);
  nn.init.fill_(t, 0);
  nn.init.uniform_(t, 0, 1);
  nn.init.normal_(t);
  assert.equal(t.version, 3);
});

test('loadStateDict converts float64 values into float32 parameters', () => {
  const lin = new nn.Linear(2, 1);
  lin.loadStateDict({ weight: tensor(new Float64Array([0.5, -0.25]), [1, 2]), bias: tensor(new Float64Array([1]), [1]) });
  assert.deepEqual([...lin.weight.data], [0.5, -0.25]);
});

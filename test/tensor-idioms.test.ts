import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, Generator, gradcheck, nn, noGrad, optim, randn, select, stack, tensor, topk, type Tensor } from './helpers/api.js';

test('in-place ops write the storage, bump the version, and follow PyTorch on leaves that require grad', () => {
  const x = tensor([1, -2, 3]);
  const v = x.version;
  assert.equal(x.add_(tensor([1, 1, 1])), x);
  assert.deepEqual([...x.data], [2, -1, 4]);
  x.add_(1, 2).mul_(2);
  assert.deepEqual([...x.data], [8, 2, 12]);
  x.clamp_(3, 10);
  assert.deepEqual([...x.data], [8, 3, 10]);
  x.copy_(tensor(new Float64Array([5])));
  assert.deepEqual([...x.data], [5, 5, 5], 'copy_ broadcasts and converts the dtype');
  x.fill_(7).zero_();
  assert.deepEqual([...x.data], [0, 0, 0]);
  assert.equal(x.version, v + 7);

  const w = tensor([1, 2], undefined, { requiresGrad: true });
  assert.throws(() => w.add_(1), /add_: a leaf tensor that requires grad is being used in an in-place operation; do it under noGrad/);
  assert.throws(() => w.mul(2).zero_(), /fill_: in-place writes to a tensor recorded for autograd are not supported/);
  noGrad(() => w.mul_(3));
  assert.deepEqual([...w.data], [3, 6]);
  assert.throws(() => tensor([1, 2]).add_(tensor([[1, 2], [3, 4]])), /add_: the result has shape \[2, 2\], which cannot be written into a tensor of shape \[2\]/);

  // A saved tensor written in place makes backward refuse, as in PyTorch.
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const b = tensor([3, 4]);
  const y = a.mul(b).sum();
  b.mul_(2);
  assert.throws(() => y.backward(), /modified in place after it was used/);
});

test('sizeAt, select, index, t(), cat and stack as functions and methods', () => {
  const x = tensor([[[1, 2], [3, 4], [5, 6]]]); // [1, 3, 2]
  assert.equal(x.sizeAt(-1), 2);
  assert.equal(x.sizeAt(1), 3);
  assert.throws(() => x.sizeAt(3), /sizeAt/);
  assert.deepEqual(x.index(0).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(x.index(0).index(-1).toArray(), [5, 6]);
  assert.deepEqual(x.select(2, 1).toArray(), [[2, 4, 6]]);
  assert.deepEqual(select(x, 1, -3).toArray(), [[1, 2]]);
  assert.throws(() => x.index(1), /select: index 1 is out of range for dimension 0 of size 1/);
  const m = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(m.t().toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.throws(() => x.t(), /t: expects a tensor of at most 2 dimensions, got \[1, 3, 2\]/);
  assert.deepEqual(cat([m, m], 0).shape, [4, 3]);
  assert.deepEqual(m.cat([m], 1).toArray(), [[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
  assert.deepEqual(stack([m, m], 1).shape, [2, 2, 3]);
  assert.deepEqual(m.stack([m]).shape, [2, 2, 3]);
  const f64 = randn([3, 4], { dtype: 'float64', generator: new Generator(1), requiresGrad: true });
  gradcheck((a) => a!.select(1, 2).mul(a!.index(0).sum()), [f64]);
});

test('max(dim) and min(dim) give values and indices; topk; requiresGrad_', () => {
  const x = tensor([[1, 5, 5, 2], [7, 0, 3, 0]]);
  const [values, indices] = x.max(1);
  assert.deepEqual(values.toArray(), [5, 7]);
  assert.deepEqual(indices.toArray(), [1, 0], 'ties go to the first index');
  assert.deepEqual(x.min(1, true).indices.toArray(), [[0], [1]]);
  assert.equal(x.max().item(), 7);
  const top = x.topk(3);
  assert.deepEqual(top.values.toArray(), [[5, 5, 2], [7, 3, 0]]);
  assert.deepEqual(top.indices.toArray(), [[1, 2, 3], [0, 2, 1]]);
  assert.deepEqual(topk(x, 1, { dim: 0, largest: false }).values.toArray(), [[1, 0, 3, 0]]);
  const g = tensor([[1, 5, 2]], undefined, { requiresGrad: true });
  g.topk(2).values.mul(tensor([[10, 1]])).sum().backward();
  assert.deepEqual(g.grad!.toArray(), [[0, 10, 1]], 'the gradient reaches the picked entries');
  assert.throws(() => x.topk(5), /topk: k must be an integer in \[0, 4\]/);
  assert.throws(() => x.topk(1, { dimm: 0 } as never), /topk: unknown option 'dimm'; did you mean 'dim'\?/);

  const leaf = tensor([1, 2]).requiresGrad_();
  assert.equal(leaf.requiresGrad, true);
  assert.equal(leaf.requiresGrad_(false).requiresGrad, false);
  assert.throws(() => tensor([1], undefined, { requiresGrad: true }).mul(2).requiresGrad_(false), /only leaf tensors can change requiresGrad/);
});

test('model.double() / float() / to(dtype) convert every parameter in place, keeping ties and the values', () => {
  class Model extends nn.Module {
    embed = new nn.Embedding(6, 4, { generator: new Generator(1) });
    lstm = new nn.LSTM({ inputSize: 4, hiddenSize: 4, generator: new Generator(2) });
    cell = new nn.GRUCell(4, 4, { generator: new Generator(3) });
    scale = this.registerBuffer('scale', tensor([2]));
    head = new nn.Linear(4, 6, { generator: new Generator(4) });
    constructor() {
      super();
      this.head.weight = this.embed.weight;
    }
    forward(ids: Tensor): Tensor {
      const [out] = this.lstm.forward(this.embed.forward(ids));
      return this.head.forward(this.cell.forward(out.index(-1)));
    }
  }
  const model = new Model();
  const ids = tensor([[1, 2], [3, 4], [5, 0]]);
  const before = model.forward(ids);
  const values = model.parameters().map((p) => [...p.data]);
  assert.equal(model.double(), model);
  assert.ok(model.parameters().every((p) => p.dtype === 'float64'));
  assert.equal(model.stateDict().scale!.dtype, 'float64', 'buffers are converted too');
  assert.equal(model.head.weight, model.embed.weight, 'still tied');
  assert.deepEqual(model.parameters().map((p) => [...p.data]), values);
  const after = model.forward(ids);
  assert.equal(after.dtype, 'float64');
  after.data.forEach((v, i) => assert.ok(Math.abs(v - before.data[i]!) < 1e-5));
  // The float64 model trains: its parameters get float64 gradients that an optimizer takes.
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  nn.crossEntropy(after, [0, 1]).backward();
  opt.step();
  model.float();
  assert.ok(model.parameters().every((p) => p.dtype === 'float32'));
  assert.equal(model.forward(ids).dtype, 'float32');
  assert.throws(() => model.to('int8' as never), /Model.to: dtype must be 'float32' or 'float64', got "int8"/);
});

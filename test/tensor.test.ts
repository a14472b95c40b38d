import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, eye, full, Generator, manualSeed, noGrad, ones, rand, randn, tensor, zeros, ops } from './helpers/api.js';

test('creation: dtype follows the data or the option; shapes are inferred or given', () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(a.dtype, 'float32');
  assert.deepEqual(a.shape, [2, 3]);
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual(a.toArray(), [[1, 2, 3], [4, 5, 6]]);
  const b = tensor(new Float64Array([1, 2, 3, 4]), [2, 2]);
  assert.equal(b.dtype, 'float64');
  assert.equal(tensor([1, 2], undefined, { dtype: 'float64' }).dtype, 'float64');
  assert.equal(tensor(new Float32Array([1, 2]), [2], { dtype: 'float64' }).data instanceof Float64Array, true);
  assert.equal(tensor([[7]]).item(), 7);
  assert.deepEqual([...zeros([2, 2]).data], [0, 0, 0, 0]);
  assert.deepEqual([...ones([3]).data], [1, 1, 1]);
  assert.deepEqual([...full([2], 2.5).data], [2.5, 2.5]);
  assert.deepEqual([...arange(0, 1, 0.25).data], [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
});

test('creation errors are clear', () => {
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /shape \[2, 2\] needs 4 elements, data has 3/);
  assert.throws(() => zeros([2, -1]), /non-negative integers/);
  assert.throws(() => zeros([1e6, 1e6]), /more than/);
  assert.throws(() => tensor([1, 2]).item(), /one element/);
  assert.throws(() => arange(0, 1, 0), /step non-zero/);
});

test('random tensors repeat exactly for the same seed', () => {
  const a = randn([5], { generator: new Generator(1) });
  const b = randn([5], { generator: new Generator(1) });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, randn([5], { generator: new Generator(2) }).data);
  manualSeed(3);
  const c = rand([4]);
  manualSeed(3);
  assert.deepEqual(c.data, rand([4]).data);
  assert.ok(c.data.every((v) => v >= 0 && v < 1));
  const g = new Generator(5);
  g.normal();
  const state = g.getState();
  const next = [g.uniform(), g.normal(), g.normal()];
  g.setState(state);
  assert.deepEqual([g.uniform(), g.normal(), g.normal()], next);
  const n = randn([20000], { generator: new Generator(8), dtype: 'float64' });
  const mean = n.mean().item(), variance = n.pow(2).mean().item() - mean * mean;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
});

test('autograd: gradients accumulate across backward calls, on leaves only', () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.mul(x).sum();
  assert.equal(x.grad, null);
  y.backward();
  assert.deepEqual([...x.grad!.data], [2, 4, 6]);
  x.mul(3).sum().backward();
  assert.deepEqual([...x.grad!.data], [5, 7, 9]);
  const mid = x.mul(2);
  mid.sum().backward();
  assert.equal(mid.grad, null);
});

test('autograd: a tensor used twice gets both contributions; non-scalars need a gradient', () => {
  const x = tensor([2], undefined, { requiresGrad: true });
  const y = x.mul(x).add(x); // x^2 + x
  y.backward(tensor([1]));
  assert.deepEqual([...x.grad!.data], [5]);
  const v = tensor([1, 2], undefined, { requiresGrad: true }).mul(2);
  assert.throws(() => v.backward(), /gradient argument is needed/);
  assert.throws(() => v.backward(tensor([1, 2, 3])), /gradient must have the output's shape \[2\]/);
  v.backward(tensor([1, -1]));
});

test('detach and noGrad stop gradients', () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const d = x.mul(2).detach();
  assert.equal(d.requiresGrad, false);
  const z = noGrad(() => x.mul(2));
  assert.equal(z.requiresGrad, false);
  assert.throws(() => z.sum().backward(), /does not require gradients/);
  const y = x.mul(d).sum();
  y.backward();
  assert.deepEqual([...x.grad!.data], [2, 4]);
});

test('mixing dtypes is an error that names both', () => {
  const a = tensor([1, 2]);
  const b = tensor(new Float64Array([1, 2]));
  assert.throws(() => a.add(b), /dtypes must match, got float32 and float64/);
  assert.throws(() => ops.matmul(tensor([[1]]), tensor(new Float64Array([1]), [1, 1])), /dtypes must match/);
  assert.equal(a.to('float64').add(b).dtype, 'float64');
});

test('ops: values of broadcasting, reductions, shape ops and softmax', () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.add(tensor([10, 20, 30])).toArray(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(a.sum(0).toArray(), [5, 7, 9]);
  assert.deepEqual(a.sum(1, true).toArray(), [[6], [15]]);
  assert.deepEqual(a.max(1).toArray(), [3, 6]);
  assert.deepEqual(a.argmax(1).toArray(), [2, 2]);
  assert.equal(a.mean().item(), 3.5);
  assert.deepEqual(a.transpose().toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(a.reshape([3, -1]).shape, [3, 2]);
  assert.deepEqual(a.narrow(1, 1, 2).toArray(), [[2, 3], [5, 6]]);
  // All of a dimension: a view, as PyTorch's narrow is (and as reshape is here).
  assert.equal(a.narrow(0, 0, 2).data, a.data);
  assert.notEqual(a.narrow(0, 1, 1).data, a.data);
  assert.deepEqual(ops.cat([a, a], 0).shape, [4, 3]);
  assert.deepEqual(ops.stack([a, a], 2).shape, [2, 3, 2]);
  assert.deepEqual(a.split(2, 1).map((t) => t.shape), [[2, 2], [2, 1]]);
  assert.deepEqual(a.matmul(tensor([[1], [0], [1]])).toArray(), [[4], [10]]);
  assert.deepEqual(a.indexSelect(0, [1, 1]).toArray(), [[4, 5, 6], [4, 5, 6]]);
  assert.deepEqual(ops.where(tensor([1, 0, 1]), a, tensor(0)).toArray(), [[1, 0, 3], [4, 0, 6]]);
  const s = tensor([[1000, 1000], [0, Math.log(3)]]).softmax(1);
  [0.5, 0.5, 0.25, 0.75].forEach((v, i) => assert.ok(Math.abs(s.data[i]! - v) < 1e-7, `softmax[${i}] = ${s.data[i]}`));
  assert.ok(Math.abs(tensor([1, 2, 3]).logSoftmax().exp().sum().item() - 1) < 1e-6);
  assert.throws(() => a.add(tensor([1, 2])), /shapes \[2, 3\] and \[2\] cannot be broadcast/);
  assert.throws(() => a.matmul(a), /inner dimensions differ: \[2, 3\] @ \[2, 3\]/);
  assert.throws(() => a.reshape([4, -1]), /cannot reshape a tensor of shape \[2, 3\]/);
  assert.throws(() => a.sum(2), /dim must be in \[-2, 1\]/);
  assert.throws(() => a.indexSelect(0, [2]), /index 2 at position 0 is out of range/);
});

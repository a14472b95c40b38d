// Index tensors (int32, PyTorch's long): creation, conversion, refusal of gradients and of float
// math, the ops that produce indices and those that read them, with PyTorch 1.13 parity from
// test/fixtures/index_ops.safetensors (tools/make_fixtures.py index_ops; its indices are I64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSafetensors } from '../src/io/index.js';
import {
  arange, cat, eye, full, fromArray, nn, ones, ops, rand, randn, stack, tensor, topk, zeros, Generator,
  type AnyTensor, type IntTensor, type Tensor,
} from './helpers/api.js';
import { assertClose } from './helpers/close.js';

const fixture = loadSafetensors(new Uint8Array(readFileSync(new URL('./fixtures/index_ops.safetensors', import.meta.url))));
const float = (key: string): Tensor => {
  const t = fixture[key]!;
  assert.ok(t.isFloatingPoint(), `${key} is float`);
  return t;
};
const long = (key: string): IntTensor => {
  const t = fixture[key]!;
  assert.ok(t.isInteger(), `${key} (I64 in the file) loads as int32`);
  return t;
};
/** Same dtype (int32), shape and values. */
function assertIndices(actual: AnyTensor, expected: IntTensor, label: string): void {
  assert.equal(actual.dtype, 'int32', `${label}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  assert.deepEqual([...actual.data], [...expected.data], `${label}: values`);
}

test('creation: dtype int32 or int64 (stored as int32), from arrays, Int32Array and the factories', () => {
  const a = tensor([[1, 2], [3, 4]], undefined, { dtype: 'int64' });
  assert.equal(a.dtype, 'int32');
  assert.ok(a.data instanceof Int32Array);
  assert.deepEqual(a.toArray(), [[1, 2], [3, 4]]);
  assert.equal(tensor(new Int32Array([5, 6])).dtype, 'int32');
  assert.equal(tensor(new Int32Array([5, 6]), undefined, { dtype: 'float64' } as never).dtype, 'float64');
  assert.equal(fromArray(new Int32Array(4), [2, 2]).dtype, 'int32');
  assert.deepEqual([...zeros(2, 3, { dtype: 'int32' }).data], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...ones([3], { dtype: 'int64' }).data], [1, 1, 1]);
  assert.deepEqual([...full([2], 7.9, { dtype: 'int32' }).data], [7, 7]);
  assert.deepEqual([...arange(0, 5, 2, { dtype: 'int64' }).data], [0, 2, 4]);
  assert.equal(arange(0, 5, 2, { dtype: 'int64' }).dtype, 'int32');
  assert.deepEqual(eye(2, 2, { dtype: 'int32' }).toArray(), [[1, 0], [0, 1]]);
  // Whole numbers pass through; fractions truncate toward zero, as torch.tensor([1.7, -1.7]).long().
  assert.deepEqual([...tensor([1.7, -1.7, -0.2], undefined, { dtype: 'int32' }).data], [1, -1, 0]);
  assert.throws(() => tensor([NaN], undefined, { dtype: 'int32' }), /tensor: NaN cannot be stored in int32/);
  assert.throws(() => tensor([2 ** 31], undefined, { dtype: 'int64' }), /tensor: 2147483648 cannot be stored in int32 \(integers from -2147483648 to 2147483647\)/);
  assert.throws(() => tensor([1], undefined, { dtype: 'int8' } as never), /tensor: dtype must be 'float32', 'float64', 'int32' or 'int64' \(stored as int32\), got 'int8'/);
  assert.throws(() => rand([2], { dtype: 'int32' } as never), /rand: dtype must be 'float32' or 'float64' \(random values are not integers\), got 'int32'/);
  assert.throws(() => randn([2], { dtype: 'int64' } as never), /randn: dtype must be 'float32' or 'float64'/);
});

test('integer tensors cannot require gradients, as in PyTorch', () => {
  const message = /only tensors of floating point dtype can require gradients/;
  assert.throws(() => tensor([1, 2], undefined, { dtype: 'int32', requiresGrad: true } as never), message);
  assert.throws(() => zeros([2], { dtype: 'int64', requiresGrad: true } as never), message);
  const ids = tensor([1, 2], undefined, { dtype: 'int32' });
  assert.throws(() => { ids.requiresGrad = true; }, message);
  assert.throws(() => ids.requiresGrad_(), message);
  assert.equal(ids.requiresGrad, false);
});

test('conversions: .int(), .long(), .to(), .float(), .double(); float to int truncates toward zero (PyTorch parity)', () => {
  const y = float('y');
  assertIndices(y.mul(3).long(), long('expected.y_times_3_long'), '(y * 3).long()');
  assertIndices(y.mul(3).int(), long('expected.y_times_3_long'), '(y * 3).int()');
  assertIndices(y.mul(3).to('int64'), long('expected.y_times_3_long'), "(y * 3).to('int64')");
  const ids = tensor([3, -2], undefined, { dtype: 'int32' });
  assert.equal(ids.long(), ids, 'already int32: the same tensor, as PyTorch returns self');
  const f = ids.float();
  assert.equal(f.dtype, 'float32');
  assert.deepEqual([...f.data], [3, -2]);
  assert.equal(ids.double().dtype, 'float64');
  assert.equal(ids.to('float64').dtype, 'float64');
  assert.throws(() => tensor([1e10]).long(), /to\('int64'\): 10000000000 cannot be stored in int32/);
  assert.throws(() => tensor([Infinity]).int(), /to\('int32'\): Infinity cannot be stored in int32/);
  // No gradient flows into an integer tensor: converting a tensor that requires gradients gives a
  // tensor that does not, and converting back to float starts a new leaf.
  const w = tensor([1.5, 2.5], undefined, { requiresGrad: true });
  const cut = w.long();
  assert.equal(cut.requiresGrad, false);
  assert.equal(cut.float().requiresGrad, false);
});

test('item, toArray and toString show integers', () => {
  const ids = tensor([[4, -1]], undefined, { dtype: 'int32' });
  assert.deepEqual(ids.toArray(), [[4, -1]]);
  assert.equal(ids.index(0).index(1).item(), -1);
  assert.equal(String(ids), 'Tensor(shape=[1, 2], dtype=int32, values=[[4,-1]])');
});

test('producers: argmax, argmin, max(dim), min(dim) and topk give int32 indices equal to PyTorch 1.13', () => {
  const x = float('x'), y = float('y');
  assertIndices(x.argmax(1), long('expected.argmax1'), 'argmax(1) (with a tie: the first)');
  assertIndices(x.argmin(0), long('expected.argmin0'), 'argmin(0)');
  assertIndices(x.argmax(0, true), long('expected.argmax_keepdim0'), 'argmax(0, keepdim)');
  const [values, indices] = x.max(1);
  assertClose(values, float('expected.max1.values'), 0, 0, 'max(1) values');
  assertIndices(indices, long('expected.max1.indices'), 'max(1) indices');
  const min0 = x.min(0, true);
  assertClose(min0.values, float('expected.min0_keepdim.values'), 0, 0, 'min(0, keepdim) values');
  assertIndices(min0.indices, long('expected.min0_keepdim.indices'), 'min(0, keepdim) indices');
  const top = y.topk(3, { dim: 1 });
  assertClose(top.values, float('expected.topk3_dim1.values'), 0, 0, 'topk values');
  assertIndices(top.indices, long('expected.topk3_dim1.indices'), 'topk indices');
  const bottom = topk(y, 2, { dim: 0, largest: false });
  assertClose(bottom.values, float('expected.topk2_dim0_smallest.values'), 0, 0, 'topk smallest values');
  assertIndices(bottom.indices, long('expected.topk2_dim0_smallest.indices'), 'topk smallest indices');
  // Integer tensors have them too (torch.argmax of a long tensor).
  const ids = tensor([[3, 9, 9], [-4, -8, 0]], undefined, { dtype: 'int32' });
  assertIndices(ids.argmax(1), tensor([1, 2], undefined, { dtype: 'int32' }), 'argmax of int32');
  const m = ids.max(1);
  assert.equal(m.values.dtype, 'int32');
  assert.deepEqual([...m.values.data], [9, 0]);
  assert.deepEqual([...ids.topk(1, { dim: 0 }).indices.data], [0, 0, 0]);
});

test('crossEntropy and nllLoss with long targets match PyTorch 1.13, value and gradient; so do their modules', () => {
  const target = long('cls.target');
  const run = (f: (logits: Tensor) => Tensor, value: string, grad: string): void => {
    const logits = float('cls.logits').clone().requiresGrad_();
    const loss = f(logits);
    assertClose(loss.reshape([1]), float(value), 1e-12, 1e-10, `${value}`);
    loss.backward();
    assertClose(logits.grad!, float(grad), 1e-12, 1e-10, `${grad}`);
  };
  run((l) => nn.crossEntropy(l, target), 'expected.ce.value', 'expected.ce.grad');
  run((l) => new nn.CrossEntropyLoss().forward(l, target), 'expected.ce.value', 'expected.ce.grad');
  run((l) => nn.nllLoss(l.logSoftmax(1), target, { reduction: 'sum' }), 'expected.nll_sum.value', 'expected.nll_sum.grad');
  run((l) => new nn.NLLLoss({ reduction: 'sum' }).forward(l.logSoftmax(1), target), 'expected.nll_sum.value', 'expected.nll_sum.grad');
  // The old forms keep working: a float tensor of whole numbers, an array.
  run((l) => nn.crossEntropy(l, target.float()), 'expected.ce.value', 'expected.ce.grad');
  run((l) => nn.crossEntropy(l, [...target.data]), 'expected.ce.value', 'expected.ce.grad');
  const bad = tensor([4, 0, 2, 2, 1, 5], undefined, { dtype: 'int64' });
  assert.throws(() => nn.crossEntropy(float('cls.logits'), bad), /crossEntropy: target 5 at position 5 is not a class index in \[0, 5\)/);
});

test('the accuracy idiom: (logits.argmax(1) == target).sum() as PyTorch writes it', () => {
  const correct = float('cls.logits').argmax(1).eq(long('cls.target')).sum();
  assert.equal(correct.dtype, 'int32');
  assert.deepEqual(correct.shape, []);
  assert.equal(correct.item(), long('expected.correct').item());
  // As a fraction: .float().mean(), as in PyTorch.
  const fraction = float('cls.logits').argmax(1).eq(long('cls.target')).float().mean().item();
  assert.equal(fraction, Math.fround(long('expected.correct').item() / 6));
});

test('comparisons broadcast, mix dtypes and numbers, and give int32 0/1 (PyTorch: bool)', () => {
  const ids = tensor([[1, 2, 3]], undefined, { dtype: 'int32' });
  const limits = tensor([[2], [0.5]]);
  assert.deepEqual(ids.eq(2).toArray(), [[0, 1, 0]]);
  assert.deepEqual(ids.ne(2).toArray(), [[1, 0, 1]]);
  assert.deepEqual(ids.lt(limits).toArray(), [[1, 0, 0], [0, 0, 0]]);
  assert.deepEqual(ids.ge(limits).toArray(), [[0, 1, 1], [1, 1, 1]]);
  assert.deepEqual(ids.gt(1).toArray(), [[0, 1, 1]]);
  assert.deepEqual(ids.le(1).toArray(), [[1, 0, 0]]);
  assert.deepEqual(ops.eq(2, ids).toArray(), [[0, 1, 0]]);
  assert.deepEqual(tensor([NaN, 1]).eq(tensor([NaN, 1])).toArray(), [0, 1]);
  assert.throws(() => ids.eq(tensor([1, 2])), /eq: shapes \[1, 3\] and \[2\] cannot be broadcast|eq.*broadcast/);
  // A comparison masks with where, as a bool tensor does.
  assert.deepEqual([...ops.where(ids.gt(1), tensor([10, 20, 30]), 0).data], [0, 20, 30]);
});

test('shape ops work on index tensors and keep int32', () => {
  const ids = arange(0, 6, 1, { dtype: 'int32' });
  const m = ids.reshape([2, 3]);
  const check = (t: AnyTensor, expected: unknown, label: string): void => {
    assert.equal(t.dtype, 'int32', label);
    assert.deepEqual(t.toArray(), expected, label);
  };
  check(m, [[0, 1, 2], [3, 4, 5]], 'reshape');
  check(m.view([3, 2]), [[0, 1], [2, 3], [4, 5]], 'view');
  check(m.t(), [[0, 3], [1, 4], [2, 5]], 't');
  check(m.permute([1, 0]), [[0, 3], [1, 4], [2, 5]], 'permute');
  check(m.transpose(0, 1), [[0, 3], [1, 4], [2, 5]], 'transpose');
  check(m.slice(1, 1), [[1, 2], [4, 5]], 'slice');
  check(m.narrow(1, 0, 1), [[0], [3]], 'narrow');
  check(m.select(1, 2), [2, 5], 'select');
  check(m.index(1), [3, 4, 5], 'index');
  check(m.unsqueeze(0).squeeze(0), [[0, 1, 2], [3, 4, 5]], 'unsqueeze / squeeze');
  check(m.flatten(), [0, 1, 2, 3, 4, 5], 'flatten');
  check(cat([m, m.index(0).unsqueeze(0)], 0), [[0, 1, 2], [3, 4, 5], [0, 1, 2]], 'cat');
  check(stack([ids, ids], 1).narrow(0, 0, 2), [[0, 0], [1, 1]], 'stack');
  check(m.index(0).expand([2, 3]), [[0, 1, 2], [0, 1, 2]], 'expand');
  check(m.split(1, 0)[1]!, [[3, 4, 5]], 'split');
  check(m.gather(1, tensor([[2], [0]], undefined, { dtype: 'int32' })), [[2], [3]], 'gather from an index tensor');
  check(m.indexSelect(0, tensor([1, 1], undefined, { dtype: 'int32' })), [[3, 4, 5], [3, 4, 5]], 'indexSelect');
  check(m.clone(), [[0, 1, 2], [3, 4, 5]], 'clone');
  check(m.detach(), [[0, 1, 2], [3, 4, 5]], 'detach');
  check(zeros(2, { dtype: 'int32' }).copy_(tensor([2.9, -2.9])), [2, -2], 'copy_ from float truncates');
  check(zeros(2, { dtype: 'int32' }).fill_(3.5), [3, 3], 'fill_');
  check(tensor([4, 5], undefined, { dtype: 'int32' }).zero_(), [0, 0], 'zero_');
});

test('sum of an index tensor is exact int32; max/min work; float-only math is refused with a clear error (arithmetic: test/int-arith.test.ts)', () => {
  const ids = tensor([[2 ** 30, 2 ** 30 - 1], [-5, 7]], undefined, { dtype: 'int32' });
  const s = ids.sum(1);
  assert.equal(s.dtype, 'int32');
  assert.deepEqual([...s.data], [2 ** 31 - 1, 2]);
  assert.throws(() => ids.sum(), /sum: 2147483649 cannot be stored in int32/);
  assert.equal(ids.max().item(), 2 ** 30);
  assert.equal(ids.min().item(), -5);
  const refused = /not defined for int32 tensors \(integer tensors hold indices\); convert with \.float\(\) or \.double\(\) first/;
  // JavaScript callers (and TypeScript ones that cast) get a run-time error naming the op.
  const anyIds = ids as unknown as Tensor;
  assert.throws(() => anyIds.exp(), new RegExp(`^Error: exp: ${refused.source}`));
  assert.throws(() => anyIds.log(), /^Error: log: not defined for int32/);
  assert.throws(() => anyIds.mean(), /^Error: mean: not defined for int32/);
  assert.throws(() => anyIds.softmax(1), /^Error: softmax: not defined for int32/);
  assert.throws(() => anyIds.matmul(tensor([[1], [2]])), /^Error: matmul: not defined for int32/);
  assert.throws(() => anyIds.pow(2), /^Error: pow: not defined for int32/);
  assert.deepEqual([...ids.double().add(1).data], [2 ** 30 + 1, 2 ** 30, -4, 8]);
});

test('TypeScript refuses float math on an IntTensor at compile time (npm run typecheck checks these lines)', () => {
  const ids: IntTensor = tensor([1, 2], undefined, { dtype: 'int32' });
  // @ts-expect-error exp takes `this: Tensor` (a float tensor)
  assert.throws(() => ids.exp(), /exp: not defined for int32/);
  // @ts-expect-error an index tensor is not a float Tensor
  assert.throws(() => nn.mseLoss(ids, ids), /not defined for int32/);
  // @ts-expect-error nor is it a float tensor's data
  const floats: Float32Array = ids.data;
  assert.ok(floats instanceof Int32Array);
  // What works on every dtype keeps the index type.
  const kept: IntTensor = ids.reshape([2, 1]).t().index(0).sum();
  assert.equal(kept.item(), 3);
});

test('consumers: Embedding, embedding, gather, indexSelect and x[indices] read index tensors; bad indices are named', () => {
  const g = new Generator(5);
  const emb = new nn.Embedding(4, 3, { generator: g });
  const ids = tensor([[0, 3], [2, 2]], undefined, { dtype: 'int64' });
  const out = emb.forward(ids);
  assert.deepEqual([...out.shape], [2, 2, 3]);
  assert.deepEqual([...out.data], [...emb.forward(ids.float()).data], 'same rows as from whole floats');
  assert.deepEqual([...out.data], [...emb.forward([0, 3, 2, 2], [2, 2]).data], 'same rows as from an array');
  assert.deepEqual([...ops.embedding(emb.weight, ids, ids.shape).data], [...out.data]);
  assert.throws(() => emb.forward(tensor([1, 4], undefined, { dtype: 'int32' })), /Embedding: index 4 at position 1 is out of range \[0, 4\)/);

  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(x.gather(1, tensor([[2, 0], [1, 1]], undefined, { dtype: 'int32' })).toArray(), [[3, 1], [5, 5]]);
  assert.deepEqual(x.indexSelect(1, tensor([2, -3], undefined, { dtype: 'int32' })).toArray(), [[3, 1], [6, 4]]);
  assert.throws(() => x.indexSelect(1, tensor([3], undefined, { dtype: 'int32' })), /indexSelect: index 3 at position 0 is out of range for a dimension of size 3/);
  assert.throws(() => x.gather(1, tensor([[0.5]])), /gather: index 0.5 at position 0 is not an integer/);
  // x[indices]: the leading dimension picked by an index tensor, with the indices' shape in front.
  const picked = x.index(tensor([[1, 0, 1]], undefined, { dtype: 'int32' }));
  assert.deepEqual([...picked.shape], [1, 3, 3]);
  assert.deepEqual(picked.toArray(), [[[4, 5, 6], [1, 2, 3], [4, 5, 6]]]);
  assert.deepEqual(x.index([1]).toArray(), [[4, 5, 6]]);
  // The gradient reaches the picked rows.
  const w = tensor([[1, 1], [2, 2], [3, 3]], undefined, { requiresGrad: true });
  w.index(tensor([2, 2, 0], undefined, { dtype: 'int32' })).sum().backward();
  assert.deepEqual(w.grad!.toArray(), [[1, 1], [0, 0], [2, 2]]);
});

test('packPaddedSequence takes lengths as an index tensor; padPackedSequence returns them as one; token ids pack', () => {
  const { packPaddedSequence, padPackedSequence, packSequence } = nn.utils.rnn;
  const x = randn([4, 3, 2], { generator: new Generator(8) });
  const lengths = tensor([2, 4, 1], undefined, { dtype: 'int64' });
  const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
  const fromArray = packPaddedSequence(x, [2, 4, 1], { enforceSorted: false });
  assert.deepEqual([...packed.batchSizes], [...fromArray.batchSizes]);
  assert.deepEqual([...packed.data.data], [...fromArray.data.data]);
  const [, back] = padPackedSequence(packed);
  assert.equal(back.dtype, 'int32');
  assert.deepEqual([...back.data], [2, 4, 1]);
  assert.throws(() => packPaddedSequence(x, tensor([2, 5, 1], undefined, { dtype: 'int32' })), /lengths\[1\] must be an integer in \[1, 4\]/);
  // Sequences of token ids pack as in PyTorch, and the packed ids go through an Embedding.
  const tokens = packSequence([tensor([1, 2, 3], undefined, { dtype: 'int64' }), tensor([4], undefined, { dtype: 'int64' })], { enforceSorted: false });
  assert.equal(tokens.data.dtype, 'int32');
  assert.deepEqual([...tokens.data.data], [1, 4, 2, 3]);
  const embedded = tokens.withData(new nn.Embedding(5, 2, { generator: new Generator(1) }).forward(tokens.data));
  assert.deepEqual([...embedded.data.shape], [4, 2]);
});

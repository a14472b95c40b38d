import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, eye, fromArray, full, Generator, gradcheck, manualSeed, nn, noGrad, ones, rand, randn, tensor, Tensor, zeros, ops } from './helpers/api.js';
import { record } from '../src/tensor/index.js';

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
  assert.deepEqual(a.max(1).values.toArray(), [3, 6]);
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

const SECOND_BACKWARD = /^Error: backward: trying to backward through the graph a second time \(its saved values were freed after the first backward\); call backward\(undefined, \{ retainGraph: true \}\) the first time if you need to$/;

test('autograd: a second backward through saved values throws before touching any gradient, as in PyTorch', () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  assert.deepEqual([...x.grad!.data], [2, 4, 6]);
  assert.throws(() => y.backward(), (e: Error) => SECOND_BACKWARD.test(String(e)));
  assert.deepEqual([...x.grad!.data], [2, 4, 6], 'the refused pass added nothing');

  // A new graph on top of a freed node reaches it too; checked before the new nodes run.
  const z = tensor([5], undefined, { requiresGrad: true });
  const m = x.exp();
  m.sum().backward();
  const before = [...x.grad!.data];
  assert.throws(() => m.sum().add(z.mul(z).sum()).backward(), /second time/);
  assert.equal(z.grad, null, 'the fresh branch got no gradient either');
  assert.deepEqual([...x.grad!.data], before);
});

test('autograd: retainGraph keeps the graph for another pass; the last pass frees it', () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.mul(x).tanh().sum();
  y.backward(undefined, { retainGraph: true });
  const once = [...x.grad!.data];
  y.backward(undefined, { retainGraph: true });
  y.backward();
  x.grad!.data.forEach((v, i) => assert.ok(Math.abs(v - 3 * once[i]!) < 1e-6, `grad[${i}] = ${v}, want ${3 * once[i]!}`));
  assert.throws(() => y.backward(), /second time/);
  assert.throws(() => y.backward(undefined, { retainGraph: 'yes' as unknown as boolean }), /options\.retainGraph must be true or false, got yes/);
  assert.throws(() => y.backward(undefined, null as unknown as object), /options must be an object/);
  assert.throws(() => y.backward(undefined, { retain_graph: true } as never), /Tensor\.backward: unknown option 'retain_graph'; did you mean 'retainGraph'\?/);

  // A retained graph still checks its saved tensors on the next pass, as PyTorch does.
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  const p = tensor([3, 4]);
  const z = w.mul(p).sum();
  z.backward(undefined, { retainGraph: true });
  p.bumpVersion();
  assert.throws(() => z.backward(), /saved by mul for the backward pass was modified in place after it was used \(version 0, now 1\)/);
  assert.deepEqual([...w.grad!.data], [3, 4]);
});

test('autograd: nodes that saved nothing can run again (PyTorch: add, sum, reshape)', () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = x.add(1).reshape([2, 1]).sum();
  y.backward();
  y.backward();
  assert.deepEqual([...x.grad!.data], [2, 2]);
});

test('autograd: afterBackward hears whether the graph is retained, and backward never runs on a freed node', () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const calls: string[] = [];
  const out = record(new Tensor(new Float32Array([3]), []), {
    name: 'probe', inputs: [x],
    backward: (g) => {
      calls.push('backward');
      return [tensor([g.item(), g.item()])];
    },
    afterBackward: (retained) => calls.push(`after(${retained})`),
  });
  out.backward(undefined, { retainGraph: true });
  out.backward();
  assert.throws(() => out.backward(), /second time/);
  assert.deepEqual(calls, ['backward', 'after(true)', 'backward', 'after(false)']);
});

test('versions: views share a counter with their storage; clones and fresh tensors start at 0', () => {
  const t = tensor([1, 2, 3, 4]);
  const view = t.reshape([2, 2]);
  const detached = t.detach();
  const copy = t.clone();
  assert.deepEqual([t.version, view.version, detached.version, copy.version], [0, 0, 0, 0]);
  view.bumpVersion();
  assert.deepEqual([t.version, view.version, detached.version, copy.version], [1, 1, 1, 0]);
  t.bumpVersion();
  assert.equal(detached.reshape([4, 1]).version, 2, 'a view made after the writes sees them');
  assert.equal(new Tensor(t.rawStorage, [4]).version, 2, 'any tensor over the same storage shares the counter');
});

test('versions: a saved tensor changed in place makes backward throw, naming the op and the versions', () => {
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const p = tensor([4, 5, 6]);
  const y = w.mul(p).sum();
  p.reshape([3, 1]).bumpVersion(); // through a view: same storage, same counter
  assert.throws(() => y.backward(), (e: Error) => e.message === 'backward: a tensor saved by mul for the backward pass was modified in place after it was used (version 0, now 1); clone it before modifying, or modify it after backward()');
  assert.equal(w.grad, null, 'nothing ran');

  // Outputs that the backward reads count too (exp saves its result)...
  const e = w.exp();
  e.bumpVersion();
  assert.throws(() => e.sum().backward(), /saved by exp .*\(version 0, now 1\)/);
  // ...while ops that save nothing do not care (add), as in PyTorch.
  const q = tensor([1, 1, 1]);
  const z = w.add(q).sum();
  q.bumpVersion();
  z.backward();
  assert.deepEqual([...w.grad!.data], [1, 1, 1]);
});

test('versions: what each op saves is declared (linear, matmul, softmax, where, pow, div, mseLoss, max)', () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, 'a' | 'b' | 'out'][] = [
    ['linear', (a, b) => ops.linear(a, b), 'b'],
    ['matmul', (a, b) => a.matmul(b), 'a'],
    ['softmax', (a) => a.softmax(1), 'out'],
    ['logSoftmax', (a) => a.logSoftmax(1), 'out'],
    ['where', (a, b) => ops.where(b, a, 0), 'b'],
    ['pow', (a, b) => a.pow(b), 'b'],
    ['div', (a, b) => a.div(b), 'b'],
    ['mseLoss', (a, b) => nn.mseLoss(a, b), 'b'],
    ['max', (a) => a.max(), 'a'],
  ];
  for (const [name, f, changed] of cases) {
    const a = tensor([[0.5, 1], [1.5, 2]], undefined, { requiresGrad: true });
    const b = tensor([[1, 0.5], [2, 1]]);
    const out = f(a, b);
    ({ a, b, out } as Record<string, Tensor>)[changed]!.bumpVersion();
    assert.throws(() => out.sum().backward(), new RegExp(`saved by ${name} for the backward pass`), name);
  }
});

test('tensor() copies a typed array; fromArray shares it', () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const copied = tensor(data, [2, 2]);
  const shared = fromArray(data, [2, 2]);
  data[0] = 9;
  assert.equal(copied.data[0], 1);
  assert.equal(shared.data[0], 9);
  assert.equal(shared.data, data);
  assert.deepEqual(fromArray(new Float64Array(3)).shape, [3]);
  assert.equal(fromArray(new Float64Array(3)).dtype, 'float64');
  assert.throws(() => fromArray(new Float32Array(3), [2, 2]), /fromArray: shape \[2, 2\] needs 4 elements, the array has 3/);
  assert.throws(() => fromArray([1, 2] as unknown as Float32Array), /fromArray: expected a Float32Array, Float64Array or Int32Array, got Array/);
  assert.equal(fromArray(new Int32Array(2)).dtype, 'int32');
  assert.throws(() => fromArray(new Uint8Array(2) as unknown as Float32Array), /got Uint8Array/);

  // The reason: a batch buffer refilled between forward and backward must not reach the gradients.
  const batch = new Float32Array([1, 2, 3]);
  const w = tensor([0, 0, 0], undefined, { requiresGrad: true });
  const loss = w.mul(tensor(batch)).sum();
  batch.fill(-5);
  loss.backward();
  assert.deepEqual([...w.grad!.data], [1, 2, 3]);
});

test('versions: accumulating into a gradient bumps it; gradcheck announces each perturbation', () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  x.mul(3).sum().backward();
  const g = x.grad!;
  assert.equal(g.version, 0);
  x.mul(3).sum().backward();
  assert.equal(g.version, 1, 'added into in place');

  // A layer caching prepared weights on the version must never see new values under an old version.
  const w = tensor([0.5, -1], undefined, { dtype: 'float64', requiresGrad: true });
  const seen: { version: number; values: number[] }[] = [];
  assert.equal(gradcheck((t) => {
    seen.push({ version: t!.version, values: [...t!.data] });
    return t!.mul(t!).sum();
  }, [w]), true);
  assert.equal(seen.length, 1 + 2 * w.size);
  for (let i = 1; i < seen.length; i++) {
    assert.notEqual(seen[i]!.version, seen[i - 1]!.version, `call ${i} sees other values than call ${i - 1}, so another version`);
  }
  assert.deepEqual([...w.data], [0.5, -1], 'the values are restored');
});

test('parity: argmax counts NaN as the largest value (the first NaN wins) and gives ties to the first', () => {
  const nan = NaN;
  assert.deepEqual(tensor([1, nan, 3]).argmax(0).toArray(), 1);
  assert.deepEqual(tensor([nan, 1, nan]).argmax(0).toArray(), 0);
  assert.deepEqual(tensor([[1, nan, 3], [5, 2, nan]]).argmax(1).toArray(), [1, 2]);
  assert.deepEqual(tensor([[1, nan], [2, 0]]).argmax(0).toArray(), [1, 0]);
  assert.deepEqual(tensor([3, 1, 3]).argmax(0).toArray(), 0);
  assert.deepEqual(tensor([-Infinity, -Infinity]).argmax(0).toArray(), 0);
  assert.deepEqual(tensor([[1, nan, 3]]).argmax(1, true).toArray(), [[1]]);
  // max/min with a dim propagate NaN and route the gradient to the first NaN, as torch.max(x, dim).
  for (const name of ['max', 'min'] as const) {
    const x = tensor([[1, nan, -3, nan]], undefined, { requiresGrad: true });
    const m = x[name](1).values;
    assert.ok(Number.isNaN(m.item()), `${name} is NaN`);
    m.sum().backward();
    assert.deepEqual([...x.grad!.data], [0, 1, 0, 0], name);
  }
});

test('parity: max/min gradients go to one element with a dim, and are shared by ties over all dims or a list (PyTorch 1.13)', () => {
  const gradOf = (values: number[][], f: (x: Tensor) => Tensor): number[][] => {
    const x = tensor(values, undefined, { requiresGrad: true });
    f(x).sum().backward();
    return x.grad!.toArray() as number[][];
  };
  assert.deepEqual(gradOf([[1, 3, 3]], (x) => x.max()), [[0, 0.5, 0.5]]);
  assert.deepEqual(gradOf([[1, 3, 3]], (x) => x.max(1).values), [[0, 1, 0]]);
  assert.deepEqual(gradOf([[1, 3], [3, 2]], (x) => x.max([0, 1])), [[0, 0.5], [0.5, 0]]);
  assert.deepEqual(gradOf([[1, 3], [3, 1]], (x) => x.min([0])), [[1, 0], [0, 1]]);
  assert.deepEqual(gradOf([[1, 3], [3, 1]], (x) => x.min()), [[0.5, 0], [0, 0.5]]);
  assert.deepEqual(gradOf([[NaN, 1, NaN]], (x) => x.max()), [[0.5, 0, 0.5]]);
  assert.deepEqual(gradOf([[NaN, 1, NaN]], (x) => x.max(1).values), [[1, 0, 0]]);
  assert.deepEqual(gradOf([[2, 5], [7, 7]], (x) => x.max(1, true).values.mul(tensor([[1], [4]]))), [[0, 1], [4, 0]]);
});

test('parity: expand checks every dimension and names both shapes', () => {
  assert.throws(() => tensor([1, 2, 3]).expand([1]), (e: Error) =>
    e.message === 'expand: the expanded size of the tensor (1) must match the existing size (3) at non-singleton dimension 0 (target shape [1], tensor shape [3])');
  assert.throws(() => ones([2, 3]).expand([4, 3, 2]), /expand: the expanded size of the tensor \(2\) must match the existing size \(3\) at non-singleton dimension 2 \(target shape \[4, 3, 2\], tensor shape \[2, 3\]\)/);
  assert.throws(() => ones([2, 3]).expand([3]), /expand: the target shape has 1 dimension\(s\), fewer than the tensor's 2 \(target shape \[3\], tensor shape \[2, 3\]\)/);
  assert.throws(() => ones([3]).expand([-1, 3]), /expand: size -1 is not allowed at dimension 0, a new leading dimension/);
  assert.throws(() => ones([3]).expand([-1, 4]), /must match the existing size \(3\) at non-singleton dimension 1/, 'checked from the last dimension, as PyTorch');
  assert.throws(() => ones([3, 1]).expand([3, -2]), /expand: size -2 at dimension 1 is not a size/);
  assert.throws(() => ones([3, 1]).expand([3, 1.5]), /size 1.5 at dimension 1 is not a size/);
  assert.deepEqual(ones([3]).expand([2, 3]).shape, [2, 3]);
  assert.deepEqual(ones([3]).expand([3]).shape, [3]);
  assert.deepEqual(ones([3, 1]).expand([3, 0]).shape, [3, 0]);
  const z = ones([1, 3], { requiresGrad: true });
  const e = z.expand([4, -1]);
  assert.deepEqual(e.shape, [4, 3]);
  e.sum().backward();
  assert.deepEqual(z.grad!.toArray(), [[4, 4, 4]]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, gradcheck, randn, tensor, type Tensor } from '../src/tensor/index.js';
import * as ops from '../src/ops/index.js';

const g = new Generator(42);
const r = (shape: number[], offset = 0): Tensor => {
  const t = randn(shape, { dtype: 'float64', generator: g, requiresGrad: true });
  if (offset) t.data.forEach((v, i, a) => (a[i] = v + offset));
  return t;
};
const positive = (shape: number[]): Tensor => {
  const t = r(shape);
  t.data.forEach((v, i, a) => (a[i] = Math.abs(v) + 0.5));
  return t;
};

const cases: [string, () => [(...x: Tensor[]) => Tensor, Tensor[]]][] = [
  ['add broadcast', () => [ops.add, [r([2, 3, 4]), r([3, 1])]]],
  ['sub broadcast', () => [ops.sub, [r([4]), r([2, 3, 4])]]],
  ['mul broadcast', () => [ops.mul, [r([2, 1, 4]), r([3, 4])]]],
  ['div', () => [ops.div, [r([3, 4]), positive([3, 4])]]],
  ['pow scalar', () => [(a) => ops.pow(a, 3), [r([5])]]],
  ['pow tensor', () => [ops.pow, [positive([2, 3]), r([2, 3])]]],
  ['maximum', () => [ops.maximum, [r([6]), r([6])]]],
  ['neg', () => [ops.neg, [r([3])]]],
  ['exp', () => [ops.exp, [r([3, 2])]]],
  ['log', () => [ops.log, [positive([4])]]],
  ['sqrt', () => [ops.sqrt, [positive([4])]]],
  ['tanh', () => [ops.tanh, [r([3, 3])]]],
  ['sigmoid', () => [ops.sigmoid, [r([3, 3])]]],
  ['relu', () => [ops.relu, [r([10], 0.05)]]],
  ['clamp', () => [(a) => ops.clamp(a, -0.5, 0.5), [r([10])]]],
  ['where', () => [(a, b) => ops.where(tensor([1, 0, 1, 0], undefined, { dtype: 'float64' }), a, b), [r([3, 4]), r([4])]]],
  ['sum all', () => [(a) => ops.sum(a), [r([2, 3])]]],
  ['sum dims keepDim', () => [(a) => ops.sum(a, [0, 2], true), [r([2, 3, 4])]]],
  ['mean dim', () => [(a) => ops.mean(a, -1), [r([2, 3, 4])]]],
  ['max dim', () => [(a) => ops.max(a, 1), [r([3, 5])]]],
  ['min all', () => [(a) => ops.min(a), [r([3, 5])]]],
  ['matmul 2-D', () => [ops.matmul, [r([3, 4]), r([4, 5])]]],
  ['matmul batched broadcast', () => [ops.matmul, [r([2, 3, 4]), r([4, 2])]]],
  ['matmul batched both', () => [ops.matmul, [r([2, 1, 3, 4]), r([3, 4, 2])]]],
  ['matmul vector', () => [ops.matmul, [r([4]), r([4, 3])]]],
  ['linear', () => [ops.linear, [r([2, 3, 4]), r([5, 4]), r([5])]]],
  ['reshape', () => [(a) => ops.mul(ops.reshape(a, [3, -1]), 2), [r([2, 6])]]],
  ['permute', () => [(a) => ops.permute(a, [2, 0, 1]), [r([2, 3, 4])]]],
  ['transpose', () => [(a) => ops.transpose(a, 0, 1), [r([3, 4])]]],
  ['narrow', () => [(a) => ops.narrow(a, 1, 1, 2), [r([3, 4])]]],
  ['slice negative', () => [(a) => ops.slice(a, 0, -2), [r([5, 2])]]],
  ['cat', () => [(a, b) => ops.cat([a, b], 1), [r([2, 3]), r([2, 2])]]],
  ['stack', () => [(a, b) => ops.stack([a, b], 1), [r([2, 3]), r([2, 3])]]],
  ['split', () => [(a) => ops.mul(ops.split(a, 2, 0)[1]!, 3), [r([5, 2])]]],
  ['indexSelect', () => [(a) => ops.indexSelect(a, 0, [2, 0, 2]), [r([3, 4])]]],
  ['gather', () => [(a) => ops.gather(a, 1, tensor([[0, 2], [1, 1], [2, 0]])), [r([3, 3])]]],
  ['expand', () => [(a) => ops.expand(a, [3, 2, 4]), [r([2, 1])]]],
  ['softmax', () => [(a) => ops.softmax(a, 1), [r([3, 4])]]],
  ['logSoftmax', () => [(a) => ops.logSoftmax(a, 0), [r([3, 4])]]],
  ['chained methods', () => [(a, b) => a.mul(b).tanh().sum(1), [r([2, 3]), r([2, 3])]]],
];

for (const [name, make] of cases) {
  test(`gradcheck: ${name}`, () => {
    const [fn, inputs] = make();
    assert.equal(gradcheck(fn, inputs), true);
  });
}

test('gradcheck detects a wrong backward rule', () => {
  const a = r([3]);
  const wrong = (x: Tensor): Tensor => ops.mul(x, x).detach().add(x.mul(0));
  assert.throws(() => gradcheck(wrong, [a]), /gradcheck failed/);
});

// Arithmetic on integer tensors with PyTorch 1.13's type promotion: int ⊕ int stays int (refused
// beyond int32), true division and fractional numbers give float32, an int with a float tensor takes
// that tensor's dtype and its gradient. Parity with PyTorch 1.13 from test/fixtures/int_arith.safetensors
// (tools/make_fixtures.py int_arith; its integers are I64); the inline expected values are PyTorch's
// output for the same calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSafetensors } from '../src/io/index.js';
import { gradcheck, ops, randn, tensor, Generator, type AnyTensor, type IntTensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';

const ints = (values: number[] | number[][]): IntTensor => tensor(values, undefined, { dtype: 'int32' });
function assertInt(actual: AnyTensor, expected: unknown, label: string): void {
  assert.equal(actual.dtype, 'int32', `${label}: dtype`);
  assert.deepEqual(actual.toArray(), expected, `${label}: values`);
}

test('PyTorch 1.13 parity: int ops, float32 results and a float64 tensor with a long one (value and gradient)', () => {
  const fixture = loadSafetensors(new Uint8Array(readFileSync(new URL('./fixtures/int_arith.safetensors', import.meta.url))));
  const long = (key: string): IntTensor => {
    const t = fixture[key]!;
    assert.ok(t.isInteger(), `${key} loads as int32`);
    return t;
  };
  const float = (key: string): Tensor => {
    const t = fixture[key]!;
    assert.ok(t.isFloatingPoint(), `${key} is float`);
    return t;
  };
  const a = long('a'), b = long('b');
  const intCases: [string, IntTensor][] = [
    ['add', a.add(b)], ['sub', a.sub(b)], ['mul', a.mul(b)], ['remainder', a.remainder(b)],
    ['floor_divide', a.floorDivide(b)], ['neg', a.neg()], ['abs', a.abs()], ['clamp', a.clamp(-10, 20)],
    ['maximum', a.maximum(b)], ['minimum', a.minimum(b)], ['sub_scalar', a.sub(1)],
  ];
  for (const [key, actual] of intCases) assertInt(actual, long(`expected.${key}`).toArray(), key);
  const floatCases: [string, Tensor][] = [['div', a.div(b)], ['add_frac', a.add(1.5)], ['clamp_frac', a.clamp(-2.5, 20)]];
  for (const [key, actual] of floatCases) {
    assert.equal(actual.dtype, 'float32', `${key}: dtype`);
    assertClose(actual, float(`expected.${key}`), 0, 0, key);
  }
  const f = float('f').clone().requiresGrad_();
  const mixed = ops.remainder(f.mul(7), b).add(f.mul(a)).sub(ops.maximum(f, b).div(a.clamp(1, 50)));
  assert.equal(mixed.dtype, 'float64');
  assertClose(mixed, float('expected.mixed'), 1e-12, 1e-12, 'mixed value');
  mixed.mul(float('cotangent')).sum().backward();
  assertClose(f.grad!, float('expected.mixed.grad'), 1e-12, 1e-12, 'mixed gradient of f');
  assertClose(f.detach().mul(7).floorDivide(b), float('expected.float_floor_divide'), 0, 0, 'float floor_divide');
});

test('int ⊕ int stays int32: add, sub, mul, neg, abs, maximum, minimum, clamp, with broadcasting', () => {
  const a = ints([7, -7, 7, -7]), b = ints([3, 3, -3, -3]);
  assertInt(a.add(b), [10, -4, 4, -10], 'add');
  assertInt(a.sub(b), [4, -10, 10, -4], 'sub');
  assertInt(a.mul(b), [21, -21, -21, 21], 'mul');
  assertInt(a.neg(), [-7, 7, -7, 7], 'neg');
  assertInt(a.abs(), [7, 7, 7, 7], 'abs');
  assertInt(a.maximum(b), [7, 3, 7, -3], 'maximum');
  assertInt(a.minimum(b), [3, -7, -3, -7], 'minimum');
  assertInt(a.clamp(-2, 3), [3, -2, 3, -2], 'clamp');
  assertInt(a.clamp(0), [7, 0, 7, 0], 'clamp(min)');
  // The everyday idioms: lengths - 1, ids + offset, target * 2, a column against a row.
  const lengths = ints([5, 3, 1]);
  assertInt(lengths.sub(1), [4, 2, 0], 'lengths - 1');
  assertInt(ops.add(10, lengths), [15, 13, 11], 'number + ids');
  assertInt(ints([[0], [10]]).add(ints([1, 2, 3])), [[1, 2, 3], [11, 12, 13]], 'broadcast');
  assertInt(tensor([0.5, -1, 2]).gt(0).sum(), 2, '(x > 0).sum()');
});

test('remainder has the divisor\'s sign and floorDivide rounds down, for ints and floats (PyTorch 1.13)', () => {
  const a = ints([7, -7, 7, -7]), b = ints([3, 3, -3, -3]);
  assertInt(a.remainder(b), [1, 2, -2, -1], 'remainder');
  assertInt(a.floorDivide(b), [2, -3, -3, 2], 'floorDivide');
  assert.deepEqual(tensor([5.5, -5.5]).remainder(2).toArray(), [1.5, 0.5]);
  assert.deepEqual(a.remainder(2.5).toArray(), [2, 0.5, 2, 0.5]);
  assert.deepEqual(a.floorDivide(2.5).toArray(), [2, -3, 2, -3]);
  assert.equal(a.floorDivide(2.5).dtype, 'float32');
  // Against exact integer arithmetic on a grid of signs and sizes, including the int32 extremes.
  const values = [-(2 ** 31), -(2 ** 31) + 1, -1000, -7, -3, -1, 0, 1, 2, 3, 7, 1000, 2 ** 31 - 1];
  const divisors = values.filter((v) => v !== 0);
  for (const x of values) {
    for (const y of divisors) {
      const r = ints([x]).remainder(y).item(), q = Math.floor(x / y) + 0; // + 0: no -0
      assert.ok(r === 0 || (r < 0) === (y < 0), `${x} % ${y} = ${r} has the divisor's sign`);
      assert.ok(Math.abs(r) < Math.abs(y), `${x} % ${y} = ${r} is smaller than the divisor`);
      assert.equal(BigInt(q) * BigInt(y) + BigInt(r), BigInt(x), `${x} = (${x} // ${y}) * ${y} + ${x} % ${y}`);
      if (q >= -(2 ** 31) && q < 2 ** 31) assert.equal(ints([x]).floorDivide(y).item(), q, `${x} // ${y}`);
    }
  }
  assert.throws(() => a.remainder(0), /remainder: integer division by zero/);
  assert.throws(() => a.floorDivide(ints([1, 0, 1, 1])), /floorDivide: integer division by zero/);
  assert.throws(() => ints([-(2 ** 31)]).floorDivide(-1), /floorDivide: 2147483648 cannot be stored in int32/);
});

test('true division and fractional numbers give float32; an int with a float tensor takes its dtype', () => {
  const a = ints([7, -7]), b = ints([3, 3]);
  const quotient = a.div(b);
  assert.equal(quotient.dtype, 'float32');
  assert.deepEqual([...quotient.data], [...new Float32Array([7 / 3, -7 / 3])]);
  assert.equal(a.div(2).dtype, 'float32');
  assert.deepEqual(a.div(2).toArray(), [3.5, -3.5]);
  const half = a.add(1.5);
  assert.equal(half.dtype, 'float32');
  assert.deepEqual(half.toArray(), [8.5, -5.5]);
  assert.equal(a.clamp(-2.5, 3).dtype, 'float32');
  assert.deepEqual(a.clamp(-2.5, 3).toArray(), [3, -2.5]);
  const wide = a.mul(tensor([0.5], undefined, { dtype: 'float64' }));
  assert.equal(wide.dtype, 'float64');
  assert.deepEqual(wide.toArray(), [3.5, -3.5]);
  assert.equal(tensor([1, 2]).sub(a).dtype, 'float32');
  assert.deepEqual(ints([3, 4]).float().div(ints([3, 4]).sum()).toArray(), [3 / 7, 4 / 7].map(Math.fround), 'counts.float() / total');
  // Two float dtypes still have to match.
  assert.throws(() => tensor([1]).add(tensor([1], undefined, { dtype: 'float64' })), /add: dtypes must match, got float32 and float64/);
});

test('results beyond int32 are an error naming the op and the value (int32 stands in for int64; no wrapping)', () => {
  const big = ints([2 ** 31 - 1, 5]);
  assert.throws(() => big.add(1), /^Error: add: 2147483648 cannot be stored in int32/);
  assert.throws(() => ints([-(2 ** 31)]).sub(ints([1])), /^Error: sub: -2147483649 cannot be stored in int32/);
  assert.throws(() => ints([65536]).mul(65536), /^Error: mul: 4294967296 cannot be stored in int32/);
  assert.throws(() => ints([-(2 ** 31)]).neg(), /^Error: neg: 2147483648 cannot be stored in int32/);
  assert.throws(() => ints([-(2 ** 31)]).abs(), /^Error: abs: 2147483648 cannot be stored in int32/);
  assert.throws(() => ints([1]).add(2 ** 40), /^Error: add: 1099511627776 cannot be stored in int32/);
  assertInt(big.sub(1), [2 ** 31 - 2, 4], 'just inside');
  assertInt(ints([46340]).mul(46340), [2147395600], 'just inside (46340²)');
});

test('integer results take no gradient; a float result from an int and a float tensor carries the float gradient (gradcheck, float64)', () => {
  const ids = ints([[1, -2, 3]]);
  for (const result of [ids.add(ids), ids.mul(2), ids.remainder(2), ids.neg()]) assert.equal(result.requiresGrad, false);
  const x = randn([2, 3], { dtype: 'float64', generator: new Generator(5) }).requiresGrad_();
  const scale = ints([[2], [-3]]);
  assert.equal(gradcheck((t) => t.mul(ids).add(scale).sub(ids.mul(t)).add(t.mul(scale)).div(ids).maximum(ids), [x]), true);
  assert.equal(gradcheck((t) => ops.remainder(t.mul(7), ids).add(ops.minimum(ids, t)), [x]), true);
  const leaf = randn([2, 3], { dtype: 'float64', generator: new Generator(5) }).requiresGrad_();
  const y = leaf.mul(ids);
  assert.equal(y.dtype, 'float64');
  y.sum().backward();
  assert.deepEqual(leaf.grad!.toArray(), [[1, -2, 3], [1, -2, 3]], 'd(sum(x * ids))/dx = ids, broadcast over rows');
  // floorDivide is a step function: no gradient, as PyTorch has none.
  assert.equal(x.floorDivide(2).requiresGrad, false);
});

test('TypeScript: int ⊕ int is IntTensor, mixed is Tensor, float-only methods stay refused (npm run typecheck checks these lines)', () => {
  const ids: IntTensor = ints([4, 9]);
  const offset: IntTensor = ids.add(1).sub(ids).mul(ints([2, 2])).remainder(3).floorDivide(1).neg().abs().maximum(0).minimum(ids).clamp(0, 5);
  assertInt(offset, [2, 2], 'chained');
  const mixed: Tensor = ids.mul(tensor([0.5, 0.5]));
  const fractional: Tensor = ids.add(0.5);
  const quotient: Tensor = ids.div(ids);
  const unknown = (n: number): AnyTensor => ids.add(n);
  const alwaysFloat = (n: number): Tensor => ids.div(n);
  assert.equal(alwaysFloat(2).dtype, 'float32');
  assert.equal(mixed.dtype, 'float32');
  assert.equal(fractional.dtype, 'float32');
  assert.equal(quotient.dtype, 'float32');
  assert.equal(unknown(1).dtype, 'int32');
  assert.equal(unknown(0.25).dtype, 'float32');
  // @ts-expect-error an int tensor plus a fractional number is float, not an IntTensor
  const wrong: IntTensor = ids.add(0.5);
  assert.equal(wrong.dtype, 'float32');
  // @ts-expect-error true division of ints is float
  const alsoWrong: IntTensor = ids.div(ids);
  assert.equal(alsoWrong.dtype, 'float32');
  // @ts-expect-error exp, log, tanh, matmul, pow ... stay float-only
  assert.throws(() => ids.exp(), /exp: not defined for int32/);
  // @ts-expect-error
  assert.throws(() => ids.tanh(), /tanh: not defined for int32/);
  // @ts-expect-error
  assert.throws(() => ids.reshape([1, 2]).matmul(ids.reshape([2, 1])), /matmul: not defined for int32/);
  // @ts-expect-error
  assert.throws(() => ids.pow(2), /pow: not defined for int32/);
});

test('in-place arithmetic stays float-only: an int tensor is refused rather than truncated into', () => {
  const ids = ints([1, 2]) as unknown as Tensor;
  assert.throws(() => ids.add_(0.5), /^Error: add_: not defined for int32 tensors/);
  assert.throws(() => ids.mul_(2), /^Error: mul_: not defined for int32 tensors/);
  assert.throws(() => ids.clamp_(0, 1), /^Error: clamp_: not defined for int32 tensors/);
  assert.deepEqual(ids.toArray(), [1, 2]);
  assert.deepEqual(tensor([1, 2]).add_(ints([3, 4])).toArray(), [4, 6], 'a float tensor takes an int operand');
});

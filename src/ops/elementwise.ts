/**
 * Elementwise ops with NumPy broadcasting. Each op keeps its forward and its backward side by side;
 * unary ops are rows of one table (value, derivative) in the tinygrad manner.
 */
import { broadcastShapes, record, sameShape, Tensor, toInt32, type AnyTensor, type FloatDType, type IntTensor, type TensorDType } from '../tensor/index.js';
import { to } from './convert.js';
import { asTensor, broadcastStrides, checkFloat, checkSameDtype, newTensor, stridedOffsets, sumToShape, type TensorLike } from './util.js';

/** An operand of the arithmetic ops: a tensor of any dtype or a number. */
export type Operand = AnyTensor | number;

/**
 * The result type of an integer tensor with a number N, as far as the number's type tells: int32 for
 * an integral literal (`ids.sub(1)`), float for a fractional one (`ids.mul(0.5)`), and either when
 * only `number` is known (narrow with .isInteger()).
 */
export type IntWithNumber<N extends number> = number extends N ? AnyTensor : `${N}` extends `${bigint}` ? IntTensor : Tensor;

/** The result type of a binary arithmetic op on operands A and B (PyTorch's type promotion, see promote). */
export type Promoted<A extends Operand, B extends Operand> =
  A extends IntTensor ? (B extends IntTensor ? IntTensor : B extends number ? IntWithNumber<B> : B extends Tensor ? Tensor : AnyTensor)
    : A extends number ? (B extends IntTensor ? IntWithNumber<A> : B extends Tensor ? Tensor : AnyTensor)
      : A extends Tensor ? (B extends Tensor | IntTensor | number ? Tensor : AnyTensor)
        : AnyTensor;

type BinaryOp = <A extends Operand, B extends Operand>(a: A, b: B) => Promoted<A, B>;
/** Types an op written over Operand with the promotion rule (its run-time behaviour, see promote). */
const promoting = (op: (a: Operand, b: Operand) => AnyTensor): BinaryOp => op as BinaryOp;

/** Operands of one dtype: both int32 (integer arithmetic) or both of one float dtype. */
type Promotion = { integer: true; x: IntTensor; y: IntTensor } | { integer: false; x: Tensor; y: Tensor };

/**
 * PyTorch's type promotion for two operands (docs/architecture.md, "Index tensors are int32"): int
 * with int stays int; int with a float tensor takes that tensor's dtype; int with a number stays int
 * when the number is integral and becomes float32 (PyTorch's default float dtype) when it is not.
 * Two float tensors must have one dtype, as before.
 */
function promote(name: string, a: Operand, b: Operand): Promotion {
  if (a instanceof Tensor) {
    if (b instanceof Tensor) return sameDtype(name, a, b);
    const [x, y] = withNumber(name, a, b);
    return sameDtype(name, x, y);
  }
  if (b instanceof Tensor) {
    const [y, x] = withNumber(name, b, a);
    return sameDtype(name, x, y);
  }
  throw new Error(`${name}: at least one operand must be a Tensor`);
}

function sameDtype(name: string, a: AnyTensor, b: AnyTensor): Promotion {
  if (a.dtype === b.dtype) return { integer: a.dtype === 'int32', x: a, y: b } as Promotion;
  if (a.isInteger()) return { integer: false, x: to(a, b.dtype as FloatDType), y: b as Tensor };
  if (b.isInteger()) return { integer: false, x: a as Tensor, y: to(b, a.dtype as FloatDType) };
  throw new Error(`${name}: dtypes must match, got ${a.dtype} and ${b.dtype} (convert one with .to('${a.dtype}'))`);
}

/** The tensor (converted to float32 if an int tensor meets a fractional number) and the number as a 0-d tensor of its dtype. */
function withNumber(name: string, t: AnyTensor, n: unknown): [AnyTensor, AnyTensor] {
  if (typeof n !== 'number') throw new Error(`${name}: expected a Tensor or a number, got ${typeof n}`);
  if (!t.isInteger()) return [t, asTensor(n, t as Tensor)];
  if (!Number.isInteger(n)) {
    const promoted = to(t, 'float32');
    return [promoted, asTensor(n, promoted)];
  }
  return [t, new Tensor<'int32'>(new Int32Array([toInt32(n, name)]), [])];
}

function binaryForward<D extends 'float32' | 'float64' | 'int32'>(name: string, a: Tensor<D>, b: Tensor<D>, f: (x: number, y: number) => number): Tensor<D> {
  if (sameShape(a.shape, b.shape)) {
    const out = newTensor(a.shape, a);
    const o = out.data, x = a.data, y = b.data;
    for (let i = 0; i < o.length; i++) o[i] = f(x[i]!, y[i]!);
    return out;
  }
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = newTensor(shape, a);
  const ia = stridedOffsets(shape, broadcastStrides(a.shape, shape));
  const ib = stridedOffsets(shape, broadcastStrides(b.shape, shape));
  const o = out.data, x = a.data, y = b.data;
  for (let i = 0; i < o.length; i++) o[i] = f(x[ia[i]!]!, y[ib[i]!]!);
  return out;
}

/**
 * Integer arithmetic: the result computed exactly in float64 (int32 operands' sums, differences and
 * quotients are exact; a product beyond 2^53 rounds but stays far outside int32) and refused when it
 * leaves int32 — PyTorch's int64 would hold it, so wrapping would be a silent wrong answer. Integer
 * results take no gradient.
 */
function integerBinary(name: string, a: IntTensor, b: IntTensor, f: (x: number, y: number) => number): IntTensor {
  return binaryForward(name, a, b, (x, y) => toInt32(f(x, y), name));
}

/** Integer division and remainder refuse a zero divisor, as PyTorch does (ZeroDivisionError). */
function nonZeroDivisor(name: string, f: (x: number, y: number) => number): (x: number, y: number) => number {
  return (x, y) => {
    if (y === 0) throw new Error(`${name}: integer division by zero (convert with .float() for IEEE inf/nan)`);
    return f(x, y);
  };
}

export const add = promoting((a, b) => {
  const p = promote('add', a, b);
  if (p.integer) return integerBinary('add', p.x, p.y, (u, v) => u + v);
  const { x, y } = p;
  return record(binaryForward('add', x, y, (u, v) => u + v), {
    name: 'add', inputs: [x, y],
    backward: (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)],
  });
});

export const sub = promoting((a, b) => {
  const p = promote('sub', a, b);
  if (p.integer) return integerBinary('sub', p.x, p.y, (u, v) => u - v);
  const { x, y } = p;
  return record(binaryForward('sub', x, y, (u, v) => u - v), {
    name: 'sub', inputs: [x, y],
    backward: (g) => [sumToShape(g, x.shape), sumToShape(neg(g), y.shape)],
  });
});

export const mul = promoting((a, b) => {
  const p = promote('mul', a, b);
  if (p.integer) return integerBinary('mul', p.x, p.y, (u, v) => u * v);
  const { x, y } = p;
  return record(binaryForward('mul', x, y, (u, v) => u * v), {
    name: 'mul', inputs: [x, y],
    backward: (g) => [sumToShape(mul(g, y), x.shape), sumToShape(mul(g, x), y.shape)],
  }, [x, y]);
});

/** True division, always float: integers divide as float32 (PyTorch: int / int is the default float dtype). */
export function div(a: Operand, b: Operand): Tensor {
  const p = promote('div', a, b);
  const { x, y } = p.integer ? { x: to(p.x, 'float32'), y: to(p.y, 'float32') } : p;
  return record(binaryForward('div', x, y, (u, v) => u / v), {
    name: 'div', inputs: [x, y],
    backward: (g) => [sumToShape(div(g, y), x.shape), sumToShape(neg(div(mul(g, x), mul(y, y))), y.shape)],
  }, [x, y]);
}

/** x mod y with the divisor's sign (Python's %, torch.remainder); for floats, fmod moved into y's sign. */
const remainderOf = (x: number, y: number): number => {
  const r = x % y;
  return r !== 0 && (r < 0) !== (y < 0) ? r + y : r;
};

/**
 * torch.remainder (Python's %): the result has the divisor's sign. The float gradient is 1 for a and
 * -floor(a / b) for b (the steps at multiples of b have none).
 */
export const remainder = promoting((a, b) => {
  const p = promote('remainder', a, b);
  if (p.integer) return integerBinary('remainder', p.x, p.y, nonZeroDivisor('remainder', remainderOf));
  const { x, y } = p;
  return record(binaryForward('remainder', x, y, remainderOf), {
    name: 'remainder', inputs: [x, y],
    backward: (g) => [sumToShape(g, x.shape), sumToShape(neg(mul(g, binaryForward('remainder', x, y, (u, v) => Math.floor(u / v)))), y.shape)],
  }, [x, y]);
});

/** Floor of x / y computed through the remainder, so that 0.3 // 0.1 is 2 as in PyTorch (not floor(2.9999…) vs 3 drift). */
const floorQuotient = (x: number, y: number): number => {
  if (y === 0) return x / y;
  const quotient = (x - (x % y)) / y;
  const floored = (x % y) !== 0 && ((x % y) < 0) !== (y < 0) ? quotient - 1 : quotient;
  const rounded = Math.floor(floored);
  return floored - rounded > 0.5 ? rounded + 1 : rounded;
};

/**
 * torch.floor_divide (Python's //): rounds toward negative infinity. It is a step function, so no
 * gradient flows through it (PyTorch has no derivative for it either).
 */
export const floorDivide = promoting((a, b) => {
  const p = promote('floorDivide', a, b);
  if (p.integer) return integerBinary('floorDivide', p.x, p.y, nonZeroDivisor('floorDivide', (u, v) => Math.floor(u / v)));
  return binaryForward('floorDivide', p.x, p.y, floorQuotient);
});

/** a ** b; b may be a number or a tensor (then a must be positive where its gradient is needed). Float only. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands(a, b, 'pow');
  return record(binaryForward('pow', x, y, (p, q) => p ** q), {
    name: 'pow', inputs: [x, y],
    backward: (g) => [
      sumToShape(mul(g, mul(y, pow(x, sub(y, 1)))), x.shape),
      y.requiresGrad ? sumToShape(mul(g, mul(pow(x, y), log(x))), y.shape) : null,
    ],
  }, [x, y]);
}

/** Elementwise maximum or minimum; the float gradient goes to the picked operand, halved on ties. */
function extremum(name: string, pick: (p: number, q: number) => number, beats: (p: number, q: number) => boolean, a: Operand, b: Operand): AnyTensor {
  const p = promote(name, a, b);
  if (p.integer) return binaryForward(name, p.x, p.y, pick);
  const { x, y } = p;
  const share = (first: boolean) => (u: number, v: number): number => (u === v ? 0.5 : (first ? beats(u, v) : beats(v, u)) ? 1 : 0);
  return record(binaryForward(name, x, y, pick), {
    name, inputs: [x, y],
    backward: (g) => [
      sumToShape(mul(g, binaryForward(name, x, y, share(true))), x.shape),
      sumToShape(mul(g, binaryForward(name, x, y, share(false))), y.shape),
    ],
  }, [x, y]);
}

export const maximum = promoting((a, b) => extremum('maximum', Math.max, (p, q) => p > q, a, b));
export const minimum = promoting((a, b) => extremum('minimum', Math.min, (p, q) => p < q, a, b));

/** Two operands of one float dtype, for the ops that stay float-only. */
function floatOperands(a: TensorLike, b: TensorLike, name: string): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error(`${name}: at least one operand must be a Tensor`);
  checkFloat(name, a);
  checkFloat(name, b);
  const like = (a instanceof Tensor ? a : b) as Tensor;
  return [asTensor(a, like), asTensor(b, like)];
}

/** value(x) and derivative(x, y) where y = value(x); `reads` says which of x and y the derivative
 * uses, so that only those are saved for backward (and checked against in-place changes). */
interface UnaryRule {
  value: (x: number) => number;
  derivative: (x: number, y: number) => number;
  reads: 'x' | 'y' | 'nothing';
}

const sigmoidValue = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const unaryRules = {
  neg: { value: (x) => -x, derivative: () => -1, reads: 'nothing' },
  exp: { value: Math.exp, derivative: (_x, y) => y, reads: 'y' },
  log: { value: Math.log, derivative: (x) => 1 / x, reads: 'x' },
  sqrt: { value: Math.sqrt, derivative: (_x, y) => 0.5 / y, reads: 'y' },
  abs: { value: Math.abs, derivative: (x) => Math.sign(x), reads: 'x' },
  tanh: { value: Math.tanh, derivative: (_x, y) => 1 - y * y, reads: 'y' },
  sigmoid: { value: sigmoidValue, derivative: (_x, y) => y * (1 - y), reads: 'y' },
  relu: { value: (x) => (x > 0 ? x : 0), derivative: (x) => (x > 0 ? 1 : 0), reads: 'x' },
  sin: { value: Math.sin, derivative: (x) => Math.cos(x), reads: 'x' },
  cos: { value: Math.cos, derivative: (x) => -Math.sin(x), reads: 'x' },
} satisfies Record<string, UnaryRule>;

export type UnaryName = keyof typeof unaryRules;

function unary(name: string, rule: UnaryRule, a: Tensor): Tensor {
  checkFloat(name, a);
  const out = newTensor(a.shape, a);
  const x = a.data, y = out.data;
  for (let i = 0; i < y.length; i++) y[i] = rule.value(x[i]!);
  return record(out, {
    name, inputs: [a],
    backward: (g) => {
      const dx = newTensor(a.shape, a);
      const d = dx.data, gd = g.data, xv = a.data, yv = out.data;
      for (let i = 0; i < d.length; i++) d[i] = gd[i]! * rule.derivative(xv[i]!, yv[i]!);
      return [dx];
    },
  }, rule.reads === 'x' ? [a] : rule.reads === 'y' ? [out] : undefined);
}

/** An integer op of one operand, refused where the result leaves int32 (-(-2^31) does). */
function integerUnary(name: string, a: IntTensor, f: (x: number) => number): IntTensor {
  const out = newTensor(a.shape, 'int32');
  const x = a.data, y = out.data;
  for (let i = 0; i < y.length; i++) y[i] = toInt32(f(x[i]!), name);
  return out;
}

export function neg<D extends TensorDType>(a: Tensor<D>): Tensor<D>;
export function neg(a: AnyTensor): AnyTensor {
  return a.isInteger() ? integerUnary('neg', a, (x) => -x) : unary('neg', unaryRules.neg, a as Tensor);
}
export const exp = (a: Tensor): Tensor => unary('exp', unaryRules.exp, a);
export const log = (a: Tensor): Tensor => unary('log', unaryRules.log, a);
export const sqrt = (a: Tensor): Tensor => unary('sqrt', unaryRules.sqrt, a);
export function abs<D extends TensorDType>(a: Tensor<D>): Tensor<D>;
export function abs(a: AnyTensor): AnyTensor {
  return a.isInteger() ? integerUnary('abs', a, Math.abs) : unary('abs', unaryRules.abs, a as Tensor);
}
export const tanh = (a: Tensor): Tensor => unary('tanh', unaryRules.tanh, a);
export const sigmoid = (a: Tensor): Tensor => unary('sigmoid', unaryRules.sigmoid, a);
export const relu = (a: Tensor): Tensor => unary('relu', unaryRules.relu, a);
export const sin = (a: Tensor): Tensor => unary('sin', unaryRules.sin, a);
export const cos = (a: Tensor): Tensor => unary('cos', unaryRules.cos, a);

/**
 * Limits values to [min, max]; the gradient is zero where a limit applied. An integer tensor stays
 * integer with integral (or infinite, i.e. absent) limits and becomes float32 with a fractional one,
 * as in PyTorch.
 */
export function clamp<D extends TensorDType, L extends number = never, H extends number = never>(a: Tensor<D>, min?: L, max?: H): ClampResult<D, L, H>;
export function clamp(a: AnyTensor, min = -Infinity, max = Infinity): AnyTensor {
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) throw new Error(`clamp: need min <= max, got min ${min}, max ${max}`);
  const keepsInteger = (limit: number): boolean => !Number.isFinite(limit) || Number.isInteger(limit);
  if (a.isInteger()) {
    if (keepsInteger(min) && keepsInteger(max)) return integerUnary('clamp', a, (x) => Math.min(max, Math.max(min, x)));
    a = to(a, 'float32');
  }
  return unary('clamp', { value: (x) => Math.min(max, Math.max(min, x)), derivative: (x) => (x >= min && x <= max ? 1 : 0), reads: 'x' }, a as Tensor);
}

/** clamp's result type: an int tensor stays int unless a limit's literal type is fractional (see IntWithNumber). */
export type ClampResult<D extends TensorDType, L extends number, H extends number> =
  D extends 'int32' ? (IntWithNumber<L> extends IntTensor ? IntWithNumber<H> : IntWithNumber<L> extends Tensor ? Tensor : IntWithNumber<H> extends Tensor ? Tensor : AnyTensor) : Tensor<D>;

/** Picks a where condition is non-zero, else b (broadcasting all three). */
export function where(condition: AnyTensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = floatOperands(a, b, 'where');
  checkSameDtype('where', x, y);
  const shape = broadcastShapes(broadcastShapes(condition.shape, x.shape, 'where'), y.shape, 'where');
  const out = newTensor(shape, x);
  const ic = stridedOffsets(shape, broadcastStrides(condition.shape, shape));
  const ix = stridedOffsets(shape, broadcastStrides(x.shape, shape));
  const iy = stridedOffsets(shape, broadcastStrides(y.shape, shape));
  const c = condition.data, xd = x.data, yd = y.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = c[ic[i]!] !== 0 ? xd[ix[i]!]! : yd[iy[i]!]!;
  return record(out, {
    name: 'where', inputs: [x, y],
    backward: (g) => {
      const gx = newTensor(shape, g), gy = newTensor(shape, g);
      const gd = g.data, a1 = gx.data, b1 = gy.data;
      for (let i = 0; i < gd.length; i++) {
        if (c[ic[i]!] !== 0) a1[i] = gd[i]!;
        else b1[i] = gd[i]!;
      }
      return [sumToShape(gx, x.shape), sumToShape(gy, y.shape)];
    },
  }, [condition]);
}

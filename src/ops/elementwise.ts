/**
 * Elementwise ops with NumPy broadcasting. Each op keeps its forward and its backward side by side;
 * unary ops are rows of one table (value, derivative) in the tinygrad manner.
 */
import { broadcastShapes, record, sameShape, Tensor, type AnyTensor } from '../tensor/index.js';
import { asTensor, broadcastStrides, checkFloat, checkSameDtype, newTensor, stridedOffsets, sumToShape, type TensorLike } from './util.js';

function binaryForward(name: string, a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  checkSameDtype(name, a, b);
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

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'add');
  return record(binaryForward('add', x, y, (p, q) => p + q), {
    name: 'add', inputs: [x, y],
    backward: (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)],
  });
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'sub');
  return record(binaryForward('sub', x, y, (p, q) => p - q), {
    name: 'sub', inputs: [x, y],
    backward: (g) => [sumToShape(g, x.shape), sumToShape(neg(g), y.shape)],
  });
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'mul');
  return record(binaryForward('mul', x, y, (p, q) => p * q), {
    name: 'mul', inputs: [x, y],
    backward: (g) => [sumToShape(mul(g, y), x.shape), sumToShape(mul(g, x), y.shape)],
  }, [x, y]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'div');
  return record(binaryForward('div', x, y, (p, q) => p / q), {
    name: 'div', inputs: [x, y],
    backward: (g) => [sumToShape(div(g, y), x.shape), sumToShape(neg(div(mul(g, x), mul(y, y))), y.shape)],
  }, [x, y]);
}

/** a ** b; b may be a number or a tensor (then a must be positive where its gradient is needed). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'pow');
  return record(binaryForward('pow', x, y, (p, q) => p ** q), {
    name: 'pow', inputs: [x, y],
    backward: (g) => [
      sumToShape(mul(g, mul(y, pow(x, sub(y, 1)))), x.shape),
      y.requiresGrad ? sumToShape(mul(g, mul(pow(x, y), log(x))), y.shape) : null,
    ],
  }, [x, y]);
}

/** Elementwise maximum / minimum; the gradient goes to the larger (smaller) operand, halves on ties. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'maximum');
  return record(binaryForward('maximum', x, y, Math.max), {
    name: 'maximum', inputs: [x, y],
    backward: (g) => [
      sumToShape(mul(g, binaryForward('maximum', x, y, (p, q) => (p > q ? 1 : p === q ? 0.5 : 0))), x.shape),
      sumToShape(mul(g, binaryForward('maximum', x, y, (p, q) => (q > p ? 1 : p === q ? 0.5 : 0))), y.shape),
    ],
  }, [x, y]);
}

function operands(a: TensorLike, b: TensorLike, name: string): [Tensor, Tensor] {
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

export const neg = (a: Tensor): Tensor => unary('neg', unaryRules.neg, a);
export const exp = (a: Tensor): Tensor => unary('exp', unaryRules.exp, a);
export const log = (a: Tensor): Tensor => unary('log', unaryRules.log, a);
export const sqrt = (a: Tensor): Tensor => unary('sqrt', unaryRules.sqrt, a);
export const abs = (a: Tensor): Tensor => unary('abs', unaryRules.abs, a);
export const tanh = (a: Tensor): Tensor => unary('tanh', unaryRules.tanh, a);
export const sigmoid = (a: Tensor): Tensor => unary('sigmoid', unaryRules.sigmoid, a);
export const relu = (a: Tensor): Tensor => unary('relu', unaryRules.relu, a);
export const sin = (a: Tensor): Tensor => unary('sin', unaryRules.sin, a);
export const cos = (a: Tensor): Tensor => unary('cos', unaryRules.cos, a);

/** Limits values to [min, max]; the gradient is zero where a limit applied. */
export function clamp(a: Tensor, min = -Infinity, max = Infinity): Tensor {
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) throw new Error(`clamp: need min <= max, got min ${min}, max ${max}`);
  return unary('clamp', { value: (x) => Math.min(max, Math.max(min, x)), derivative: (x) => (x >= min && x <= max ? 1 : 0), reads: 'x' }, a);
}

/** Picks a where condition is non-zero, else b (broadcasting all three). */
export function where(condition: AnyTensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'where');
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

/**
 * Binary cross-entropy, on logits (PyTorch's binary_cross_entropy_with_logits) and on probabilities
 * (binary_cross_entropy), with PyTorch 1.13's `weight` and `pos_weight`. Each is one autograd node
 * per element computed in float64 from closed forms, so a logit of ±100 neither overflows nor loses
 * its gradient, and a logit of exactly 0 gets sigmoid(0) − y rather than a subgradient of |x|.
 */
import { expand } from '../ops/index.js';
import { allocateArray, formatShape, knownOptions, record, Tensor, type Shape } from '../tensor/index.js';
import { checkTensorInput, oneOf } from './checks.js';
import { checkSameShape, reduce, REDUCTIONS, type Reduction } from './reduction.js';

export interface BinaryCrossEntropyOptions {
  reduction?: Reduction;
  /** Rescales each element's loss; broadcast to the input's shape (PyTorch's `weight`). */
  weight?: Tensor | null;
}

export interface BceWithLogitsOptions extends BinaryCrossEntropyOptions {
  /** Multiplies the positive term −y·log σ(x); broadcast to the input's shape, so a [C] vector weighs the classes of the last dimension (PyTorch's `pos_weight`). */
  posWeight?: Tensor | null;
}

export const BCE_WITH_LOGITS_KEYS = ['reduction', 'weight', 'posWeight'] as const;
export const BCE_KEYS = ['reduction', 'weight'] as const;

/**
 * A constant factor (weight, posWeight) as one value per input element, with broadcasting's rules
 * (dimensions aligned from the right, each equal to the input's or 1, never more than the input has).
 * As in PyTorch, such a factor cannot itself be differentiated.
 */
function factorPerElement(where: string, name: string, factor: unknown, shape: Shape): ArrayLike<number> | null {
  if (factor === null || factor === undefined) return null;
  checkTensorInput(where, factor, `that broadcasts to the input's shape ${formatShape(shape)}`, name);
  const lead = shape.length - factor.shape.length;
  if (lead < 0 || factor.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
    throw new Error(`${where}: ${name} ${formatShape(factor.shape)} does not broadcast to the input's shape ${formatShape(shape)}`);
  }
  if (factor.requiresGrad) throw new Error(`${where}: ${name} cannot require gradients (PyTorch does not differentiate it either); pass ${name}.detach()`);
  return expand(factor, shape).data;
}

/** Options as an object, or the reduction alone (the older signature, kept). */
function optionsOf<T extends BinaryCrossEntropyOptions>(where: string, options: T | Reduction, keys: readonly (keyof T & string)[]): T {
  const o = typeof options === 'string' ? ({ reduction: options } as T) : knownOptions(where, options, keys);
  oneOf(where, 'reduction', o.reduction ?? 'mean', REDUCTIONS);
  return o;
}

/** Element i's loss or one of its derivatives, from the input x and target y. */
type ElementFormula = (x: ArrayLike<number>, y: ArrayLike<number>, i: number) => number;

/**
 * One node over every element. Backward reads input.data and target.data again rather than
 * keeping the forward's views: a parameter's view is detached when kernel memory grows.
 */
function elementwiseLoss(name: string, input: Tensor, target: Tensor, value: ElementFormula, dInput: ElementFormula, dTarget: ElementFormula): Tensor {
  const n = input.size;
  const out = allocateArray(n, input.dtype);
  const x = input.data, y = target.data;
  for (let i = 0; i < n; i++) out[i] = value(x, y, i);
  return record(new Tensor(out, input.shape), {
    name,
    inputs: [input, target],
    backward: (gradOutput) => {
      const g = gradOutput.data;
      const gradient = (d: ElementFormula, like: Tensor): Tensor => {
        const a = allocateArray(n, like.dtype);
        const xs = input.data, ys = target.data;
        for (let i = 0; i < n; i++) a[i] = g[i]! * d(xs, ys, i);
        return new Tensor(a, like.shape);
      };
      return [input.requiresGrad ? gradient(dInput, input) : null, target.requiresGrad ? gradient(dTarget, target) : null];
    },
  }, [input, target]);
}

/** log(1 + e^z) without overflow for large z, nor loss of precision for very negative z. */
const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * PyTorch's binary_cross_entropy_with_logits: per element w·((1 − y)·x + (1 + (p − 1)·y)·log(1 + e^−x)),
 * p the posWeight (1 without), w the weight. Input gradient w·((1 + (p − 1)·y)·σ(x) − p·y); target
 * gradient w·((p − 1)·log(1 + e^−x) − x).
 */
export function bceWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions | Reduction = {}): Tensor {
  const { reduction = 'mean', weight = null, posWeight = null } = optionsOf('bceWithLogits', options, BCE_WITH_LOGITS_KEYS);
  checkSameShape('bceWithLogits', input, target);
  const w = factorPerElement('bceWithLogits', 'weight', weight, input.shape);
  const p = factorPerElement('bceWithLogits', 'posWeight', posWeight, input.shape);
  const wAt = (i: number): number => (w ? w[i]! : 1);
  const pAt = (i: number): number => (p ? p[i]! : 1);
  const loss = elementwiseLoss(
    'bceWithLogits', input, target,
    (x, y, i) => wAt(i) * ((1 - y[i]!) * x[i]! + (1 + (pAt(i) - 1) * y[i]!) * softplus(-x[i]!)),
    (x, y, i) => wAt(i) * ((1 + (pAt(i) - 1) * y[i]!) * sigmoid(x[i]!) - pAt(i) * y[i]!),
    (x, _y, i) => wAt(i) * ((pAt(i) - 1) * softplus(-x[i]!) - x[i]!),
  );
  return reduce(loss, reduction);
}

/** PyTorch clamps each log at −100, so a probability of exactly 0 or 1 costs at most 100. */
const LOG_FLOOR = -100;
/** PyTorch's floor under x·(1 − x) in the input gradient: 1e-12 as a C float, which the fixtures show to 4e-9. */
const GRAD_EPSILON = Math.fround(1e-12);

/**
 * PyTorch's binary_cross_entropy on probabilities: per element −w·(y·log x + (1 − y)·log(1 − x)),
 * each log clamped at −100. Input gradient w·(x − y) / max(x·(1 − x), 1e−12); target gradient
 * w·(log(1 − x) − log x), unclamped as in PyTorch. Input values outside [0, 1] are an error.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BinaryCrossEntropyOptions | Reduction = {}): Tensor {
  const { reduction = 'mean', weight = null } = optionsOf('binaryCrossEntropy', options, BCE_KEYS);
  checkSameShape('binaryCrossEntropy', input, target);
  const w = factorPerElement('binaryCrossEntropy', 'weight', weight, input.shape);
  const probabilities = input.data;
  for (let i = 0; i < probabilities.length; i++) {
    const v = probabilities[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`binaryCrossEntropy: input must hold probabilities in [0, 1], got ${v} at position ${i} (for logits use bceWithLogits)`);
  }
  const wAt = (i: number): number => (w ? w[i]! : 1);
  const loss = elementwiseLoss(
    'binaryCrossEntropy', input, target,
    (x, y, i) => -wAt(i) * (y[i]! * Math.max(Math.log(x[i]!), LOG_FLOOR) + (1 - y[i]!) * Math.max(Math.log1p(-x[i]!), LOG_FLOOR)),
    (x, y, i) => (wAt(i) * (x[i]! - y[i]!)) / Math.max(x[i]! * (1 - x[i]!), GRAD_EPSILON),
    (x, _y, i) => wAt(i) * (Math.log1p(-x[i]!) - Math.log(x[i]!)),
  );
  return reduce(loss, reduction);
}

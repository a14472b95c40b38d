/** Losses with PyTorch's signatures and reductions. */
import { kernelsFor } from '../kernels/index.js';
import { abs, exp, log, mean, mul, neg, permute, relu, reshape, sub, sum, add, gather } from '../ops/index.js';
import { allocateArray, formatShape, record, Tensor } from '../tensor/index.js';
import { oneOf } from './checks.js';

export type Reduction = 'mean' | 'sum' | 'none';
const reductions: readonly Reduction[] = ['mean', 'sum', 'none'];

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  oneOf('loss', 'reduction', reduction, reductions);
  return reduction === 'mean' ? mean(loss) : reduction === 'sum' ? sum(loss) : loss;
}

function checkSameShape(where: string, input: Tensor, target: Tensor): void {
  if (input.shape.length !== target.shape.length || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${where}: target must have the input's shape ${formatShape(input.shape)}, got ${formatShape(target.shape)}`);
  }
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkSameShape('mseLoss', input, target);
  oneOf('loss', 'reduction', reduction, reductions);
  if (reduction === 'none' || input.dtype !== target.dtype) {
    const d = sub(input, target);
    return reduce(mul(d, d), reduction);
  }
  return reducedMse(input, target, reduction);
}

/**
 * mean or sum of (input - target)^2 as one node: one pass forward (accumulated in float64), one
 * pass and one array backward, where the op-by-op form makes and walks five arrays of the input's
 * size (a large model's per-step outputs: 1.6 million elements in the W5 benchmark).
 */
function reducedMse(input: Tensor, target: Tensor, reduction: 'mean' | 'sum'): Tensor {
  const n = input.size;
  const x = input.data, y = target.data;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - y[i]!;
    total += d * d;
  }
  const value = allocateArray(1, input.dtype);
  value[0] = reduction === 'mean' ? total / n : total;
  return record(new Tensor(value, []), {
    name: 'mseLoss',
    inputs: [input, target],
    backward: (gradOutput) => {
      const scale = gradOutput.data[0]! * (reduction === 'mean' ? 2 / n : 2);
      const xs = input.data, ys = target.data;
      const gradient = (sign: number): Tensor => {
        const g = allocateArray(n, input.dtype);
        const s = sign * scale;
        for (let i = 0; i < n; i++) g[i] = s * (xs[i]! - ys[i]!);
        return new Tensor(g, input.shape);
      };
      return [input.requiresGrad ? gradient(1) : null, target.requiresGrad ? gradient(-1) : null];
    },
  }, [input, target]);
}

/** Binary cross-entropy on logits, computed stably: max(x,0) - x*y + log(1 + exp(-|x|)). */
export function bceWithLogits(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkSameShape('bceWithLogits', input, target);
  const loss = add(sub(relu(input), mul(input, target)), log(add(exp(neg(abs(input))), 1)));
  return reduce(loss, reduction);
}

export interface ClassLossOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
}

type Targets = Tensor | Int32Array | readonly number[];

/** Moves the class dimension (1, as in PyTorch, for inputs of rank > 2) last and flattens. */
function classesLast(where: string, input: Tensor, targets: Targets): { logits: Tensor; ids: Int32Array; outShape: number[] } {
  const rank = input.shape.length;
  if (rank === 0) throw new Error(`${where}: input must be [N, C] or [N, C, d1, ...], got a scalar`);
  const classes = rank === 1 ? input.shape[0]! : input.shape[1]!;
  const expected = rank === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  const tShape = targets instanceof Tensor ? targets.shape : [targets.length];
  const tSize = targets instanceof Tensor ? targets.size : targets.length;
  const expectedSize = expected.reduce((p, q) => p * q, 1);
  if (tSize !== expectedSize || (targets instanceof Tensor && tShape.length !== expected.length)) {
    throw new Error(`${where}: target must be ${formatShape(expected)} for input ${formatShape(input.shape)}, got ${formatShape(tShape)}`);
  }
  const values = targets instanceof Tensor ? targets.data : targets;
  const ids = new Int32Array(tSize);
  for (let i = 0; i < tSize; i++) ids[i] = values[i]!;
  const moved = rank > 2 ? permute(input, [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]) : input;
  return { logits: reshape(moved, [-1, classes]), ids, outShape: expected };
}

function checkTargets(where: string, ids: Int32Array, classes: number, ignoreIndex: number, raw: Targets): void {
  const values = raw instanceof Tensor ? raw.data : raw;
  for (let i = 0; i < ids.length; i++) {
    const v = values[i]!;
    if (v === ignoreIndex) continue;
    if (!Number.isInteger(v) || v < 0 || v >= classes) throw new Error(`${where}: target ${v} at position ${i} is not a class index in [0, ${classes})`);
  }
}

/** Mean over non-ignored elements, as PyTorch does for 'mean' with ignoreIndex. */
function reduceClassLoss(perRow: Tensor, ids: Int32Array, ignoreIndex: number, reduction: Reduction, outShape: number[]): Tensor {
  oneOf('loss', 'reduction', reduction, reductions);
  if (reduction === 'none') return reshape(perRow, outShape);
  const total = sum(perRow);
  if (reduction === 'sum') return total;
  let count = 0;
  for (const id of ids) if (id !== ignoreIndex) count++;
  return mul(total, 1 / count);
}

/**
 * Softmax cross-entropy from logits and class indices, fused in one kernel (no softmax tensor is
 * materialised). Input [N, C] or [N, C, d1, ...]; targets [N] or [N, d1, ...].
 */
export function crossEntropy(input: Tensor, targets: Targets, options: ClassLossOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = options;
  const { logits, ids, outShape } = classesLast('crossEntropy', input, targets);
  const [rows, classes] = logits.shape as [number, number];
  checkTargets('crossEntropy', ids, classes, ignoreIndex, targets);
  const kern = kernelsFor(logits.dtype);
  const loss = new Tensor(allocateArray(rows, logits.dtype), [rows]);
  const needGrad = logits.requiresGrad;
  const dLogits = needGrad ? allocateArray(rows * classes, logits.dtype) : null;
  kern.softmaxCrossEntropy(rows, classes, logits.data, 0, ids, ignoreIndex, loss.data, 0, dLogits, 0);
  const perRow = record(loss, {
    name: 'crossEntropy', inputs: [logits],
    backward: (g) => {
      const out = new Tensor(allocateArray(rows * classes, logits.dtype), [rows, classes]);
      const o = out.data, gd = g.data;
      for (let r = 0; r < rows; r++) {
        const s = gd[r]!;
        for (let j = 0; j < classes; j++) o[r * classes + j] = s * dLogits![r * classes + j]!;
      }
      return [out];
    },
  });
  return reduceClassLoss(perRow, ids, ignoreIndex, reduction, outShape);
}

/** Negative log-likelihood from log-probabilities and class indices. */
export function nllLoss(input: Tensor, targets: Targets, options: ClassLossOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = options;
  const { logits, ids, outShape } = classesLast('nllLoss', input, targets);
  const classes = logits.shape[1]!;
  checkTargets('nllLoss', ids, classes, ignoreIndex, targets);
  const safe = new Tensor(allocateArray(ids.length, logits.dtype), [ids.length, 1]);
  const weight = new Tensor(allocateArray(ids.length, logits.dtype), [ids.length]);
  ids.forEach((id, i) => {
    safe.data[i] = id === ignoreIndex ? 0 : id;
    weight.data[i] = id === ignoreIndex ? 0 : -1;
  });
  const picked = mul(reshape(gather(logits, 1, safe), [ids.length]), weight);
  return reduceClassLoss(picked, ids, ignoreIndex, reduction, outShape);
}


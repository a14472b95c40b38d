/** Losses with PyTorch's signatures and reductions. */
import { kernelsFor } from '../kernels/index.js';
import { abs, exp, log, mul, neg, permute, reshape, sub, sum, add, gather, where, logSoftmax, clamp } from '../ops/index.js';
import { allocateArray, formatShape, knownOptions, record, Tensor } from '../tensor/index.js';
import { checkTensorInput, oneOf } from './checks.js';
import { checkSameShape, reduce, REDUCTIONS as reductions, type Reduction } from './reduction.js';

export { bceWithLogits, binaryCrossEntropy, type BceWithLogitsOptions, type BinaryCrossEntropyOptions } from './binary-losses.js';
export type { Reduction };

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

/** Mean (or sum) absolute error, PyTorch's l1_loss. */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkSameShape('l1Loss', input, target);
  return reduce(abs(sub(input, target)), reduction);
}

/**
 * PyTorch's huber_loss: 0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta), with d = input − target.
 */
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const { reduction = 'mean', delta = 1 } = knownOptions('huberLoss', options, ['reduction', 'delta']);
  checkSameShape('huberLoss', input, target);
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new Error(`huberLoss: delta must be a finite number > 0, got ${String(delta)}`);
  const d = sub(input, target);
  const a = abs(d);
  // min(|d|, delta) gives both branches in one expression: q·(|d| − q/2) with q = min(|d|, delta).
  const q = clamp(a, -Infinity, delta);
  return reduce(mul(q, sub(a, mul(q, 0.5))), reduction);
}

export type KLReduction = Reduction | 'batchmean';

/**
 * PyTorch's kl_div: input holds log-probabilities; target probabilities (or log-probabilities with
 * logTarget). Pointwise target·(log target − input), 0 where target is 0. 'mean' averages over
 * every element, as PyTorch does (it warns that 'batchmean', the sum over the batch size, is the KL
 * divergence).
 */
export function klDiv(input: Tensor, target: Tensor, options: { reduction?: KLReduction; logTarget?: boolean } = {}): Tensor {
  const { reduction = 'mean', logTarget = false } = knownOptions('klDiv', options, ['reduction', 'logTarget']);
  checkSameShape('klDiv', input, target);
  oneOf('klDiv', 'reduction', reduction, ['mean', 'sum', 'none', 'batchmean'] as const);
  let pointwise: Tensor;
  if (logTarget) {
    pointwise = mul(exp(target), sub(target, input));
  } else {
    // xlogy: where the target is 0 the term is 0 (and so is its gradient), never 0·log 0 = NaN.
    const positive = new Tensor(allocateArray(target.size, target.dtype), target.shape);
    const t = target.data, pd = positive.data;
    for (let i = 0; i < t.length; i++) pd[i] = t[i]! > 0 ? 1 : 0;
    const safe = where(positive, target, 1);
    pointwise = where(positive, mul(target, sub(log(safe), input)), 0);
  }
  if (reduction === 'batchmean') return mul(sum(pointwise), 1 / (input.shape.length > 0 ? input.shape[0]! : 1));
  return reduce(pointwise, reduction);
}

export interface ClassLossOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
  /** A rescaling weight per class ([C]), as PyTorch's `weight`. */
  weight?: Tensor | null;
}

export interface CrossEntropyOptions extends ClassLossOptions {
  /** PyTorch's label_smoothing in [0, 1]: the target mixes the class with the uniform distribution. */
  labelSmoothing?: number;
}

const CLASS_LOSS_KEYS = ['ignoreIndex', 'reduction', 'weight'] as const;

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
export function crossEntropy(input: Tensor, targets: Targets, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean', weight = null, labelSmoothing = 0 } = knownOptions('crossEntropy', options, [...CLASS_LOSS_KEYS, 'labelSmoothing']);
  checkTensorInput('crossEntropy', input, '[N, C] or [N, C, d1, ...] of logits');
  const { logits, ids, outShape } = classesLast('crossEntropy', input, targets);
  const [rows, classes] = logits.shape as [number, number];
  checkTargets('crossEntropy', ids, classes, ignoreIndex, targets);
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new Error(`crossEntropy: labelSmoothing must be a number in [0, 1], got ${String(labelSmoothing)}`);
  }
  if (weight !== null || labelSmoothing > 0) {
    return weightedCrossEntropy(logits, ids, outShape, { ignoreIndex, reduction, weight: checkClassWeight('crossEntropy', weight, classes, logits), labelSmoothing });
  }
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
  const { ignoreIndex = -100, reduction = 'mean', weight = null } = knownOptions('nllLoss', options, [...CLASS_LOSS_KEYS]);
  checkTensorInput('nllLoss', input, '[N, C] or [N, C, d1, ...] of log-probabilities');
  const { logits, ids, outShape } = classesLast('nllLoss', input, targets);
  const classes = logits.shape[1]!;
  checkTargets('nllLoss', ids, classes, ignoreIndex, targets);
  return weightedNll(logits, ids, outShape, ignoreIndex, reduction, checkClassWeight('nllLoss', weight, classes, logits));
}

function checkClassWeight(where: string, weight: unknown, classes: number, like: Tensor): Tensor | null {
  if (weight === null || weight === undefined) return null;
  if (!(weight instanceof Tensor) || weight.shape.length !== 1 || weight.shape[0] !== classes) {
    throw new Error(`${where}: weight must be a Tensor [${classes}] (one per class), got ${weight instanceof Tensor ? formatShape(weight.shape) : String(weight)}`);
  }
  if (weight.dtype !== like.dtype) throw new Error(`${where}: weight dtype must be ${like.dtype} like the input, got ${weight.dtype}`);
  return weight;
}

/** Per row: the class weight of its target (0 for ignored rows), and the picked log-probability's index. */
function rowWeights(ids: Int32Array, ignoreIndex: number, weight: Tensor | null, like: Tensor): { w: Tensor; safe: Tensor } {
  const n = ids.length;
  const w = new Tensor(allocateArray(n, like.dtype), [n]);
  const safe = new Tensor(allocateArray(n, like.dtype), [n, 1]);
  const cw = weight?.data;
  ids.forEach((id, i) => {
    const ignored = id === ignoreIndex;
    safe.data[i] = ignored ? 0 : id;
    w.data[i] = ignored ? 0 : cw ? cw[id]! : 1;
  });
  return { w, safe };
}

/** PyTorch's nll_loss: −w[y]·logp[y] per row (w = 1 without class weights, 0 where ignored); 'mean' divides by the sum of the weights used. */
function weightedNll(logp: Tensor, ids: Int32Array, outShape: number[], ignoreIndex: number, reduction: Reduction, weight: Tensor | null): Tensor {
  oneOf('loss', 'reduction', reduction, reductions);
  const { w, safe } = rowWeights(ids, ignoreIndex, weight, logp);
  const perRow = neg(mul(reshape(gather(logp, 1, safe), [ids.length]), w));
  if (reduction === 'none') return reshape(perRow, outShape);
  const total = sum(perRow);
  if (reduction === 'sum') return total;
  let weightSum = 0;
  for (const v of w.data) weightSum += v;
  return mul(total, 1 / weightSum);
}

/**
 * Cross-entropy with class weights and/or label smoothing, composed as PyTorch 1.13 composes it:
 * (1 − ε)·nll(logp, y; weight) + (ε/C)·smooth, where smooth is −Σ_c weight[c]·logp[c] per row
 * (0 for ignored rows) and, for 'mean', is divided by the same normaliser as the nll part.
 */
function weightedCrossEntropy(
  logits: Tensor, ids: Int32Array, outShape: number[],
  o: { ignoreIndex: number; reduction: Reduction; weight: Tensor | null; labelSmoothing: number },
): Tensor {
  oneOf('loss', 'reduction', o.reduction, reductions);
  const classes = logits.shape[1]!;
  const logp = logSoftmax(logits, 1);
  const { w } = rowWeights(ids, o.ignoreIndex, o.weight, logits);
  const nll = weightedNll(logp, ids, outShape, o.ignoreIndex, o.reduction, o.weight);
  if (o.labelSmoothing === 0) return nll;
  const keep = new Tensor(allocateArray(ids.length, logits.dtype), [ids.length]);
  ids.forEach((id, i) => { keep.data[i] = id === o.ignoreIndex ? 0 : 1; });
  const weighted = o.weight ? mul(logp, reshape(o.weight, [1, classes])) : logp;
  const smoothRows = mul(neg(sum(weighted, 1)), keep);
  let smooth: Tensor;
  if (o.reduction === 'none') smooth = reshape(smoothRows, outShape);
  else if (o.reduction === 'sum') smooth = sum(smoothRows);
  else {
    let normaliser = 0;
    for (const v of w.data) normaliser += v;
    smooth = mul(sum(smoothRows), 1 / normaliser);
  }
  return add(mul(nll, 1 - o.labelSmoothing), mul(smooth, o.labelSmoothing / classes));
}

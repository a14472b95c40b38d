/**
 * PyTorch's indexing idioms over the shape ops: select / index (x[i], x[indices]), t(), topk, and
 * max/min along a dimension with their indices. Indices come back as index tensors (int32), which
 * indexSelect, gather, Embedding and the losses read.
 */
import { formatShape, knownOptions, normDim, Tensor, type AnyTensor, type FloatDType, type IntTensor, type TensorDType } from '../tensor/index.js';
import { argmax, argmin, max, min } from './reduce.js';
import { gather, indexSelect, narrow, reshape, transpose } from './shape.js';
import { newTensor, type IndexLike } from './util.js';

/** A pair that also has PyTorch's field names: `const [values, indices] = x.max(1)` or `x.max(1).values`. */
export type ValuesIndices<D extends TensorDType = FloatDType> = [Tensor<D>, IntTensor] & { values: Tensor<D>; indices: IntTensor };

function valuesIndices<D extends TensorDType>(values: Tensor<D>, indices: IntTensor): ValuesIndices<D> {
  return Object.assign([values, indices] as [Tensor<D>, IntTensor], { values, indices });
}

/** The slice at `index` along `dim`, with that dimension removed (torch.select; x[i] for dim 0). */
export function select<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, index: number): Tensor<D> {
  const d = normDim(dim, a.shape.length, 'select');
  const size = a.shape[d]!;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new Error(`select: index ${index} is out of range for dimension ${d} of size ${size} (shape ${formatShape(a.shape)})`);
  }
  const i = index < 0 ? index + size : index;
  return reshape(narrow(a, d, i, 1), a.shape.filter((_, k) => k !== d));
}

/**
 * x[i]: the i-th entry of the leading dimension (negative counts from the end); given indices (an
 * index tensor or an array), x[indices]: those entries, with the indices' shape in front (PyTorch's
 * indexing of the leading dimension by a long tensor).
 */
export function index<D extends TensorDType = FloatDType>(a: Tensor<D>, i: number | IndexLike): Tensor<D> {
  if (a.shape.length === 0) throw new Error('index: a 0-d tensor cannot be indexed');
  if (typeof i === 'number') return select(a, 0, i);
  const picked = indexSelect(a, 0, i instanceof Tensor ? reshape(i as AnyTensor, [-1]) : i);
  return i instanceof Tensor ? reshape(picked, [...i.shape, ...a.shape.slice(1)]) : picked;
}

/** PyTorch's t(): transposes a 2-D tensor; 0-D and 1-D come back as they are. */
export function t<D extends TensorDType = FloatDType>(a: Tensor<D>): Tensor<D> {
  if (a.shape.length > 2) throw new Error(`t: expects a tensor of at most 2 dimensions, got ${formatShape(a.shape)} (use transpose(dim0, dim1))`);
  return a.shape.length < 2 ? a : transpose(a, 0, 1);
}

export function maxAlong<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, keepDim = false): ValuesIndices<D> {
  return valuesIndices(max(a, dim, keepDim), argmax(a, dim, keepDim));
}

export function minAlong<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, keepDim = false): ValuesIndices<D> {
  return valuesIndices(min(a, dim, keepDim), argmin(a, dim, keepDim));
}

/**
 * The k largest (or smallest) entries along dim, sorted, with their indices (torch.topk). The
 * gradient of the values flows to the picked entries. Ties keep the lower index first; NaN sorts as
 * the largest value, as in PyTorch.
 */
export function topk<D extends TensorDType = FloatDType>(a: Tensor<D>, k: number, topkOptions?: { dim?: number; largest?: boolean }): ValuesIndices<D> {
  const options = knownOptions('topk', topkOptions, ['dim', 'largest']);
  const rank = a.shape.length;
  if (rank === 0) throw new Error('topk: needs a tensor of at least one dimension');
  const d = normDim(options.dim ?? -1, rank, 'topk');
  const largest = options.largest ?? true;
  const size = a.shape[d]!;
  if (!Number.isInteger(k) || k < 0 || k > size) throw new Error(`topk: k must be an integer in [0, ${size}] (the size of dimension ${d}), got ${k}`);
  const inner = a.shape.slice(d + 1).reduce((p, q) => p * q, 1);
  const outer = a.size / Math.max(1, size * inner);
  const outShape = a.shape.map((s, i) => (i === d ? k : s));
  const indices = newTensor(outShape, 'int32');
  const x = a.data, o = indices.data;
  const order = Array.from({ length: size }, (_, j) => j);
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const at = (j: number): number => x[(p * size + j) * inner + q]!;
      const isNan = (j: number): number => (Number.isNaN(at(j)) ? 1 : 0);
      order.sort((i, j) => {
        // NaN above every number; then by value; ties by index.
        const byNan = largest ? isNan(j) - isNan(i) : isNan(i) - isNan(j);
        if (byNan !== 0) return byNan;
        const diff = largest ? key(at(j)) - key(at(i)) : key(at(i)) - key(at(j));
        return diff !== 0 && !Number.isNaN(diff) ? diff : i - j;
      });
      for (let j = 0; j < k; j++) o[(p * k + j) * inner + q] = order[j]!;
      order.sort((i, j) => i - j);
    }
  }
  return valuesIndices(gather(a, d, indices), indices);
}


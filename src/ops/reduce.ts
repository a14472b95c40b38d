/** Reductions over dimensions, with keepDim. An omitted dim reduces over every dimension. */
import { normDim, record, Tensor, toInt32, type AnyTensor, type FloatDType, type IntTensor, type Shape, type TensorDType } from '../tensor/index.js';
import { to } from './convert.js';
import { broadcastStrides, checkFloat, newTensor, stridedOffsets } from './util.js';

export type Dims = number | readonly number[] | undefined;

function reducedShapes(a: AnyTensor, dims: Dims, where: string): { kept: number[]; out: number[]; count: number } {
  const rank = a.shape.length;
  const list = dims === undefined ? a.shape.map((_, i) => i) : (typeof dims === 'number' ? [dims] : dims).map((d) => normDim(d, rank, where));
  const reduced = new Set(list);
  const kept = a.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const out = a.shape.filter((_, i) => !reduced.has(i));
  let count = 1;
  for (const d of reduced) count *= a.shape[d] ?? 1;
  return { kept, out, count };
}

/** Expands a reduced gradient (shape `kept`) back over the input's shape. */
function expandBack(g: Tensor, kept: Shape, shape: Shape, scale: number): Tensor {
  const out = newTensor(shape, g);
  if (g.size === 1) {
    out.data.fill(g.data[0]! * scale);
    return out;
  }
  const offsets = stridedOffsets(shape, broadcastStrides(kept, shape));
  const gd = g.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = gd[offsets[i]!]! * scale;
  return out;
}

function sumForward(a: Tensor, kept: Shape, outShape: Shape, scale: number): Tensor {
  const out = newTensor(outShape, a);
  const x = a.data, o = out.data;
  if (out.size === 1) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    o[0] = s * scale;
    return out;
  }
  const offsets = stridedOffsets(a.shape, broadcastStrides(kept, a.shape));
  for (let i = 0; i < x.length; i++) o[offsets[i]!]! += x[i]!;
  if (scale !== 1) for (let i = 0; i < o.length; i++) o[i]! *= scale;
  return out;
}

/** Sums over dims. An index tensor sums exactly to an int32 tensor (PyTorch gives int64); a sum
 * beyond int32 is an error rather than a wrapped value. */
export function sum<D extends TensorDType = FloatDType>(a: Tensor<D>, dims?: Dims, keepDim = false): Tensor<D> {
  if (!a.isFloatingPoint()) return sumIntegers(a as AnyTensor as IntTensor, dims, keepDim) as AnyTensor as Tensor<D>;
  return sumFloat(a, dims, keepDim) as AnyTensor as Tensor<D>;
}

function sumIntegers(a: IntTensor, dims: Dims, keepDim: boolean): IntTensor {
  // float64 holds every sum of int32 values exactly up to 2^53.
  const wide = sumFloat(to(a, 'float64'), dims, keepDim);
  const out = newTensor(wide.shape, a);
  const w = wide.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = toInt32(w[i]!, 'sum');
  return out;
}

function sumFloat(a: Tensor, dims: Dims, keepDim: boolean): Tensor {
  const { kept, out } = reducedShapes(a, dims, 'sum');
  return record(sumForward(a, kept, keepDim ? kept : out, 1), {
    name: 'sum', inputs: [a],
    backward: (g) => [expandBack(g, kept, a.shape, 1)],
  });
}

export function mean(a: Tensor, dims?: Dims, keepDim = false): Tensor {
  checkFloat('mean', a);
  const { kept, out, count } = reducedShapes(a, dims, 'mean');
  if (count === 0) throw new Error(`mean: cannot average over an empty dimension of shape [${a.shape.join(', ')}]`);
  return record(sumForward(a, kept, keepDim ? kept : out, 1 / count), {
    name: 'mean', inputs: [a],
    backward: (g) => [expandBack(g, kept, a.shape, 1 / count)],
  });
}

function extreme<D extends TensorDType>(name: string, a: Tensor<D>, dims: Dims, keepDim: boolean, better: (x: number, best: number) => boolean): Tensor<D> {
  const { kept, out: outShape, count } = reducedShapes(a, dims, name);
  if (count === 0) throw new Error(`${name}: cannot reduce over an empty dimension`);
  const out = newTensor(keepDim ? kept : outShape, a);
  const offsets = stridedOffsets(a.shape, broadcastStrides(kept, a.shape));
  const winner = new Int32Array(out.size).fill(-1);
  const x = a.data, o = out.data;
  for (let i = 0; i < x.length; i++) {
    const k = offsets[i]!;
    // NaN propagates, as in PyTorch.
    if (winner[k] === -1 || better(x[i]!, o[k]!) || Number.isNaN(x[i]!)) {
      if (winner[k] !== -1 && Number.isNaN(o[k]!)) continue;
      o[k] = x[i]!;
      winner[k] = i;
    }
  }
  if (typeof dims === 'number') {
    // torch.max(x, dim): the gradient goes to the element whose index the reduction reports.
    return record(out, {
      name, inputs: [a],
      backward: (g) => {
        const dx = newTensor(a.shape, g); // g has a's dtype: only float tensors get gradients
        const gd = g.data, d = dx.data;
        for (let k = 0; k < winner.length; k++) d[winner[k]!] = gd[k]!;
        return [dx];
      },
    });
  }
  // torch.max(x) and torch.amax(x, dims): the gradient is shared evenly by all the extreme elements.
  return record(out, {
    name, inputs: [a],
    backward: (g) => {
      const dx = newTensor(a.shape, g);
      const xv = a.data, ov = out.data, gd = g.data, d = dx.data;
      const ties = new Int32Array(ov.length);
      const isExtreme = (i: number, k: number): boolean => xv[i] === ov[k] || (Number.isNaN(xv[i]!) && Number.isNaN(ov[k]!));
      for (let i = 0; i < xv.length; i++) if (isExtreme(i, offsets[i]!)) ties[offsets[i]!]!++;
      for (let i = 0; i < xv.length; i++) {
        const k = offsets[i]!;
        if (isExtreme(i, k)) d[i] = gd[k]! / ties[k]!;
      }
      return [dx];
    },
  }, [a, out]);
}

/**
 * Largest values over dims. With one dim given as a number (torch.max(x, dim)) the gradient goes to
 * the first maximal element; over all dims or a list of dims (torch.max(x), torch.amax) it is shared
 * evenly by the maximal elements. NaN counts as the largest value.
 */
export const max = <D extends TensorDType = FloatDType>(a: Tensor<D>, dims?: Dims, keepDim = false): Tensor<D> => extreme('max', a, dims, keepDim, (x, b) => x > b);
/** Smallest values over dims; the gradient as for max. NaN counts as the smallest value. */
export const min = <D extends TensorDType = FloatDType>(a: Tensor<D>, dims?: Dims, keepDim = false): Tensor<D> => extreme('min', a, dims, keepDim, (x, b) => x < b);

/**
 * Indices of the largest values along one dimension (no gradient), as an index tensor (int32). As
 * in PyTorch, NaN counts as larger than any number (the first NaN wins), and ties go to the first.
 */
export function argmax(a: AnyTensor, dim: number, keepDim = false): IntTensor {
  return argExtreme('argmax', a, dim, keepDim, (v, best) => v > best);
}

/** Indices of the smallest values along one dimension; NaN counts as the smallest, ties go to the first. */
export function argmin(a: AnyTensor, dim: number, keepDim = false): IntTensor {
  return argExtreme('argmin', a, dim, keepDim, (v, best) => v < best);
}

function argExtreme(name: string, a: AnyTensor, dim: number, keepDim: boolean, better: (v: number, best: number) => boolean): IntTensor {
  const d = normDim(dim, a.shape.length, name);
  const size = a.shape[d]!;
  if (size === 0) throw new Error(`${name}: cannot reduce over an empty dimension`);
  const inner = a.shape.slice(d + 1).reduce((p, q) => p * q, 1);
  const outer = a.size / Math.max(1, size * inner);
  const shape = keepDim ? a.shape.map((s, i) => (i === d ? 1 : s)) : a.shape.filter((_, i) => i !== d);
  const out = newTensor(shape, 'int32');
  const x = a.data, o = out.data;
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      let best = 0;
      let bestValue = x[p * size * inner + q]!;
      for (let j = 1; j < size && !Number.isNaN(bestValue); j++) {
        const v = x[(p * size + j) * inner + q]!;
        if (better(v, bestValue) || Number.isNaN(v)) {
          best = j;
          bestValue = v;
        }
      }
      o[p * inner + q] = best;
    }
  }
  return out;
}

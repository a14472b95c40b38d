/** Shape ops: views that share storage (reshape) and copies (permute, narrow, cat, gather, ...). */
import { formatShape, normDim, record, sizeOf, stridesOf, Tensor, type AnyTensor, type FloatDType, type IntTensor, type Shape, type TensorDType } from '../tensor/index.js';
import { add as addBroadcast } from './elementwise.js';
import { broadcastStrides, newTensor, type IndexLike, shapeError, stridedOffsets, toIndexArray } from './util.js';

/** Same storage, new shape; one dimension may be -1 and is inferred. */
export function reshape<D extends TensorDType = FloatDType>(a: Tensor<D>, shape: Shape): Tensor<D> {
  const inferAt = shape.indexOf(-1);
  let resolved = [...shape];
  if (inferAt >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferAt));
    if (known === 0 || a.size % known !== 0 || shape.lastIndexOf(-1) !== inferAt) {
      throw new Error(`reshape: cannot reshape a tensor of shape ${formatShape(a.shape)} (${a.size} elements) to ${formatShape(shape)}`);
    }
    resolved[inferAt] = a.size / known;
  }
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(resolved) !== a.size) {
    throw new Error(`reshape: cannot reshape a tensor of shape ${formatShape(a.shape)} (${a.size} elements) to ${formatShape(shape)}`);
  }
  return record(new Tensor<D>(a.rawStorage, resolved), {
    name: 'reshape', inputs: [a],
    backward: (g) => [new Tensor(g.rawStorage, a.shape)],
  });
}

export const view = reshape;

export function flatten<D extends TensorDType = FloatDType>(a: Tensor<D>, startDim = 0, endDim = -1): Tensor<D> {
  const rank = a.shape.length;
  if (rank === 0) return reshape(a, [1]);
  const s = normDim(startDim, rank, 'flatten');
  const e = normDim(endDim, rank, 'flatten');
  const middle = sizeOf(a.shape.slice(s, e + 1));
  return reshape(a, [...a.shape.slice(0, s), middle, ...a.shape.slice(e + 1)]);
}

export function unsqueeze<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number): Tensor<D> {
  const d = normDim(dim, a.shape.length + 1, 'unsqueeze');
  return reshape(a, [...a.shape.slice(0, d), 1, ...a.shape.slice(d)]);
}

/** Removes size-1 dimensions (all of them, or only `dim`). */
export function squeeze<D extends TensorDType = FloatDType>(a: Tensor<D>, dim?: number): Tensor<D> {
  if (dim === undefined) return reshape(a, a.shape.filter((d) => d !== 1));
  const d = normDim(dim, a.shape.length, 'squeeze');
  return a.shape[d] === 1 ? reshape(a, a.shape.filter((_, i) => i !== d)) : a;
}

export function permute<D extends TensorDType = FloatDType>(a: Tensor<D>, dims: readonly number[]): Tensor<D> {
  const rank = a.shape.length;
  const order = dims.map((d) => normDim(d, rank, 'permute'));
  if (order.length !== rank || new Set(order).size !== rank) {
    throw new Error(`permute: dims must be a permutation of 0..${rank - 1}, got [${dims.join(', ')}]`);
  }
  const outShape = order.map((d) => a.shape[d]!);
  const strides = stridesOf(a.shape);
  const offsets = stridedOffsets(outShape, order.map((d) => strides[d]!));
  const out = newTensor(outShape, a);
  const x = a.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = x[offsets[i]!]!;
  const inverse = new Array<number>(rank);
  order.forEach((d, i) => (inverse[d] = i));
  return record(out, { name: 'permute', inputs: [a], backward: (g) => [permute(g, inverse)] });
}

export function transpose<D extends TensorDType = FloatDType>(a: Tensor<D>, dim0 = -2, dim1 = -1): Tensor<D> {
  const rank = a.shape.length;
  const d0 = normDim(dim0, rank, 'transpose');
  const d1 = normDim(dim1, rank, 'transpose');
  const order = a.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
  return permute(a, order);
}

/** Block geometry around one dimension: outer × size × inner. */
function blocks(shape: Shape, dim: number): { outer: number; size: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, dim)), size: shape[dim]!, inner: sizeOf(shape.slice(dim + 1)) };
}

/** Elements start..start+length-1 along dim (a copy). */
export function narrow<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, start: number, length: number): Tensor<D> {
  const d = normDim(dim, a.shape.length, 'narrow');
  const size = a.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new Error(`narrow: start ${start} and length ${length} do not fit dimension ${d} of size ${size} (shape ${formatShape(a.shape)})`);
  }
  // The whole dimension: a view, as reshape is (a recurrent layer narrows its one state this way).
  if (s === 0 && length === size) return reshape(a, a.shape);
  const { outer, inner } = blocks(a.shape, d);
  const outShape = a.shape.map((x, i) => (i === d ? length : x));
  const out = newTensor(outShape, a);
  const x = a.data, o = out.data;
  for (let p = 0; p < outer; p++) o.set(x.subarray((p * size + s) * inner, (p * size + s + length) * inner), p * length * inner);
  return record(out, {
    name: 'narrow', inputs: [a],
    backward: (g) => {
      const dx = newTensor(a.shape, g); // g has a's dtype: only float tensors get gradients
      const gd = g.data, dd = dx.data;
      for (let p = 0; p < outer; p++) dd.set(gd.subarray(p * length * inner, (p + 1) * length * inner), (p * size + s) * inner);
      return [dx];
    },
  });
}

/** Python-style slice [start, end) along dim; negative bounds count from the end and are clipped. */
export function slice<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, start = 0, end?: number): Tensor<D> {
  const d = normDim(dim, a.shape.length, 'slice');
  const size = a.shape[d]!;
  const clip = (v: number): number => Math.min(size, Math.max(0, v < 0 ? v + size : v));
  const s = clip(start);
  const e = clip(end ?? size);
  return narrow(a, d, s, Math.max(0, e - s));
}

export function cat<D extends TensorDType = FloatDType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  if (tensors.length === 0) throw new Error('cat: needs at least one tensor');
  const first = tensors[0]!;
  const d = normDim(dim, first.shape.length, 'cat');
  for (const [k, t] of tensors.entries()) {
    if (t.dtype !== first.dtype) throw new Error(`cat: dtypes must match, got ${first.dtype} and ${t.dtype} (tensor ${k})`);
    if (t.shape.length !== first.shape.length || t.shape.some((x, i) => i !== d && x !== first.shape[i])) {
      throw new Error(`cat: tensor ${k} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} outside dimension ${d}`);
    }
  }
  const sizes = tensors.map((t) => t.shape[d]!);
  const total = sizes.reduce((p, q) => p + q, 0);
  const outShape = first.shape.map((x, i) => (i === d ? total : x));
  const { outer, inner } = blocks(outShape, d);
  const out = newTensor(outShape, first);
  const o = out.data;
  let at = 0;
  for (const t of tensors) {
    const n = t.shape[d]!;
    const x = t.data;
    for (let p = 0; p < outer; p++) o.set(x.subarray(p * n * inner, (p + 1) * n * inner), (p * total + at) * inner);
    at += n;
  }
  return record(out, {
    name: 'cat', inputs: tensors,
    backward: (g) => {
      let offset = 0;
      return sizes.map((n) => {
        const part = narrow(g, d, offset, n);
        offset += n;
        return part;
      });
    },
  });
}

export function stack<D extends TensorDType = FloatDType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  if (tensors.length === 0) throw new Error('stack: needs at least one tensor');
  const first = tensors[0]!;
  for (const [k, t] of tensors.entries()) {
    if (t.shape.length !== first.shape.length || t.shape.some((x, i) => x !== first.shape[i])) {
      throw new Error(`stack: all tensors must have shape ${formatShape(first.shape)}, tensor ${k} has ${formatShape(t.shape)}`);
    }
  }
  const d = normDim(dim, first.shape.length + 1, 'stack');
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Splits into chunks of `sizeOrSections` along dim (the last may be smaller), or into the listed sizes. */
export function split<D extends TensorDType = FloatDType>(a: Tensor<D>, sizeOrSections: number | readonly number[], dim = 0): Tensor<D>[] {
  const d = normDim(dim, a.shape.length, 'split');
  const size = a.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new Error(`split: split size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < size; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, size - s));
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((p, q) => p + q, 0) !== size) throw new Error(`split: sizes [${sizes.join(', ')}] must add up to ${size}, the size of dimension ${d}`);
  }
  let offset = 0;
  return sizes.map((n) => {
    const part = narrow(a, d, offset, n);
    offset += n;
    return part;
  });
}

/** Rows (or slices along dim) picked by a 1-D index list; the gradient adds back into the picked rows. */
export function indexSelect<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, index: IndexLike): Tensor<D> {
  const d = normDim(dim, a.shape.length, 'indexSelect');
  const { outer, size, inner } = blocks(a.shape, d);
  const idx = toIndexArray(index, size, 'indexSelect');
  const n = idx.length;
  const out = newTensor(a.shape.map((x, i) => (i === d ? n : x)), a);
  const x = a.data, o = out.data;
  for (let p = 0; p < outer; p++) {
    for (let j = 0; j < n; j++) o.set(x.subarray((p * size + idx[j]!) * inner, (p * size + idx[j]! + 1) * inner), (p * n + j) * inner);
  }
  return record(out, {
    name: 'indexSelect', inputs: [a],
    backward: (g) => {
      const dx = newTensor(a.shape, g); // g has a's dtype: only float tensors get gradients
      const gd = g.data, dd = dx.data;
      for (let p = 0; p < outer; p++) {
        for (let j = 0; j < n; j++) {
          const src = (p * n + j) * inner, dst = (p * size + idx[j]!) * inner;
          for (let q = 0; q < inner; q++) dd[dst + q]! += gd[src + q]!;
        }
      }
      return [dx];
    },
  });
}

/** out[..., i, ...] = a[..., index[..., i, ...], ...] along dim (torch.gather). */
export function gather<D extends TensorDType = FloatDType>(a: Tensor<D>, dim: number, index: AnyTensor): Tensor<D> {
  const rank = a.shape.length;
  const d = normDim(dim, rank, 'gather');
  if (index.shape.length !== rank || index.shape.some((x, i) => i !== d && x > a.shape[i]!)) {
    throw shapeError('gather', 'index', `of rank ${rank} and no larger than ${formatShape(a.shape)} outside dimension ${d}`, index.shape);
  }
  const idx = toIndexArray(index, a.shape[d]!, 'gather');
  const aStrides = stridesOf(a.shape);
  const base = stridedOffsets(index.shape, aStrides.map((s, i) => (i === d ? 0 : s)));
  const out = newTensor(index.shape, a);
  const x = a.data, o = out.data;
  const step = aStrides[d]!;
  for (let i = 0; i < o.length; i++) o[i] = x[base[i]! + idx[i]! * step]!;
  return record(out, {
    name: 'gather', inputs: [a],
    backward: (g) => {
      const dx = newTensor(a.shape, g); // g has a's dtype: only float tensors get gradients
      const gd = g.data, dd = dx.data;
      for (let i = 0; i < gd.length; i++) dd[base[i]! + idx[i]! * step]! += gd[i]!;
      return [dx];
    },
  });
}

/**
 * Broadcasts to a larger shape (a copy; the gradient sums back), with torch.expand's rules: new
 * dimensions go in front, -1 keeps a dimension's size, and only dimensions of size 1 can change.
 */
export function expand<D extends TensorDType = FloatDType>(a: Tensor<D>, shape: Shape): Tensor<D> {
  const lead = shape.length - a.shape.length;
  const problem = (what: string): Error => new Error(`expand: ${what} (target shape ${formatShape(shape)}, tensor shape ${formatShape(a.shape)})`);
  if (lead < 0) {
    throw problem(`the target shape has ${shape.length} dimension(s), fewer than the tensor's ${a.shape.length}`);
  }
  // From the last dimension, as PyTorch checks, so both report the same dimension first.
  const outShape = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const size = shape[i]!;
    if (!Number.isInteger(size) || size < -1) throw problem(`size ${size} at dimension ${i} is not a size (use -1 to keep one)`);
    if (i < lead) {
      if (size === -1) throw problem(`size -1 is not allowed at dimension ${i}, a new leading dimension`);
      outShape[i] = size;
      continue;
    }
    const existing = a.shape[i - lead]!;
    if (size !== -1 && existing !== 1 && size !== existing) {
      throw problem(`the expanded size of the tensor (${size}) must match the existing size (${existing}) at non-singleton dimension ${i}`);
    }
    outShape[i] = size === -1 ? existing : size;
  }
  if (!a.isFloatingPoint()) return broadcastCopy(a, outShape);
  // a + zeros broadcasts a and records the gradient rule (sum back to a's shape).
  return addBroadcast(a, newTensor(outShape, a)) as unknown as Tensor<D>;
}

/** a broadcast to outShape, for tensors that take no gradient (index tensors). */
function broadcastCopy<D extends TensorDType>(a: Tensor<D>, outShape: Shape): Tensor<D> {
  const out = newTensor(outShape, a);
  const offsets = stridedOffsets(outShape, broadcastStrides(a.shape, outShape));
  const x = a.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = x[offsets[i]!]!;
  return out;
}

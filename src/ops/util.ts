/** Helpers shared by the ops: argument coercion, dtype checks and strided index maps. */
import { allocateArray, formatShape, integerTensorError, stridesOf, Tensor, type AnyTensor, type ArrayOf, type FloatDType, type Shape, type TensorDType } from '../tensor/index.js';

export type TensorLike = Tensor | number;

/** Turns a number into a 0-d tensor of the other operand's dtype. */
export function asTensor(x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new Error(`expected a Tensor or a number, got ${typeof x}`);
  const data = allocateArray(1, like.dtype);
  data[0] = x;
  return new Tensor(data, []);
}

export function checkSameDtype(where: string, ...tensors: Tensor[]): void {
  const first = tensors[0]!;
  for (const t of tensors) {
    checkFloat(where, t);
    if (t.dtype !== first.dtype) {
      throw new Error(`${where}: dtypes must match, got ${first.dtype} and ${t.dtype} (convert one with .to('${first.dtype}'))`);
    }
  }
}

export function newTensor<D extends TensorDType = FloatDType>(shape: Shape, like: Tensor<D> | D): Tensor<D> {
  const dtype: TensorDType = typeof like === 'string' ? like : like.dtype;
  let size = 1;
  for (const d of shape) size *= d;
  return new Tensor<D>(allocateArray(size, dtype) as ArrayOf<D>, shape);
}

/** Strides of `shape` seen from a broadcast `outShape` (0 along broadcast dimensions). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((d, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]!));
}

/** For each element (row-major) of `shape`, its offset under `strides`. */
export function stridedOffsets(shape: Shape, strides: readonly number[]): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < size; i++) {
    out[i] = offset;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      offset -= strides[d]! * shape[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/** Sums a gradient of a broadcast result back down to an operand's shape. */
export function sumToShape(grad: Tensor, shape: Shape): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const out = newTensor(shape, grad);
  const offsets = stridedOffsets(grad.shape, broadcastStrides(shape, grad.shape));
  const g = grad.data;
  const o = out.data;
  for (let i = 0; i < g.length; i++) o[offsets[i]!]! += g[i]!;
  return out;
}

/**
 * Indices as the ops accept them: an index tensor (int32), an Int32Array or a number array, or (kept
 * from before integer tensors existed) a float tensor holding whole numbers.
 */
export type IndexLike = AnyTensor | Int32Array | readonly number[];

/** Normalises and checks an index list; negative indices count from the end. */
export function toIndexArray(index: IndexLike, bound: number, where: string): Int32Array {
  const values = index instanceof Tensor ? index.data : index;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) throw new Error(`${where}: index ${v} at position ${i} is not an integer`);
    if (v < -bound || v >= bound) {
      throw new Error(`${where}: index ${v} at position ${i} is out of range for a dimension of size ${bound}`);
    }
    out[i] = v < 0 ? v + bound : v;
  }
  return out;
}

/** Refuses an integer tensor where an op computes with float values (see integerTensorError). */
export function checkFloat(where: string, t: AnyTensor | number): void {
  if (typeof t !== 'number' && t.dtype === 'int32') throw integerTensorError(where, t.dtype);
}

export function shapeError(where: string, what: string, expected: string, got: Shape): Error {
  return new Error(`${where}: ${what} must be ${expected}, got ${formatShape(got)}`);
}

/**
 * The tensor dtypes: the kernels' float dtypes, and int32 for index tensors (docs/architecture.md,
 * "Index tensors are int32").
 *
 * PyTorch's index dtype is int64. Here an index tensor is int32 in an Int32Array: a BigInt64Array
 * would make every index a BigInt, and nothing in this library can address 2^31 elements (typed
 * arrays and wasm memory stop well below). 'int64' is accepted as a spelling that gives int32, so
 * code written with PyTorch's names keeps working; converting a value outside int32 is an error.
 */
import type { DType, FloatArray } from '../kernels/index.js';

export type FloatDType = DType;
export type IntDType = 'int32';
export type TensorDType = FloatDType | IntDType;
/** What options accept: a dtype, or 'int64' (PyTorch's torch.long), which gives int32. */
export type DTypeSpelling = TensorDType | 'int64';

/** The array a tensor of dtype D stores its elements in. */
export type ArrayOf<D extends TensorDType> = D extends IntDType ? Int32Array : FloatArray;
export type AnyArray = FloatArray | Int32Array;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function isFloatDType(dtype: string): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

/** A dtype option resolved ('int64' gives int32), or an error naming where it was given. */
export function resolveDType(dtype: unknown, where: string): TensorDType {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32') return dtype;
  if (dtype === 'int64') return 'int32';
  throw new Error(`${where}: dtype must be 'float32', 'float64', 'int32' or 'int64' (stored as int32), got ${typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}`);
}

export function dtypeOfArray(data: AnyArray): TensorDType {
  // Float32Array first: every tensor constructor asks, and nearly all are float32.
  return data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * A number as an int32 element, as PyTorch converts floats to integers: truncated toward zero. NaN,
 * infinities and values outside int32 are an error (PyTorch's result there is undefined).
 */
export function toInt32(value: number, where: string): number {
  const truncated = Math.trunc(value);
  if (!(truncated >= INT32_MIN && truncated <= INT32_MAX)) {
    throw new Error(`${where}: ${value} cannot be stored in int32 (integers from ${INT32_MIN} to ${INT32_MAX})`);
  }
  return truncated;
}

/** Copies src into dst, converting to int32 with toInt32's checks when dst is integer. */
export function copyConverting(dst: AnyArray, src: ArrayLike<number>, where: string): void {
  if (dst instanceof Int32Array && !(src instanceof Int32Array)) {
    for (let i = 0; i < src.length; i++) dst[i] = toInt32(src[i]!, where);
  } else {
    dst.set(src as ArrayLike<number>);
  }
}

/** The error for a float-only op given an integer tensor. */
export function integerTensorError(where: string, dtype: string): Error {
  return new Error(`${where}: not defined for ${dtype} tensors (integer tensors hold indices); convert with .float() or .double() first`);
}

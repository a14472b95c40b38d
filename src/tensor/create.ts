/**
 * Creation functions. float32 unless the data is a Float64Array or Int32Array or a dtype is asked for;
 * `dtype: 'int32'` (or PyTorch's 'int64', stored as int32) makes an index tensor.
 */
import type { DType, FloatArray, KernelBuffer } from '../kernels/index.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, type AnyTensor, type IntTensor } from './tensor.js';
import { allocateArray } from './arrays.js';
import { checkOptionKeys } from './options.js';
import { copyConverting, resolveDType, toInt32, type AnyArray, type DTypeSpelling, type TensorDType } from './dtype.js';

export { allocateArray };

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Options that make an index tensor; integer tensors cannot require gradients, as in PyTorch. */
export interface IntCreateOptions {
  dtype: 'int32' | 'int64';
  requiresGrad?: false;
}

/** Any creation options (the implementations' view). */
interface AnyCreateOptions {
  dtype?: DTypeSpelling;
  requiresGrad?: boolean;
}

function optionDType(options: AnyCreateOptions, where: string, fallback: TensorDType = 'float32'): TensorDType {
  return options.dtype === undefined ? fallback : resolveDType(options.dtype, where);
}

/** The dtype of a creation whose values are not integers (random draws). */
function floatOptionDType(options: AnyCreateOptions, where: string): DType {
  const dtype = optionDType(options, where);
  if (dtype === 'int32') throw new Error(`${where}: dtype must be 'float32' or 'float64' (random values are not integers), got '${options.dtype}'`);
  return dtype;
}

function checkIntGrad(where: string, dtype: TensorDType, options: AnyCreateOptions): void {
  if (dtype === 'int32' && options.requiresGrad) {
    throw new Error(`${where}: only tensors of floating point dtype can require gradients, got dtype ${dtype}`);
  }
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

const CREATE_KEYS = ['dtype', 'requiresGrad'];

type Nested = number | readonly Nested[];

function inferShape(data: Nested, where: string): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0] as Nested;
  }
  if (!Array.isArray(level) && typeof level !== 'number') throw new Error(`${where}: expected numbers, got ${typeof level}`);
  return shape;
}

function flattenInto(data: Nested, shape: number[], dim: number, out: AnyArray, offset: number, where: string): number {
  if (dim === shape.length) {
    if (typeof data !== 'number') throw new Error(`${where}: ragged nested array (expected a number at depth ${dim}, got an array)`);
    out[offset] = out instanceof Int32Array ? toInt32(data, where) : data;
    return offset + 1;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`${where}: ragged nested array (expected length ${shape[dim]} at depth ${dim}, got ${Array.isArray(data) ? data.length : typeof data})`);
  }
  for (const item of data) offset = flattenInto(item as Nested, shape, dim + 1, out, offset, where);
  return offset;
}

/**
 * A tensor from nested arrays or a typed array; its shape defaults to the nesting (1-D for a typed
 * array). The data is always copied, as torch.tensor copies, so refilling the array afterwards (a
 * batch buffer reused between steps) cannot change the tensor or the gradients of a graph that saved
 * it. To share a typed array on purpose, without the copy, use fromArray.
 */
export function tensor(data: Nested | AnyArray | readonly number[], shape: Shape | undefined, options: IntCreateOptions): IntTensor;
export function tensor(data: Int32Array, shape?: Shape, options?: Partial<IntCreateOptions>): IntTensor;
export function tensor(data: Nested | FloatArray | readonly number[], shape?: Shape, options?: CreateOptions): Tensor;
export function tensor(data: Nested | AnyArray | readonly number[], shape?: Shape, options: AnyCreateOptions = {}): AnyTensor {
  const where = 'tensor';
  checkOptionKeys(where, options, CREATE_KEYS);
  let storage: AnyArray;
  let finalShape: number[];
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)) {
      throw new Error(`${where}: typed array data must be Float32Array, Float64Array or Int32Array`);
    }
    const dtype = optionDType(options, where, data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32');
    storage = allocateArray(data.length, dtype);
    copyConverting(storage, data, where);
    finalShape = shape ? [...shape] : [data.length];
  } else {
    const inferred = inferShape(data as Nested, where);
    storage = allocateArray(sizeOf(inferred), optionDType(options, where));
    flattenInto(data as Nested, inferred, 0, storage, 0, where);
    finalShape = shape ? [...shape] : inferred;
  }
  checkShape(finalShape, where);
  if (sizeOf(finalShape) !== storage.length) {
    throw new Error(`${where}: shape ${formatShape(finalShape)} needs ${sizeOf(finalShape)} elements, data has ${storage.length}`);
  }
  return makeTensor(where, storage, finalShape, options);
}

function makeTensor(where: string, storage: AnyArray, shape: Shape, options: AnyCreateOptions): AnyTensor {
  if (storage instanceof Int32Array) {
    checkIntGrad(where, 'int32', options);
    return new Tensor<'int32'>(storage, shape);
  }
  return new Tensor(storage, shape, { requiresGrad: options.requiresGrad ?? false });
}

/**
 * A tensor over the caller's typed array without copying it, as torch.from_numpy: the two share
 * memory, so a write to either shows in the other. Only for arrays left alone while a graph that uses
 * the tensor may still run backward (a buffer refilled before backward() corrupts the gradients of
 * ops that saved it); tensor() makes a copy instead. The dtype follows the array; the shape defaults
 * to 1-D.
 */
export function fromArray(data: Int32Array, shape?: Shape): IntTensor;
export function fromArray(data: FloatArray, shape?: Shape): Tensor;
export function fromArray(data: AnyArray, shape?: Shape): AnyTensor {
  const where = 'fromArray';
  if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)) {
    const kind = data === null || typeof data !== 'object' ? String(data) : (data as object).constructor?.name ?? 'an object';
    throw new Error(`${where}: expected a Float32Array, Float64Array or Int32Array, got ${kind}`);
  }
  const finalShape = shape ? [...shape] : [data.length];
  checkShape(finalShape, where);
  if (sizeOf(finalShape) !== data.length) {
    throw new Error(`${where}: shape ${formatShape(finalShape)} needs ${sizeOf(finalShape)} elements, the array has ${data.length}`);
  }
  return makeTensor(where, data, finalShape, {});
}

/** A tensor over a long-lived kernel buffer (parameters and state in wasm memory). */
export function fromBuffer(buffer: KernelBuffer, shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(buffer, shape, options);
}

export function full(shape: Shape, value: number, options: IntCreateOptions): IntTensor;
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor;
export function full(shape: Shape, value: number, options: AnyCreateOptions = {}): AnyTensor {
  checkShape(shape, 'full');
  checkOptionKeys('full', options, CREATE_KEYS);
  const dtype = optionDType(options, 'full');
  const data = allocateArray(sizeOf(shape), dtype);
  if (value !== 0) data.fill(dtype === 'int32' ? toInt32(value, 'full') : value);
  return makeTensor('full', data, shape, options);
}

/**
 * A shape given as PyTorch allows: one array (`zeros([2, 3])`) or the sizes as arguments
 * (`zeros(2, 3)`), either followed by an options object.
 */
export type ShapeArgs<O> = [shape: Shape, options?: O] | number[] | [...sizes: number[], options: O];
/** ShapeArgs whose options are required (they carry the dtype that picks the overload). */
export type ShapeArgsWith<O> = [shape: Shape, options: O] | [...sizes: number[], options: O];

function shapeArgs<O extends object>(where: string, args: readonly unknown[], known: readonly string[]): { shape: Shape; options: O } {
  const last = args[args.length - 1];
  const hasOptions = args.length > 0 && typeof last === 'object' && last !== null && !Array.isArray(last);
  const options = (hasOptions ? last : {}) as O;
  const sizes = hasOptions ? args.slice(0, -1) : args;
  checkOptionKeys(where, options, known);
  if (sizes.length === 1 && Array.isArray(sizes[0])) return { shape: sizes[0] as number[], options };
  if (sizes.some((d) => typeof d !== 'number')) {
    throw new Error(`${where}: expected a shape as an array ([2, 3]) or as numbers (2, 3), got (${sizes.map((d) => (Array.isArray(d) ? `[${d.join(', ')}]` : String(d))).join(', ')})`);
  }
  return { shape: sizes as number[], options };
}

const RANDOM_KEYS = [...CREATE_KEYS, 'generator'];

export function zeros(...args: ShapeArgsWith<IntCreateOptions>): IntTensor;
export function zeros(...args: ShapeArgs<CreateOptions>): Tensor;
export function zeros(...args: ShapeArgs<AnyCreateOptions>): AnyTensor {
  const { shape, options } = shapeArgs<AnyCreateOptions>('zeros', args, CREATE_KEYS);
  return full(shape, 0, options as CreateOptions);
}

export function ones(...args: ShapeArgsWith<IntCreateOptions>): IntTensor;
export function ones(...args: ShapeArgs<CreateOptions>): Tensor;
export function ones(...args: ShapeArgs<AnyCreateOptions>): AnyTensor {
  const { shape, options } = shapeArgs<AnyCreateOptions>('ones', args, CREATE_KEYS);
  return full(shape, 1, options as CreateOptions);
}

export function zerosLike<D extends TensorDType>(t: Tensor<D>): Tensor<D> {
  return zeros(t.shape, { dtype: t.dtype } as CreateOptions) as AnyTensor as Tensor<D>;
}

/** Uniform in [low, high). */
export function rand(...args: ShapeArgs<RandomOptions & { low?: number; high?: number }>): Tensor {
  const { shape, options } = shapeArgs<RandomOptions & { low?: number; high?: number }>('rand', args, [...RANDOM_KEYS, 'low', 'high']);
  checkShape(shape, 'rand');
  const g = options.generator ?? defaultGenerator;
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const data = allocateArray(sizeOf(shape), floatOptionDType(options, 'rand'));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * g.uniform();
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/** Normal with the given mean and standard deviation (default standard normal). */
export function randn(...args: ShapeArgs<RandomOptions & { mean?: number; std?: number }>): Tensor {
  const { shape, options } = shapeArgs<RandomOptions & { mean?: number; std?: number }>('randn', args, [...RANDOM_KEYS, 'mean', 'std']);
  checkShape(shape, 'randn');
  const g = options.generator ?? defaultGenerator;
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const data = allocateArray(sizeOf(shape), floatOptionDType(options, 'randn'));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * g.normal();
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/** [start, start+step, ...) up to end (exclusive), like torch.arange. */
export function arange(start: number, end: number | undefined, step: number | undefined, options: IntCreateOptions): IntTensor;
export function arange(start: number, end?: number, step?: number, options?: CreateOptions): Tensor;
export function arange(start: number, end?: number, step = 1, options: AnyCreateOptions = {}): AnyTensor {
  checkOptionKeys('arange', options, CREATE_KEYS);
  const dtype = optionDType(options, 'arange');
  if (end === undefined) [start, end] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new Error(`arange: start, end and step must be finite and step non-zero, got (${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkShape([n], 'arange');
  const data = allocateArray(n, dtype);
  for (let i = 0; i < n; i++) data[i] = dtype === 'int32' ? toInt32(start + i * step, 'arange') : start + i * step;
  return makeTensor('arange', data, [n], options);
}

export function eye(n: number, m: number | undefined, options: IntCreateOptions): IntTensor;
export function eye(n: number, m?: number, options?: CreateOptions): Tensor;
export function eye(n: number, m = n, options: AnyCreateOptions = {}): AnyTensor {
  checkShape([n, m], 'eye');
  checkOptionKeys('eye', options, CREATE_KEYS);
  const data = allocateArray(n * m, optionDType(options, 'eye'));
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return makeTensor('eye', data, [n, m], options);
}

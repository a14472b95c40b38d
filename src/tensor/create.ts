/** Creation functions. float32 unless the data is a Float64Array or `dtype: 'float64'` is asked for. */
import type { DType, FloatArray, KernelBuffer } from '../kernels/index.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import { allocateArray } from './arrays.js';
import { checkOptionKeys } from './options.js';

export { allocateArray };

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
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

function flattenInto(data: Nested, shape: number[], dim: number, out: FloatArray, offset: number, where: string): number {
  if (dim === shape.length) {
    if (typeof data !== 'number') throw new Error(`${where}: ragged nested array (expected a number at depth ${dim}, got an array)`);
    out[offset] = data;
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
export function tensor(data: Nested | FloatArray | readonly number[], shape?: Shape, options: CreateOptions = {}): Tensor {
  const where = 'tensor';
  checkOptionKeys(where, options, CREATE_KEYS);
  let storage: FloatArray;
  let finalShape: number[];
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Float32Array || data instanceof Float64Array)) throw new Error(`${where}: typed array data must be Float32Array or Float64Array`);
    storage = allocateArray(data.length, options.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32'));
    storage.set(data);
    finalShape = shape ? [...shape] : [data.length];
  } else {
    const inferred = inferShape(data as Nested, where);
    storage = allocateArray(sizeOf(inferred), options.dtype ?? 'float32');
    flattenInto(data as Nested, inferred, 0, storage, 0, where);
    finalShape = shape ? [...shape] : inferred;
  }
  checkShape(finalShape, where);
  if (sizeOf(finalShape) !== storage.length) {
    throw new Error(`${where}: shape ${formatShape(finalShape)} needs ${sizeOf(finalShape)} elements, data has ${storage.length}`);
  }
  return new Tensor(storage, finalShape, { requiresGrad: options.requiresGrad ?? false });
}

/**
 * A tensor over the caller's typed array without copying it, as torch.from_numpy: the two share
 * memory, so a write to either shows in the other. Only for arrays left alone while a graph that uses
 * the tensor may still run backward (a buffer refilled before backward() corrupts the gradients of
 * ops that saved it); tensor() makes a copy instead. The dtype follows the array; the shape defaults
 * to 1-D.
 */
export function fromArray(data: FloatArray, shape?: Shape): Tensor {
  const where = 'fromArray';
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    const kind = data === null || typeof data !== 'object' ? String(data) : (data as object).constructor?.name ?? 'an object';
    throw new Error(`${where}: expected a Float32Array or Float64Array, got ${kind}`);
  }
  const finalShape = shape ? [...shape] : [data.length];
  checkShape(finalShape, where);
  if (sizeOf(finalShape) !== data.length) {
    throw new Error(`${where}: shape ${formatShape(finalShape)} needs ${sizeOf(finalShape)} elements, the array has ${data.length}`);
  }
  return new Tensor(data, finalShape);
}

/** A tensor over a long-lived kernel buffer (parameters and state in wasm memory). */
export function fromBuffer(buffer: KernelBuffer, shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(buffer, shape, options);
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  checkOptionKeys('full', options, CREATE_KEYS);
  const data = allocateArray(sizeOf(shape), options.dtype);
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/**
 * A shape given as PyTorch allows: one array (`zeros([2, 3])`) or the sizes as arguments
 * (`zeros(2, 3)`), either followed by an options object.
 */
export type ShapeArgs<O> = [shape: Shape, options?: O] | number[] | [...sizes: number[], options: O];

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

export function zeros(...args: ShapeArgs<CreateOptions>): Tensor {
  const { shape, options } = shapeArgs<CreateOptions>('zeros', args, CREATE_KEYS);
  return full(shape, 0, options);
}

export function ones(...args: ShapeArgs<CreateOptions>): Tensor {
  const { shape, options } = shapeArgs<CreateOptions>('ones', args, CREATE_KEYS);
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

/** Uniform in [low, high). */
export function rand(...args: ShapeArgs<RandomOptions & { low?: number; high?: number }>): Tensor {
  const { shape, options } = shapeArgs<RandomOptions & { low?: number; high?: number }>('rand', args, [...RANDOM_KEYS, 'low', 'high']);
  checkShape(shape, 'rand');
  const g = options.generator ?? defaultGenerator;
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const data = allocateArray(sizeOf(shape), options.dtype);
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
  const data = allocateArray(sizeOf(shape), options.dtype);
  for (let i = 0; i < data.length; i++) data[i] = mean + std * g.normal();
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/** [start, start+step, ...) up to end (exclusive), like torch.arange. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  checkOptionKeys('arange', options, CREATE_KEYS);
  if (end === undefined) [start, end] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new Error(`arange: start, end and step must be finite and step non-zero, got (${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkShape([n], 'arange');
  const data = allocateArray(n, options.dtype);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n], { requiresGrad: options.requiresGrad ?? false });
}

export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkShape([n, m], 'eye');
  checkOptionKeys('eye', options, CREATE_KEYS);
  const data = allocateArray(n * m, options.dtype);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return new Tensor(data, [n, m], { requiresGrad: options.requiresGrad ?? false });
}

/**
 * The operators exporters put around recurrent layers (embedding lookups, linear heads, the shape
 * arithmetic of dynamic axes), with ONNX's semantics, on plain arrays: they cost little next to the
 * recurrent operators, which run on the fused kernels (recurrent-ops.ts).
 */
import { broadcastStrides, stridedOffsets } from '../../ops/util.js';
import { broadcastShapes, formatShape, stridesOf } from '../../tensor/index.js';
import type { Attributes } from './attributes.js';
import { onnx } from './proto.js';
import { ELEMENT_TYPE_OF, checkShape, elementCount, isFloat, makeValue, type Value } from './values.js';

export interface OpContext {
  where: string;
  opset: number;
}

export interface Operator {
  attributes: readonly string[];
  /** Inputs it may take (the rest of the node's inputs must be absent). */
  maxInputs: number;
  run(inputs: (Value | null)[], attrs: Attributes, ctx: OpContext): Value[];
}

export function required(inputs: (Value | null)[], index: number, ctx: OpContext, name: string): Value {
  const v = inputs[index];
  if (!v) throw new Error(`${ctx.where}: input ${index} (${name}) is required`);
  return v;
}

const normAxis = (axis: number, rank: number, ctx: OpContext): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) throw new Error(`${ctx.where}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
};

function intList(v: Value, ctx: OpContext, name: string): number[] {
  if (isFloat(v.type)) throw new Error(`${ctx.where}: ${name} must be an integer tensor, got ${v.type}`);
  if (v.shape.length > 1) throw new Error(`${ctx.where}: ${name} must be 1-D, got shape ${formatShape(v.shape)}`);
  return Array.from(v.data);
}

/** For each element of the broadcast result `out`, the index of the element of `shape` it reads. */
const broadcastIndex = (shape: readonly number[], out: readonly number[]): Int32Array => stridedOffsets(out, broadcastStrides(shape, out));

function elementwise(fn: (a: number, b: number) => number, integerFn?: (a: number, b: number) => number): Operator {
  return {
    attributes: [],
    maxInputs: 2,
    run(inputs, _attrs, ctx) {
      const a = required(inputs, 0, ctx, 'A'), b = required(inputs, 1, ctx, 'B');
      if (a.type !== b.type) throw new Error(`${ctx.where}: inputs must have one element type, got ${a.type} and ${b.type}`);
      const shape = broadcastShapes(a.shape, b.shape, ctx.where);
      checkShape(shape, ctx.where);
      const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
      const out = makeValue(a.type, shape);
      const f = !isFloat(a.type) && integerFn ? integerFn : fn;
      for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!);
      return [out];
    },
  };
}

/** Matrix product of the last two axes, the leading ones broadcast (numpy.matmul). */
function matmul(a: Value, b: Value, ctx: OpContext): Value {
  if (!isFloat(a.type) || a.type !== b.type) throw new Error(`${ctx.where}: MatMul needs two float tensors of one type, got ${a.type} and ${b.type}`);
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error(`${ctx.where}: MatMul inputs must have at least one dimension`);
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const M = as[as.length - 2]!, K = as[as.length - 1]!, N = bs[bs.length - 1]!;
  if (bs[bs.length - 2] !== K) throw new Error(`${ctx.where}: MatMul of ${formatShape(a.shape)} by ${formatShape(b.shape)}: inner dimensions differ`);
  const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2), ctx.where);
  const shape = [...batch, M, N];
  checkShape(shape, ctx.where);
  const ia = broadcastIndex(as.slice(0, -2), batch), ib = broadcastIndex(bs.slice(0, -2), batch);
  const out = makeValue(a.type, shape);
  for (let n = 0; n < ia.length; n++) {
    const ao = ia[n]! * M * K, bo = ib[n]! * K * N, oo = n * M * N;
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        const x = a.data[ao + i * K + k]!;
        if (x === 0) continue;
        for (let j = 0; j < N; j++) out.data[oo + i * N + j]! += x * b.data[bo + k * N + j]!;
      }
    }
  }
  if (a.shape.length === 1) shape.splice(shape.length - 2, 1);
  if (b.shape.length === 1) shape.splice(shape.length - 1, 1);
  return { ...out, shape };
}

function transpose(v: Value, perm: readonly number[], ctx: OpContext): Value {
  const rank = v.shape.length;
  if (perm.length !== rank || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) {
    throw new Error(`${ctx.where}: perm ${JSON.stringify(perm)} is not a permutation of the ${rank} axes`);
  }
  const shape = perm.map((p) => v.shape[p]!);
  const inStrides = stridesOf(v.shape);
  const offsets = stridedOffsets(shape, perm.map((p) => inStrides[p]!));
  const out = makeValue(v.type, shape);
  for (let n = 0; n < offsets.length; n++) out.data[n] = v.data[offsets[n]!]!;
  return out;
}

export const transposeValue = transpose;

/** Axes from the attribute (before opset 13) or from input 1 (from opset 13). */
function axesOf(inputs: (Value | null)[], attrs: Attributes, ctx: OpContext): number[] | undefined {
  if (ctx.opset >= 13) {
    if (attrs.has('axes')) throw new Error(`${ctx.where}: from opset 13 axes are an input, not an attribute`);
    return inputs[1] ? intList(inputs[1], ctx, 'axes') : undefined;
  }
  return attrs.ints('axes');
}


function softmax(v: Value, axis: number, flatten: boolean, ctx: OpContext): Value {
  if (!isFloat(v.type)) throw new Error(`${ctx.where}: Softmax needs a float tensor, got ${v.type}`);
  const a = normAxis(axis, v.shape.length, ctx);
  // Before opset 13 the input is seen as 2-D [prod(shape[:axis]), prod(shape[axis:])]; after, one axis.
  const inner = flatten ? 1 : elementCount(v.shape.slice(a + 1));
  const size = flatten ? elementCount(v.shape.slice(a)) : v.shape[a]!;
  const outer = elementCount(v.shape.slice(0, a));
  const out = makeValue(v.type, [...v.shape]);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let max = -Infinity;
      for (let k = 0; k < size; k++) max = Math.max(max, v.data[base + k * inner]!);
      let sum = 0;
      for (let k = 0; k < size; k++) sum += (out.data[base + k * inner] = Math.exp(v.data[base + k * inner]! - max));
      for (let k = 0; k < size; k++) out.data[base + k * inner]! /= sum;
    }
  }
  return out;
}

function expandTo(v: Value, shape: readonly number[], ctx: OpContext): Value {
  const outShape = broadcastShapes(v.shape, shape, ctx.where);
  checkShape(outShape, ctx.where);
  const index = broadcastIndex(v.shape, outShape);
  const out = makeValue(v.type, outShape);
  for (let i = 0; i < index.length; i++) out.data[i] = v.data[index[i]!]!;
  return out;
}

export const GLUE_OPERATORS: Record<string, Operator> = {
  Identity: { attributes: [], maxInputs: 1, run: (inputs, _a, ctx) => [required(inputs, 0, ctx, 'input')] },
  Add: elementwise((a, b) => a + b),
  Sub: elementwise((a, b) => a - b),
  Mul: elementwise((a, b) => a * b),
  Div: elementwise((a, b) => a / b, (a, b) => Math.trunc(a / b)),
  MatMul: { attributes: [], maxInputs: 2, run: (inputs, _a, ctx) => [matmul(required(inputs, 0, ctx, 'A'), required(inputs, 1, ctx, 'B'), ctx)] },
  Gemm: {
    attributes: ['alpha', 'beta', 'transA', 'transB'],
    maxInputs: 3,
    run(inputs, attrs, ctx) {
      let a = required(inputs, 0, ctx, 'A'), b = required(inputs, 1, ctx, 'B');
      if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error(`${ctx.where}: Gemm inputs must be 2-D, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
      if (attrs.int('transA', 0)) a = transpose(a, [1, 0], ctx);
      if (attrs.int('transB', 0)) b = transpose(b, [1, 0], ctx);
      const product = matmul(a, b, ctx);
      const alpha = attrs.float('alpha') ?? 1, beta = attrs.float('beta') ?? 1;
      const c = inputs[2] ? expandTo(inputs[2], product.shape, ctx) : null;
      if (c && (c.shape.length !== 2 || c.shape[0] !== product.shape[0] || c.shape[1] !== product.shape[1])) {
        throw new Error(`${ctx.where}: C of shape ${formatShape(inputs[2]!.shape)} does not broadcast to ${formatShape(product.shape)}`);
      }
      for (let i = 0; i < product.data.length; i++) product.data[i] = alpha * product.data[i]! + (c ? beta * c.data[i]! : 0);
      return [product];
    },
  },
  Gather: {
    attributes: ['axis'],
    maxInputs: 2,
    run(inputs, attrs, ctx) {
      const data = required(inputs, 0, ctx, 'data'), indices = required(inputs, 1, ctx, 'indices');
      if (isFloat(indices.type)) throw new Error(`${ctx.where}: indices must be integers, got ${indices.type}`);
      const axis = normAxis(attrs.int('axis', 0), data.shape.length, ctx);
      const size = data.shape[axis]!;
      const outer = elementCount(data.shape.slice(0, axis)), inner = elementCount(data.shape.slice(axis + 1));
      const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
      checkShape(shape, ctx.where);
      const out = makeValue(data.type, shape);
      const n = indices.data.length;
      for (let k = 0; k < n; k++) {
        let idx = indices.data[k]!;
        if (idx < -size || idx >= size) throw new Error(`${ctx.where}: index ${idx} is out of range for axis ${axis} of size ${size}`);
        if (idx < 0) idx += size;
        for (let o = 0; o < outer; o++) {
          out.data.set(data.data.subarray((o * size + idx) * inner, (o * size + idx + 1) * inner), (o * n + k) * inner);
        }
      }
      return [out];
    },
  },
  Transpose: {
    attributes: ['perm'],
    maxInputs: 1,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      return [transpose(v, attrs.ints('perm') ?? v.shape.map((_, i) => v.shape.length - 1 - i), ctx)];
    },
  },
  Squeeze: {
    attributes: ['axes'],
    maxInputs: 2,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      const axes = axesOf(inputs, attrs, ctx)?.map((a) => normAxis(a, v.shape.length, ctx));
      for (const a of axes ?? []) if (v.shape[a] !== 1) throw new Error(`${ctx.where}: cannot squeeze axis ${a} of size ${v.shape[a]}`);
      return [{ ...v, shape: v.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
    },
  },
  Unsqueeze: {
    attributes: ['axes'],
    maxInputs: 2,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      const list = axesOf(inputs, attrs, ctx);
      if (!list) throw new Error(`${ctx.where}: axes are required`);
      const rank = v.shape.length + list.length;
      const axes = list.map((a) => normAxis(a, rank, ctx));
      const shape: number[] = [];
      let from = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : v.shape[from++]!);
      return [{ ...v, shape }];
    },
  },
  Concat: {
    attributes: ['axis'],
    maxInputs: Infinity,
    run(inputs, attrs, ctx) {
      const parts = inputs.filter((v): v is Value => v !== null);
      if (parts.length === 0) throw new Error(`${ctx.where}: needs at least one input`);
      const first = parts[0]!;
      const axis = normAxis(attrs.int('axis', Number.NaN), first.shape.length, ctx);
      for (const p of parts) {
        if (p.type !== first.type || p.shape.length !== first.shape.length || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
          throw new Error(`${ctx.where}: cannot concatenate ${formatShape(p.shape)} (${p.type}) with ${formatShape(first.shape)} (${first.type}) on axis ${axis}`);
        }
      }
      const shape = [...first.shape];
      shape[axis] = parts.reduce((n, p) => n + p.shape[axis]!, 0);
      checkShape(shape, ctx.where);
      const out = makeValue(first.type, shape);
      const outer = elementCount(shape.slice(0, axis)), inner = elementCount(shape.slice(axis + 1));
      let offset = 0;
      for (const p of parts) {
        const block = p.shape[axis]! * inner;
        for (let o = 0; o < outer; o++) out.data.set(p.data.subarray(o * block, (o + 1) * block), o * shape[axis]! * inner + offset);
        offset += block;
      }
      return [out];
    },
  },
  Slice: {
    attributes: ['starts', 'ends', 'axes'],
    maxInputs: 5,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      const fromInputs = ctx.opset >= 10;
      const starts = fromInputs ? intList(required(inputs, 1, ctx, 'starts'), ctx, 'starts') : attrs.ints('starts') ?? [];
      const ends = fromInputs ? intList(required(inputs, 2, ctx, 'ends'), ctx, 'ends') : attrs.ints('ends') ?? [];
      const axes = (fromInputs ? (inputs[3] ? intList(inputs[3], ctx, 'axes') : undefined) : attrs.ints('axes')) ?? starts.map((_, i) => i);
      const steps = fromInputs && inputs[4] ? intList(inputs[4], ctx, 'steps') : starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
        throw new Error(`${ctx.where}: starts, ends, axes and steps must have one length`);
      }
      const rank = v.shape.length;
      const begin = v.shape.map(() => 0), step = v.shape.map(() => 1), shape = [...v.shape];
      axes.forEach((axisIn, i) => {
        const axis = normAxis(axisIn, rank, ctx), dim = v.shape[axis]!, s = steps[i]!;
        if (s === 0) throw new Error(`${ctx.where}: a step of 0`);
        const clampIndex = (x: number, low: number, high: number): number => Math.min(Math.max(x < 0 ? x + dim : x, low), high);
        const b = s > 0 ? clampIndex(starts[i]!, 0, dim) : clampIndex(starts[i]!, -1, dim - 1);
        const e = s > 0 ? clampIndex(ends[i]!, 0, dim) : clampIndex(ends[i]!, -1, dim - 1);
        begin[axis] = b;
        step[axis] = s;
        shape[axis] = Math.max(0, Math.ceil((e - b) / s));
      });
      const out = makeValue(v.type, shape);
      const strides = stridesOf(v.shape);
      const counter = shape.map(() => 0);
      for (let n = 0; n < out.data.length; n++) {
        let at = 0;
        for (let d = 0; d < rank; d++) at += (begin[d]! + counter[d]! * step[d]!) * strides[d]!;
        out.data[n] = v.data[at]!;
        for (let d = rank - 1; d >= 0 && ++counter[d]! >= shape[d]!; d--) counter[d] = 0;
      }
      return [out];
    },
  },
  Reshape: {
    attributes: ['allowzero'],
    maxInputs: 2,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      const spec = intList(required(inputs, 1, ctx, 'shape'), ctx, 'shape');
      const allowZero = attrs.int('allowzero', 0) === 1;
      const shape = spec.map((d, i) => (d === 0 && !allowZero ? v.shape[i] ?? Number.NaN : d));
      const unknown = shape.filter((d) => d === -1).length;
      if (unknown > 1 || shape.some((d) => Number.isNaN(d) || d < -1)) throw new Error(`${ctx.where}: invalid target shape ${JSON.stringify(spec)} for input ${formatShape(v.shape)}`);
      const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
      if (unknown) shape[shape.indexOf(-1)] = known === 0 ? 0 : v.data.length / known;
      if (elementCount(shape) !== v.data.length || !shape.every(Number.isInteger)) {
        throw new Error(`${ctx.where}: cannot reshape ${formatShape(v.shape)} (${v.data.length} elements) to ${JSON.stringify(spec)}`);
      }
      return [{ ...v, shape }];
    },
  },
  Shape: {
    attributes: ['start', 'end'],
    maxInputs: 1,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'data');
      const rank = v.shape.length;
      const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
      const dims = v.shape.slice(clampAxis(attrs.int('start', 0)), clampAxis(attrs.int('end', rank)));
      return [makeValue('int64', [dims.length], Float64Array.from(dims))];
    },
  },
  Softmax: {
    attributes: ['axis'],
    maxInputs: 1,
    run(inputs, attrs, ctx) {
      const legacy = ctx.opset < 13;
      return [softmax(required(inputs, 0, ctx, 'input'), attrs.int('axis', legacy ? 1 : -1), legacy, ctx)];
    },
  },
  Constant: {
    attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'],
    maxInputs: 0,
    run(_inputs, attrs, ctx) {
      const tensor = attrs.tensor('value');
      if (tensor) return [tensor];
      const f = attrs.float('value_float'), fs = attrs.floats('value_floats'), ints = attrs.ints('value_ints');
      if (f !== undefined) return [makeValue('float32', [], Float32Array.of(f))];
      if (fs) return [makeValue('float32', [fs.length], Float32Array.from(fs))];
      if (attrs.has('value_int')) return [makeValue('int64', [], Float64Array.of(attrs.int('value_int', 0)))];
      if (ints) return [makeValue('int64', [ints.length], Float64Array.from(ints))];
      throw new Error(`${ctx.where}: has no value attribute`);
    },
  },
  ConstantOfShape: {
    attributes: ['value'],
    maxInputs: 1,
    run(inputs, attrs, ctx) {
      const shape = intList(required(inputs, 0, ctx, 'input'), ctx, 'shape');
      checkShape(shape, ctx.where);
      const value = attrs.tensor('value') ?? makeValue('float32', [1], Float32Array.of(0));
      if (value.data.length !== 1) throw new Error(`${ctx.where}: value must hold one element, got ${value.data.length}`);
      const out = makeValue(value.type, shape);
      out.data.fill(value.data[0]!);
      return [out];
    },
  },
  Expand: {
    attributes: [],
    maxInputs: 2,
    run: (inputs, _a, ctx) => [expandTo(required(inputs, 0, ctx, 'input'), intList(required(inputs, 1, ctx, 'shape'), ctx, 'shape'), ctx)],
  },
  Cast: {
    attributes: ['to', 'saturate'],
    maxInputs: 1,
    run(inputs, attrs, ctx) {
      const v = required(inputs, 0, ctx, 'input');
      const code = attrs.int('to', -1);
      const type = ELEMENT_TYPE_OF[code];
      if (!type) throw new Error(`${ctx.where}: casting to ${onnx.TensorProto.DataType[code] ?? code} is not supported`);
      const out = makeValue(type, [...v.shape]);
      const convert = type === 'bool' ? (x: number) => (x !== 0 ? 1 : 0) : isFloat(type) ? (x: number) => x : Math.trunc;
      for (let i = 0; i < v.data.length; i++) out.data[i] = convert(v.data[i]!);
      return [out];
    },
  },
};

/**
 * What flows along an imported graph's edges: a typed, shaped array. Floats keep their width; integer
 * and boolean tensors (shapes, indices, masks) are held as float64, exact for every integer an index
 * or a dimension can be. TensorProto (ONNX's serialised tensor) converts to and from it here, with
 * every declared size checked against the data before anything is allocated.
 */
import { Tensor, formatShape, toInt32, type AnyTensor } from '../../tensor/index.js';
import { MAX_ELEMENTS, decodeMessage, int, onnx, type OnnxTypes } from './proto.js';

export type ElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

export interface Value {
  type: ElementType;
  shape: number[];
  data: Float32Array | Float64Array;
}

const DataType = onnx.TensorProto.DataType;

/** ONNX's element types this library reads, with their byte widths in raw_data. */
const READABLE: Partial<Record<number, { type: ElementType; bytes: number; name: string }>> = {
  [DataType.FLOAT]: { type: 'float32', bytes: 4, name: 'FLOAT' },
  [DataType.DOUBLE]: { type: 'float64', bytes: 8, name: 'DOUBLE' },
  [DataType.INT64]: { type: 'int64', bytes: 8, name: 'INT64' },
  [DataType.INT32]: { type: 'int32', bytes: 4, name: 'INT32' },
  [DataType.INT16]: { type: 'int32', bytes: 2, name: 'INT16' },
  [DataType.INT8]: { type: 'int32', bytes: 1, name: 'INT8' },
  [DataType.UINT8]: { type: 'int32', bytes: 1, name: 'UINT8' },
  [DataType.UINT16]: { type: 'int32', bytes: 2, name: 'UINT16' },
  [DataType.BOOL]: { type: 'bool', bytes: 1, name: 'BOOL' },
};

/** The element types a graph's inputs and computed values may have, by ONNX code. */
export const ELEMENT_TYPE_OF: Partial<Record<number, ElementType>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.BOOL]: 'bool',
};

export const dataTypeName = (code: number): string => DataType[code] ?? `data type ${code}`;

export const isFloat = (type: ElementType): boolean => type === 'float32' || type === 'float64';

export const elementCount = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** Checks dimensions one by one (non-negative integers, total within MAX_ELEMENTS) before a caller
 * allocates anything of that shape. */
export function checkShape(shape: readonly number[], what: string): number {
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: dimension ${d} in shape ${formatShape(shape)} is not a non-negative integer`);
    count *= d;
    if (count > MAX_ELEMENTS) throw new Error(`${what}: shape ${formatShape(shape)} has more than ${MAX_ELEMENTS} elements (the limit for one tensor)`);
  }
  return count;
}

export function makeValue(type: ElementType, shape: number[], data?: Float32Array | Float64Array): Value {
  const count = elementCount(shape);
  const array = data ?? (type === 'float32' ? new Float32Array(count) : new Float64Array(count));
  if (array.length !== count) throw new Error(`internal: ${array.length} values for shape ${formatShape(shape)}`);
  return { type, shape, data: array };
}

/**
 * A float tensor shares its array (float64 data widened where a float32 value holds it); an integer
 * or boolean value becomes an index tensor (int32; values beyond int32 are an error naming `what`).
 */
export function valueToTensor(v: Value, what: string): AnyTensor {
  if (!isFloat(v.type)) {
    const ints = new Int32Array(v.data.length);
    for (let i = 0; i < ints.length; i++) ints[i] = toInt32(v.data[i]!, `${what} (${v.type})`);
    return new Tensor<'int32'>(ints, v.shape);
  }
  return new Tensor(v.type === 'float32' ? v.data : v.data instanceof Float64Array ? v.data : Float64Array.from(v.data), v.shape);
}

/** A tensor as a Value (shares a float tensor's array; an index tensor's values become float64). */
export function tensorToValue(t: AnyTensor): Value {
  if (!t.isFloatingPoint()) return { type: 'int32', shape: [...t.shape], data: Float64Array.from(t.data) };
  return { type: t.dtype, shape: [...t.shape], data: t.data };
}

/** Reads a TensorProto already decoded. `what` names it in errors (an initializer, a Constant node...). */
export function readTensorProto(proto: OnnxTypes.ITensorProto, what: string): Value {
  const code = proto.dataType ?? 0;
  const format = READABLE[code];
  if (!format) throw new Error(`${what}: element type ${dataTypeName(code)} is not supported (supported: ${Object.values(READABLE).map((f) => f!.name).join(', ')})`);
  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (proto.externalData?.length ?? 0) > 0) {
    throw new Error(`${what}: external data (weights in a separate file) is not supported; save the model with its weights inside`);
  }
  if (proto.segment) throw new Error(`${what}: segmented tensors are not supported`);
  const shape = (proto.dims ?? []).map((d) => int(d, `${what}: dimension`));
  const count = checkShape(shape, what);
  const raw = proto.rawData;
  const type = format.type;
  const out = type === 'float32' ? new Float32Array(count) : new Float64Array(count);
  if (raw && raw.length > 0) {
    if (raw.length !== count * format.bytes) {
      throw new Error(`${what}: shape ${formatShape(shape)} needs ${count * format.bytes} bytes of ${format.name} data, got ${raw.length}`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) out[i] = readRaw(view, code, i * format.bytes);
    return { type, shape, data: out };
  }
  const fields: (readonly (number | { toNumber(): number })[] | null | undefined)[] =
    code === DataType.FLOAT ? [proto.floatData]
    : code === DataType.DOUBLE ? [proto.doubleData]
    : code === DataType.INT64 ? [proto.int64Data]
    : [proto.int32Data];
  const values = fields[0] ?? [];
  if (values.length !== count) {
    throw new Error(`${what}: shape ${formatShape(shape)} declares ${count} ${format.name} values, the tensor holds ${values.length}`);
  }
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    out[i] = typeof v === 'number' ? v : int(v, what);
  }
  return { type, shape, data: out };
}

function readRaw(view: DataView, code: number, at: number): number {
  switch (code) {
    case DataType.FLOAT: return view.getFloat32(at, true);
    case DataType.DOUBLE: return view.getFloat64(at, true);
    case DataType.INT64: return Number(view.getBigInt64(at, true));
    case DataType.INT32: return view.getInt32(at, true);
    case DataType.INT16: return view.getInt16(at, true);
    case DataType.UINT16: return view.getUint16(at, true);
    case DataType.INT8: return view.getInt8(at);
    case DataType.UINT8: return view.getUint8(at);
    default: return view.getUint8(at) !== 0 ? 1 : 0; // BOOL
  }
}

/** A TensorProto for an exported initializer: floats as float32 raw little-endian bytes, integers as int64. */
export function floatTensorProto(name: string, shape: readonly number[], data: ArrayLike<number>): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return { name, dims: [...shape], dataType: DataType.FLOAT, rawData: raw };
}

export function int64TensorProto(name: string, values: readonly number[], shape: readonly number[] = [values.length]): OnnxTypes.ITensorProto {
  return { name, dims: [...shape], dataType: DataType.INT64, int64Data: [...values] };
}

/**
 * One serialised TensorProto (the input_*.pb / output_*.pb files of ONNX's test data sets) as a
 * Tensor: FLOAT and DOUBLE keep their width; integer and BOOL types give index tensors (int32, an
 * error for INT64 values beyond int32).
 */
export function readOnnxTensor(bytes: Uint8Array): AnyTensor {
  return valueToTensor(readTensorProto(decodeMessage(onnx.TensorProto, bytes, 'readOnnxTensor', 'TensorProto'), 'readOnnxTensor'), 'readOnnxTensor');
}

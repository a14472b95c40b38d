// Small ONNX models written directly with the schema's generated code, for tests of the importer:
// one operator with chosen attributes, or a deliberately broken graph.
import { onnx, type OnnxTypes } from '../../src/interop/onnx/proto.js';
import { floatTensorProto } from '../../src/interop/onnx/values.js';

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
const Attr = onnx.AttributeProto.AttributeType;

export type AttributeValue = number | string | number[] | string[] | { float: number } | { floats: number[] };

export function attribute(name: string, v: AttributeValue): OnnxTypes.IAttributeProto {
  const text = (s: string) => new TextEncoder().encode(s);
  if (typeof v === 'number') return { name, type: Attr.INT, i: v };
  if (typeof v === 'string') return { name, type: Attr.STRING, s: text(v) };
  if (Array.isArray(v)) return typeof v[0] === 'string' ? { name, type: Attr.STRINGS, strings: (v as string[]).map(text) } : { name, type: Attr.INTS, ints: v as number[] };
  if ('float' in v) return { name, type: Attr.FLOAT, f: v.float };
  return { name, type: Attr.FLOATS, floats: v.floats };
}

export interface GraphSpec {
  nodes: { op: string; inputs: string[]; outputs: string[]; attributes?: Record<string, AttributeValue> }[];
  inputs: { name: string; type?: number; shape?: (number | string)[] }[];
  outputs: string[];
  initializers?: { name: string; shape: number[]; data: ArrayLike<number> }[];
  opset?: number;
}

export function modelBytes(spec: GraphSpec): Uint8Array {
  const info = (name: string, type = FLOAT, shape?: (number | string)[]): OnnxTypes.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: type, ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}) } },
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 14 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        opType: n.op, name: `n${i}`, input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (spec.initializers ?? []).map((t) => floatTensorProto(t.name, t.shape, t.data)),
      input: spec.inputs.map((i) => info(i.name, i.type, i.shape)),
      output: spec.outputs.map((o) => info(o)),
    },
  })).finish();
}

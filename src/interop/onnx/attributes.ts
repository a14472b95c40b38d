/**
 * A node's attributes, read by name with the type ONNX gives each, and checked against the names its
 * operator knows: an attribute this library would ignore is an error, never a silently different answer.
 */
import { int, onnx, type OnnxTypes } from './proto.js';
import { readTensorProto, type Value } from './values.js';

const Type = onnx.AttributeProto.AttributeType;
const decoder = new TextDecoder();

export class Attributes {
  private readonly byName = new Map<string, OnnxTypes.IAttributeProto>();

  constructor(readonly where: string, list: readonly OnnxTypes.IAttributeProto[]) {
    for (const a of list) {
      if (a.refAttrName) throw new Error(`${where}: attribute '${a.name}' refers to a function attribute, which is not supported`);
      this.byName.set(a.name ?? '', a);
    }
  }

  /** Throws for any attribute not in `known`, naming it. */
  allowOnly(known: readonly string[]): void {
    for (const name of this.byName.keys()) {
      if (!known.includes(name)) throw new Error(`${this.where}: attribute '${name}' is not supported (supported: ${known.join(', ') || 'none'})`);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number, typeName: string): OnnxTypes.IAttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== type && a.type !== undefined && a.type !== null && a.type !== Type.UNDEFINED) {
      throw new Error(`${this.where}: attribute '${name}' must be ${typeName}, got ${Type[a.type] ?? a.type}`);
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.get(name, Type.INT, 'INT');
    return a ? int(a.i, `${this.where}: attribute '${name}'`) : fallback;
  }

  float(name: string): number | undefined {
    return this.get(name, Type.FLOAT, 'FLOAT')?.f ?? undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, Type.STRING, 'STRING');
    return a?.s ? decoder.decode(a.s) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, Type.INTS, 'INTS');
    return a ? (a.ints ?? []).map((v) => int(v, `${this.where}: attribute '${name}'`)) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, Type.FLOATS, 'FLOATS');
    return a ? [...(a.floats ?? [])] : undefined;
  }

  strings(name: string): string[] | undefined {
    const a = this.get(name, Type.STRINGS, 'STRINGS');
    return a ? (a.strings ?? []).map((s) => decoder.decode(s)) : undefined;
  }

  tensor(name: string): Value | undefined {
    const a = this.get(name, Type.TENSOR, 'TENSOR');
    return a?.t ? readTensorProto(a.t, `${this.where}: attribute '${name}'`) : undefined;
  }
}

/**
 * ONNX's protobuf schema, through the generated protobufjs code of the `onnx-proto` package (no
 * hand-written wire parsing here), and the few conversions every reader and writer needs.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** Largest tensor (in elements) an imported model may declare or compute: 2^28 float32 values are
 * 1 GiB. Beyond it a dimension is taken for corrupt, not allocated. */
export const MAX_ELEMENTS = 2 ** 28;

/** int64 fields decode as Long objects when the `long` package is present, else as numbers. */
export function int(value: number | { toNumber(): number } | null | undefined, what: string): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : value.toNumber();
  if (!Number.isSafeInteger(n)) throw new Error(`${what}: ${String(value)} is not an integer this library can represent exactly`);
  return n;
}

/** Decodes bytes with a generated message type, turning protobufjs's wire errors into one that says
 * what was being read. */
export function decodeMessage<T>(kind: { decode(bytes: Uint8Array): T }, bytes: Uint8Array, caller: string, what: string): T {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${caller}: expected the bytes of ${what} as a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length === 0) throw new Error(`${caller}: ${what} is empty (0 bytes)`);
  try {
    return kind.decode(bytes);
  } catch (e) {
    throw new Error(`${caller}: not a valid ${what} (${bytes.length} bytes; protobuf decoding failed: ${(e as Error).message})`, { cause: e });
  }
}

const describe = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v);

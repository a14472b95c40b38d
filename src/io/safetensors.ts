/**
 * safetensors, read and written at the byte level (no fs: usable in the browser).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {string: string}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}`
 * padded with spaces, then the little-endian data; offsets count from the start of the data.
 *
 * Reading checks everything the Rust reference library checks (header size limit, UTF-8, JSON,
 * contiguous offsets covering the data exactly, bytes = elements × item size) and also rejects
 * duplicate keys, which JSON.parse would silently merge. Every check happens before any tensor is
 * allocated, so a hostile file cannot make us allocate more than its own size.
 */
import { formatShape, Tensor, type AnyArray, type AnyTensor, type TensorDType } from '../tensor/index.js';

/** Headers above this are rejected, as the reference library does (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Headers nested deeper than this are rejected before JSON.parse, whose recursion a hostile header
 * (20 KB of "[[[[...") would otherwise drive into a stack overflow. A valid header nests 3 deep.
 */
export const MAX_HEADER_DEPTH = 64;

/** The file dtype each tensor dtype is written as. */
const FILE_DTYPE: Record<TensorDType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };

/** File dtypes read as index tensors (int32). */
const INTEGER_DTYPES = new Set(['I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL']);

/** Bytes per element of every dtype the format defines. */
const ITEM_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8,
};

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: TensorEntry[];
  metadata: Record<string, string>;
  /** Offset of the data section in the file. */
  dataStart: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The tensors of a safetensors file. F32 and F64 give tensors of that dtype; F16 and BF16 are widened
 * to float32 exactly. Integer and BOOL tensors (token ids, lengths, masks) give index tensors (int32,
 * docs/architecture.md "Index tensors are int32"): I64, U32 and U64 values outside int32 are an error
 * naming the tensor, the position and the value, never a wrapped number. F8 dtypes are rejected with
 * an error naming the tensor.
 */
export function loadSafetensors(bytes: Uint8Array): Record<string, AnyTensor> {
  const where = 'loadSafetensors';
  const header = parseHeader(bytes, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: [string, AnyTensor][] = header.entries.map((e) => {
    const data = decode(bytes, view, header.dataStart + e.begin, header.dataStart + e.end, e, where);
    return [e.name, data instanceof Int32Array ? new Tensor<'int32'>(data, e.shape) : new Tensor(data, e.shape)];
  });
  // fromEntries defines own properties, so a tensor named "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries);
}

/** The `__metadata__` map of a safetensors file ({} when it has none). The whole header is checked. */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return parseHeader(bytes, 'readSafetensorsMetadata').metadata;
}

/**
 * A safetensors file holding the tensors (float32 → F32, float64 → F64, int32 index tensors → I32),
 * laid out as the Python library does: data ordered by dtype (F64 first, then F32 and I32 by name),
 * header padded with spaces to a multiple of 8 bytes so that the data is aligned. PyTorch reads I32
 * as torch.int32; `.long()` there gives its usual index dtype.
 */
export function saveSafetensors(tensors: Readonly<Record<string, AnyTensor>>, metadata?: Record<string, string>): Uint8Array {
  const where = 'saveSafetensors';
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw new Error(`${where}: tensors must be an object mapping names to tensors, got ${String(tensors)}`);
  }
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    if (name === '__metadata__') throw new Error(`${where}: '__metadata__' is reserved for the metadata and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new Error(`${where}: tensors['${name}'] must be a Tensor, got ${String(t)}`);
  }
  const metaKeys = metadata === undefined ? [] : checkMetadata(metadata, where);

  const encoder = new TextEncoder();
  const utf8 = new Map(names.map((n) => [n, encoder.encode(n)]));
  const rank = (t: AnyTensor): number => (t.dtype === 'float64' ? 0 : 1);
  names.sort((a, b) => rank(tensors[a]!) - rank(tensors[b]!) || compareBytes(utf8.get(a)!, utf8.get(b)!));

  const parts: string[] = [];
  if (metadata !== undefined) {
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const n = t.size * (t.dtype === 'float64' ? 8 : 4);
    parts.push(`${JSON.stringify(name)}:{"dtype":"${FILE_DTYPE[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + n}]}`);
    offset += n;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`${where}: the header would take ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} readers accept`);

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const name of names) {
    const data = tensors[name]!.data;
    writeElements(out, view, at, data);
    at += data.byteLength;
  }
  return out;
}

function parseHeader(bytes: Uint8Array, where: string): Header {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${where}: expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) {
    throw new Error(`${where}: the file has ${bytes.length} bytes, fewer than the 8 of the header length: truncated, or not safetensors`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`${where}: the header length is ${n} bytes, more than the ${MAX_HEADER_BYTES} allowed: corrupt, or not safetensors`);
  }
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    throw new Error(`${where}: the header length is ${headerLength} bytes but the file has only ${bytes.length - 8} after the length field: truncated`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new Error(`${where}: the header is not valid UTF-8`);
  }
  const depth = nestingDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH) {
    throw new Error(`${where}: the header nests JSON more than ${MAX_HEADER_DEPTH} levels deep (a safetensors header needs 3): corrupt, or not safetensors`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${where}: the header must be a JSON object, got ${Array.isArray(json) ? 'an array' : String(json)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) throw new Error(`${where}: the header has the key ${JSON.stringify(duplicate)} more than once`);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        throw new Error(`${where}: __metadata__ must map strings to strings`);
      }
      metadata = Object.fromEntries(Object.entries(info as Record<string, string>));
      continue;
    }
    entries.push(parseEntry(name, info, dataLength, where));
  }

  // The offsets must tile the data section exactly: no gap, no overlap, nothing left over.
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: TensorEntry | null = null;
  for (const e of ordered) {
    if (e.begin !== expected) {
      const after = previous ? `tensor '${previous.name}', which ends at ${expected}` : 'the start of the data (offset 0)';
      throw new Error(`${where}: tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}] but must start right after ${after}: ${e.begin < expected ? 'the tensors overlap' : 'there is a gap'}`);
    }
    expected = e.end;
    previous = e;
  }
  if (expected !== dataLength) {
    throw new Error(`${where}: the tensors cover ${expected} bytes of data but the file holds ${dataLength} after the header: the data section has ${dataLength - expected} extra bytes`);
  }
  return { entries, metadata, dataStart };
}

function parseEntry(name: string, info: unknown, dataLength: number, where: string): TensorEntry {
  const at = `${where}: tensor '${name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new Error(`${at}: expected { dtype, shape, data_offsets }, got ${JSON.stringify(info)}`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_BYTES, dtype)) {
    throw new Error(`${at}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(ITEM_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${at}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new Error(`${at}: data_offsets must be [begin, end] with integers 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  let elements = 1;
  for (const d of shape as number[]) elements *= d;
  const needed = elements * ITEM_BYTES[dtype]!;
  if (needed !== end - begin) {
    throw new Error(`${at}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but dtype ${dtype} with shape ${formatShape(shape as number[])} needs ${needed}`);
  }
  if (end > dataLength) {
    throw new Error(`${at}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes): truncated file`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * How deep objects and arrays nest in a JSON text, counting brackets outside strings; stops counting
 * once past `limit`. Linear, and checks nothing else: JSON.parse judges the syntax afterwards.
 */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return deepest;
}

/**
 * The first key that appears twice in one object of a JSON text (which JSON.parse has accepted), or
 * null. A string is a key when a ':' follows it inside an object.
 */
function findDuplicateKey(text: string): string | null {
  const objects: (Set<string> | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      let j = i;
      while (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r') j++;
      const keys = objects[objects.length - 1];
      if (text[j] === ':' && keys) {
        const key = JSON.parse(text.slice(start, i)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      continue;
    }
    if (c === '{') objects.push(new Set());
    else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    i++;
  }
  return null;
}

function decode(bytes: Uint8Array, view: DataView, start: number, end: number, e: TensorEntry, where: string): AnyArray {
  const count = (end - start) / ITEM_BYTES[e.dtype]!;
  if (LITTLE_ENDIAN_HOST && (e.dtype === 'F32' || e.dtype === 'F64' || e.dtype === 'I32')) {
    // Copying first gives an aligned buffer whatever the file's layout. (Not bytes.slice: on a Node
    // Buffer that is a view into a shared pool, not a copy.)
    const copy = new ArrayBuffer(end - start);
    new Uint8Array(copy).set(bytes.subarray(start, end));
    return e.dtype === 'F32' ? new Float32Array(copy) : e.dtype === 'F64' ? new Float64Array(copy) : new Int32Array(copy);
  }
  const integer = INTEGER_DTYPES.has(e.dtype);
  const out = integer ? new Int32Array(count) : e.dtype === 'F64' ? new Float64Array(count) : new Float32Array(count);
  const read = reader(e.dtype, view);
  if (!read) throw new Error(`${where}: tensor '${e.name}' has dtype ${e.dtype}, which this library cannot read (8-bit floats are not supported)`);
  const size = ITEM_BYTES[e.dtype]!;
  for (let i = 0; i < count; i++) {
    const v = read(start + i * size);
    if (integer && (v < INT32_MIN || v > INT32_MAX)) {
      throw new Error(`${where}: tensor '${e.name}' (${e.dtype}) holds ${v} at element ${i}, outside int32 [${INT32_MIN}, ${INT32_MAX}], the range of this library's index tensors`);
    }
    out[i] = v;
  }
  return out;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const bf16Bits = new Uint32Array(1);
const bf16Float = new Float32Array(bf16Bits.buffer);

function reader(dtype: string, v: DataView): ((at: number) => number) | null {
  switch (dtype) {
    case 'F64': return (at) => v.getFloat64(at, true);
    case 'F32': return (at) => v.getFloat32(at, true);
    case 'F16': return (at) => halfToNumber(v.getUint16(at, true));
    case 'BF16': return (at) => {
      // bfloat16 is the top half of a float32.
      bf16Bits[0] = v.getUint16(at, true) << 16;
      return bf16Float[0]!;
    };
    // Beyond 2^53 Number() rounds, but such a value is far outside int32 and refused either way.
    case 'I64': return (at) => Number(v.getBigInt64(at, true));
    case 'U64': return (at) => Number(v.getBigUint64(at, true));
    case 'I32': return (at) => v.getInt32(at, true);
    case 'U32': return (at) => v.getUint32(at, true);
    case 'I16': return (at) => v.getInt16(at, true);
    case 'U16': return (at) => v.getUint16(at, true);
    case 'I8': return (at) => v.getInt8(at);
    case 'U8': return (at) => v.getUint8(at);
    case 'BOOL': return (at) => (v.getUint8(at) !== 0 ? 1 : 0);
    default: return null;
  }
}

/** IEEE 754 binary16 to a number (exact: every half is a float32). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function writeElements(out: Uint8Array, view: DataView, at: number, data: AnyArray): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) view.setFloat64(at + i * 8, data[i]!, true);
    else if (data instanceof Int32Array) view.setInt32(at + i * 4, data[i]!, true);
    else view.setFloat32(at + i * 4, data[i]!, true);
  }
}

/** Checks a metadata map and returns its keys sorted, so equal maps give equal bytes. */
function checkMetadata(metadata: Record<string, string>, where: string): string[] {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new Error(`${where}: metadata must be an object mapping strings to strings, got ${String(metadata)}`);
  }
  const keys = Object.keys(metadata).sort();
  for (const k of keys) {
    if (typeof metadata[k] !== 'string') {
      throw new Error(`${where}: metadata['${k}'] must be a string, got ${typeof metadata[k]} (JSON.stringify structured values)`);
    }
  }
  return keys;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from '../src/io/index.js';
import { tensor, type Tensor } from '../src/tensor/index.js';
import { Linear } from '../src/nn/index.js';

const fixture = (name: string): Uint8Array => readFileSync(new URL(`./fixtures/${name}.safetensors`, import.meta.url));

/** A file from a header (object or raw JSON text, padded to 8 bytes) and a data section. */
function file(header: object | string, data: ArrayLike<number> = [], lengthField?: bigint): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(head.length), true);
  out.set(head, 8);
  out.set(Array.from(data), 8 + head.length);
  return out;
}

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

const f32 = (values: number[]): number[] => [...new Uint8Array(new Float32Array(values).buffer)];

describe('saveSafetensors / loadSafetensors round trip', () => {
  test('float32 and float64 tensors, 0-d and empty ones, and metadata come back exactly', () => {
    const tensors: Record<string, Tensor> = {
      'lstm.weight_ih_l0': tensor([[1.5, -2], [3, 1e-30]]),
      'head.bias': tensor([0.1, NaN, -Infinity], undefined, { dtype: 'float64' }),
      scalar: tensor(7),
      empty: tensor(new Float32Array(0), [0, 3]),
    };
    Object.defineProperty(tensors, '__proto__', { value: tensor([42]), enumerable: true });
    const bytes = saveSafetensors(tensors, { framework: 'recurrent', note: 'é ✓' });
    const back = loadSafetensors(bytes);
    assert.deepEqual(Object.keys(back).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back[name]!;
      assert.equal(b.dtype, t.dtype, name);
      assert.deepEqual([...b.shape], [...t.shape], name);
      assert.deepEqual([...b.data], [...t.data], name);
    }
    assert.equal(Object.getPrototypeOf(back), Object.prototype, 'a tensor named __proto__ must not replace the prototype');
    assert.deepEqual(readSafetensorsMetadata(bytes), { framework: 'recurrent', note: 'é ✓' });
  });

  test('layout is the Python library’s: F64 before F32, names sorted, header padded with spaces to 8 bytes', () => {
    const bytes = saveSafetensors({ b: tensor([1]), a: tensor([2, 3]), z: tensor([4], undefined, { dtype: 'float64' }) });
    const text = headerText(bytes);
    assert.equal(text.trimEnd(), '{"z":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},'
      + '"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}');
    assert.equal(text.length % 8, 0);
    assert.match(text, /} *$/);
  });

  test('byte-identical to the reference library’s documented outputs', () => {
    // The safetensors crate serialises {"attn.0": F32 [1,2,3] = 0..5} to a 64-byte header with no padding,
    // and an empty dict with {"framework": "pt"} metadata to a 40-byte one.
    const attn = saveSafetensors({ 'attn.0': tensor([0, 1, 2, 3, 4, 5], [1, 2, 3]) });
    assert.deepEqual([...attn.subarray(0, 8)], [64, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(headerText(attn), '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    assert.deepEqual([...attn.subarray(72)], f32([0, 1, 2, 3, 4, 5]));
    assert.deepEqual([...saveSafetensors({})], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    assert.equal(headerText(saveSafetensors({}, { framework: 'pt' })), '{"__metadata__":{"framework":"pt"}}     ');
  });

  test('reads a file whose bytes start at an odd offset of a larger buffer', () => {
    const bytes = saveSafetensors({ w: tensor([1.25, -3.5]) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 1);
    assert.deepEqual([...loadSafetensors(big.subarray(1, 1 + bytes.length)).w!.data], [1.25, -3.5]);
  });

  test('save rejects what it cannot write, naming it', () => {
    assert.throws(() => saveSafetensors({ w: [1, 2] as unknown as Tensor }), /saveSafetensors: tensors\['w'\] must be a Tensor, got 1,2/);
    assert.throws(() => saveSafetensors({ __metadata__: tensor([1]) }), /'__metadata__' is reserved/);
    assert.throws(() => saveSafetensors({}, { epoch: 3 as unknown as string }), /saveSafetensors: metadata\['epoch'\] must be a string, got number/);
  });
});

describe('files written by PyTorch (tools/make_fixtures.py)', () => {
  test('char_model: PyTorch state_dict names, shapes and metadata', () => {
    const bytes = fixture('char_model');
    const t = loadSafetensors(bytes);
    const shapes = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, [...v.shape]]));
    assert.deepEqual(shapes, {
      'embed.weight': [10, 4],
      'lstm.weight_ih_l0': [24, 4], 'lstm.weight_hh_l0': [24, 6], 'lstm.bias_ih_l0': [24], 'lstm.bias_hh_l0': [24],
      'lstm.weight_ih_l1': [24, 6], 'lstm.weight_hh_l1': [24, 6], 'lstm.bias_ih_l1': [24], 'lstm.bias_hh_l1': [24],
      'head.weight': [10, 6], 'head.bias': [10],
    });
    for (const v of Object.values(t)) {
      assert.equal(v.dtype, 'float32');
      assert.ok(v.data.every(Number.isFinite));
    }
    // PyTorch's default init of an LSTM with hidden 6 is U(-1/sqrt(6), 1/sqrt(6)).
    assert.ok(t['lstm.weight_hh_l0']!.data.every((x) => Math.abs(x) <= 1 / Math.sqrt(6)));
    const meta = readSafetensorsMetadata(bytes);
    assert.equal(meta.module, 'CharModel');
    assert.deepEqual(JSON.parse(meta.options!), { vocabSize: 10, embedSize: 4, hiddenSize: 6, numLayers: 2 });

    const again = loadSafetensors(saveSafetensors(t, meta));
    for (const [k, v] of Object.entries(t)) assert.deepEqual([...again[k]!.data], [...v.data], k);
  });

  test('char_model_io: I64 token ids (torch.long) read as an int32 index tensor', () => {
    const t = loadSafetensors(fixture('char_model_io'));
    const tokens = t['input.tokens']!;
    assert.deepEqual([...tokens.shape], [5, 2]);
    assert.equal(tokens.dtype, 'int32');
    assert.ok(tokens.data instanceof Int32Array);
    assert.ok(tokens.data.every((x) => x >= 0 && x < 10));
    assert.deepEqual([...t['expected.logits']!.shape], [5, 2, 10]);
    // Saved again they are I32, which PyTorch reads as torch.int32 (the values unchanged).
    const again = loadSafetensors(saveSafetensors({ tokens }));
    assert.equal(again.tokens!.dtype, 'int32');
    assert.deepEqual([...again.tokens!.data], [...tokens.data]);
    assert.match(new TextDecoder().decode(saveSafetensors({ tokens }).subarray(8, 80)), /"dtype":"I32"/);
  });
});

describe('other dtypes', () => {
  test('F16 and BF16 widen exactly; integers and BOOL become int32 index tensors', () => {
    const bytes = file(
      {
        h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
        i: { dtype: 'I64', shape: [2], data_offsets: [14, 30] },
        s: { dtype: 'I16', shape: [1], data_offsets: [30, 32] },
        u: { dtype: 'U8', shape: [2], data_offsets: [32, 34] },
        q: { dtype: 'BOOL', shape: [2], data_offsets: [34, 36] },
      },
      [
        0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c, 0x00, 0x7e, // F16: 1, -2, 2^-24, +inf, NaN
        0x80, 0x3f, 0x40, 0xc0, // BF16: 1, -3
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0, // I64: -1, 7
        0x00, 0x80, // I16: -32768
        0, 255, // U8
        0, 1, // BOOL
      ],
    );
    const t = loadSafetensors(bytes);
    assert.deepEqual([...t.h!.data], [1, -2, 2 ** -24, Infinity, NaN]);
    assert.deepEqual([...t.b!.data], [1, -3]);
    assert.deepEqual([...t.i!.data], [-1, 7]);
    assert.deepEqual([...t.s!.data], [-32768]);
    assert.deepEqual([...t.u!.data], [0, 255]);
    assert.deepEqual([...t.q!.data], [0, 1]);
    assert.deepEqual(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dtype])), { h: 'float32', b: 'float32', i: 'int32', s: 'int32', u: 'int32', q: 'int32' });
  });

  test('I64, U32 and U64 values beyond int32 are an error naming the tensor, the element and the value', () => {
    const i64 = (values: bigint[]): Uint8Array => {
      const data = new Uint8Array(8 * values.length);
      values.forEach((v, k) => new DataView(data.buffer).setBigInt64(8 * k, v, true));
      return file({ lengths: { dtype: 'I64', shape: [values.length], data_offsets: [0, data.length] } }, [...data]);
    };
    assert.deepEqual([...loadSafetensors(i64([-(2n ** 31n), 2n ** 31n - 1n])).lengths!.data], [-(2 ** 31), 2 ** 31 - 1]);
    assert.throws(() => loadSafetensors(i64([3n, 2n ** 31n])), /^Error: loadSafetensors: tensor 'lengths' \(I64\) holds 2147483648 at element 1, outside int32 \[-2147483648, 2147483647\]/);
    assert.throws(() => loadSafetensors(i64([-(2n ** 40n)])), /tensor 'lengths' \(I64\) holds -1099511627776 at element 0, outside int32/);
    const u32 = file({ u: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, [0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => loadSafetensors(u32), /tensor 'u' \(U32\) holds 4294967295 at element 0, outside int32/);
  });

  test('int32 tensors round-trip as I32, next to float tensors', () => {
    const ids = tensor([[3, -1], [0, 2 ** 31 - 1]], undefined, { dtype: 'int64' });
    const bytes = saveSafetensors({ ids, w: tensor([0.5, 1.5]) });
    const back = loadSafetensors(bytes);
    assert.equal(back.ids!.dtype, 'int32');
    assert.deepEqual(back.ids!.toArray(), [[3, -1], [0, 2 ** 31 - 1]]);
    assert.equal(back.w!.dtype, 'float32');
    // A state dict with an index tensor loads into float parameters converted, as PyTorch's copy_ does.
    const lin = new Linear(2, 1, { bias: false });
    lin.loadStateDict({ weight: tensor([[4, 5]], undefined, { dtype: 'int32' }) });
    assert.deepEqual([...lin.weight.data], [4, 5]);
  });

  test('8-bit floats: the header is accepted, loading names the tensor and dtype', () => {
    const bytes = file({ f8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, [0, 0]);
    assert.deepEqual(readSafetensorsMetadata(bytes), {});
    assert.throws(() => loadSafetensors(bytes), /loadSafetensors: tensor 'f8' has dtype F8_E4M3, which this library cannot read/);
  });
});

describe('damaged or hostile files are clear errors', () => {
  const good = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', () => new Uint8Array(5), /: the file has 5 bytes, fewer than the 8 of the header length/],
    ['header length past the end', () => file(good, f32([1, 2]), 4096n), /the header length is 4096 bytes but the file has only 64 after the length field: truncated/],
    ['header length over 100 MB (no allocation)', () => file(good, f32([1, 2]), 100_000_001n), /the header length is 100000001 bytes, more than the 100000000 allowed/],
    ['header length over 2^53', () => file(good, f32([1, 2]), 2n ** 63n), /more than the 100000000 allowed/],
    ['invalid JSON', () => file('{"w": {"dtype": "F32",', []), /the header is not valid JSON/],
    ['invalid UTF-8', () => {
      const b = file('{"w":1}', []);
      b[10] = 0xff;
      return b;
    }, /the header is not valid UTF-8/],
    ['header not an object', () => file('[1, 2]', []), /the header must be a JSON object, got an array/],
    ['a tensor entry not an object', () => file({ w: 3 }, []), /tensor 'w': expected \{ dtype, shape, data_offsets \}, got 3/],
    ['unknown dtype', () => file({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Array(16).fill(0)), /tensor 'w': unknown dtype "F128"/],
    ['dtype named like an Object property', () => file({ w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, f32([1])), /unknown dtype "toString"/],
    ['negative shape', () => file({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32([1, 2])), /tensor 'w': shape must be a list of non-negative integers, got \[-2\]/],
    ['non-integer shape', () => file({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 10] } }, new Array(10).fill(0)), /shape must be a list of non-negative integers, got \[2.5\]/],
    ['shape not a list', () => file({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, f32([1, 2])), /shape must be a list/],
    ['bytes not matching dtype × shape', () => file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32([1, 2])), /tensor 'w': data_offsets \[0, 8\] hold 8 bytes but dtype F32 with shape \[3\] needs 12/],
    ['a huge shape over a few bytes (no allocation)', () => file({ w: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 8] } }, f32([1, 2])), /needs 4000000000000000000/],
    ['offsets reversed', () => file({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f32([1, 2])), /data_offsets must be \[begin, end\] with integers 0 <= begin <= end, got \[8,0\]/],
    ['offsets not a pair', () => file({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, f32([1, 2])), /data_offsets must be \[begin, end\]/],
    ['offsets past the data', () => file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32([1, 2])), /data_offsets \[0, 16\] run past the end of the data \(8 bytes\): truncated file/],
    ['overlapping tensors', () => file({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, f32([1, 2, 3])), /tensor 'b' has data_offsets \[4, 12\] but must start right after tensor 'a', which ends at 8: the tensors overlap/],
    ['a gap between tensors', () => file({
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    }, f32([1, 2, 3])), /tensor 'b' has data_offsets \[8, 12\] but must start right after tensor 'a', which ends at 4: there is a gap/],
    ['data not starting at 0', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32([1, 2])), /must start right after the start of the data \(offset 0\): there is a gap/],
    ['trailing bytes after the last tensor', () => file(good, f32([1, 2, 3])), /the tensors cover 8 bytes of data but the file holds 12 after the header/],
    ['truncated data', () => file(good, f32([1])), /run past the end of the data \(4 bytes\)/],
    ['duplicate tensor names', () => file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32([1, 2])), /the header has the key "w" more than once/],
    ['duplicate keys written with escapes', () => file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0077":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32([1, 2])), /the key "w" more than once/],
    ['duplicate field in an entry', () => file('{"w":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1])), /the key "dtype" more than once/],
    ['metadata with a non-string value', () => file({ __metadata__: { epoch: 3 } }, []), /__metadata__ must map strings to strings/],
  ];
  for (const [label, make, message] of cases) {
    test(label, () => {
      const bytes = make();
      assert.throws(() => loadSafetensors(bytes), message);
      assert.throws(() => readSafetensorsMetadata(bytes), message);
    });
  }

  test('keys that only look alike are not duplicates, and a key-like string in a value is not a key', () => {
    const bytes = file('{"__metadata__":{"a":"\\"w\\":","b":"w"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]));
    assert.deepEqual(readSafetensorsMetadata(bytes), { a: '"w":', b: 'w' });
    assert.deepEqual([...loadSafetensors(bytes).w!.data], [1]);
  });

  test('input that is not bytes', () => {
    assert.throws(() => loadSafetensors('model.safetensors' as unknown as Uint8Array), /loadSafetensors: expected the file's bytes as a Uint8Array, got string/);
    assert.throws(() => loadSafetensors(new Float32Array(4) as unknown as Uint8Array), /got Float32Array/);
  });

  test('every truncation of a valid file is an error, never a crash or a wrong result', () => {
    const bytes = saveSafetensors({ a: tensor([1, 2, 3]), b: tensor([4], undefined, { dtype: 'float64' }) }, { k: 'v' });
    for (let n = 0; n < bytes.length; n++) assert.throws(() => loadSafetensors(bytes.subarray(0, n)), /loadSafetensors: /, `length ${n}`);
  });
});

test('a header nested 10,000 deep is refused before JSON.parse, and loadCheckpoint names the file', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadCheckpoint } = await import('../src/io/node.js');
  const json = new TextEncoder().encode(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  assert.ok(bytes.length > 20_000 && bytes.length < 21_000);
  assert.throws(() => loadSafetensors(bytes), /^Error: loadSafetensors: the header nests JSON more than 64 levels deep \(a safetensors header needs 3\): corrupt, or not safetensors$/);
  // Brackets inside strings are text, not nesting.
  const quoted = saveSafetensors({ x: tensor([1]) }, { note: '['.repeat(1000) });
  assert.equal(readSafetensorsMetadata(quoted).note, '['.repeat(1000));
  const dir = mkdtempSync(join(tmpdir(), 'recurrent-deep-'));
  try {
    const path = join(dir, 'deep.safetensors');
    writeFileSync(path, bytes);
    const model = { stateDict: () => ({}), loadStateDict: () => undefined };
    await assert.rejects(loadCheckpoint(path, { model }), /^Error: loadCheckpoint: .*deep\.safetensors: the header nests JSON more than 64 levels deep/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { readTextFile, shippedDataPath } from '../src/data/files.js';
import { LanguageModelBatches, Vocabulary, decodeText, normalizeText, oneHot, splitText } from '../src/data/index.js';

describe('Vocabulary', () => {
  it('holds the sorted distinct characters and round-trips text', () => {
    const v = Vocabulary.fromText('hello world');
    assert.deepEqual(v.chars, [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    assert.equal(v.size, 8);
    const ids = v.encode('hello');
    assert.deepEqual([...ids], [3, 2, 4, 4, 5]);
    assert.equal(v.decode(ids), 'hello');
  });

  it('treats a character outside the BMP as one character', () => {
    const v = Vocabulary.fromText('a😀b');
    assert.deepEqual(v.chars, ['a', 'b', '😀']);
    assert.deepEqual([...v.encode('😀a😀')], [2, 0, 2]);
    assert.equal(v.decode([2, 1]), '😀b');
  });

  it('survives a JSON round trip with its id order', () => {
    const v = Vocabulary.fromText('the quick brown fox');
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    assert.deepEqual(back.chars, v.chars);
    assert.deepEqual(back.encode('fox'), v.encode('fox'));
    assert.throws(() => Vocabulary.fromJSON({ type: 'char-vocabulary', chars: ['a', 'a'] }), /character "a" \(U\+0061\) appears twice/);
    assert.throws(() => Vocabulary.fromJSON({ chars: 'ab' }), /Vocabulary\.fromJSON: expected/);
    assert.throws(() => new Vocabulary(['ab']), /entry 0 must be exactly one character, received "ab"/);
  });

  it('says where an unknown character is and rejects bad ids', () => {
    const v = Vocabulary.fromText('abc\n');
    assert.throws(() => v.encode('abc\nabé'), /character "é" \(U\+00E9\) at line 2, column 3 is not in the vocabulary of 4 characters/);
    assert.throws(() => v.decode([0, 7]), /id 7 at index 1 is out of range; expected an integer in \[0, 3\]/);
    assert.throws(() => Vocabulary.fromText(''), /the text is empty/);
  });

  it('encodes a shipped novel quickly and exactly', () => {
    const text = readTextFile(shippedDataPath('text', 'austen-persuasion.txt'));
    assert.ok(text.length > 400_000);
    const v = Vocabulary.fromText(text);
    assert.ok(v.size > 50 && v.size < 100, `vocabulary size ${v.size}`);
    const t0 = performance.now();
    const ids = v.encode(text);
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(ids.length, text.length);
    assert.equal(v.decode(ids.subarray(0, 1000)), text.slice(0, 1000));
  });
});

describe('normalizeText and splitText', () => {
  it('normalises line ends and a byte-order mark', () => {
    assert.equal(normalizeText('\uFEFFa\r\nb\rc\n'), 'a\nb\nc\n');
  });

  it('splits chronologically without cutting a surrogate pair', () => {
    const s = splitText('abcdefghij', 0.3);
    assert.deepEqual(s, { train: 'abcdefg', validation: 'hij' });
    const e = splitText('ab😀', 0.25); // the cut would land between the two halves of 😀
    assert.equal(e.train + e.validation, 'ab😀');
    assert.equal(e.validation, '😀');
    assert.throws(() => splitText('abc', -0.1), /validationFraction must be in \[0, 1\), received -0\.1/);
  });
});

describe('LanguageModelBatches', () => {
  const arange = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

  it('cuts the corpus into parallel streams, time-major, with shifted targets', () => {
    // 103 tokens, 4 streams → 25 per stream (3 dropped); 24 steps → chunks of 5,5,5,5,4.
    const batches = new LanguageModelBatches(arange(103), { seqLen: 5, batchSize: 4 });
    assert.equal(batches.streamLength, 25);
    assert.equal(batches.length, 5);
    const first = batches.get(0);
    assert.equal(first.inputs.length, 20);
    for (let t = 0; t < 5; t++) {
      for (let b = 0; b < 4; b++) {
        assert.equal(first.inputs[t * 4 + b], b * 25 + t);
        assert.equal(first.targets[t * 4 + b], b * 25 + t + 1);
      }
    }
    const last = batches.get(4);
    assert.equal(last.seqLen, 4);
    assert.equal(last.targets[3 * 4 + 3], 99);
    assert.equal(new LanguageModelBatches(arange(103), { seqLen: 5, batchSize: 4, dropLast: true }).length, 4);
  });

  it('continues each stream from one chunk into the next, so a carried state fits', () => {
    const batches = [...new LanguageModelBatches(arange(1000), { seqLen: 7, batchSize: 3 })];
    for (let k = 1; k < batches.length; k++) {
      const prev = batches[k - 1]!;
      const cur = batches[k]!;
      for (let b = 0; b < 3; b++) {
        assert.equal(cur.inputs[b], prev.targets[(prev.seqLen - 1) * 3 + b]);
      }
    }
    const seen = batches.flatMap((c) => [...c.inputs]).sort((a, b) => a - b);
    assert.equal(new Set(seen).size, seen.length);
  });

  it('rejects a text shorter than one sequence and bad indices', () => {
    assert.throws(
      () => new LanguageModelBatches(arange(40), { seqLen: 10, batchSize: 4 }),
      /a text of 40 characters split into 4 streams gives 10 per stream; at least seqLen \+ 1 = 11 are needed/,
    );
    assert.throws(() => new LanguageModelBatches(arange(40), { seqLen: 0, batchSize: 1 }), /seqLen must be a positive integer, received 0/);
    assert.throws(() => new LanguageModelBatches(arange(100), { seqLen: 9, batchSize: 1 }).get(11), /index must be an integer in \[0, 10\], received 11/);
  });
});

describe('oneHot', () => {
  it('sets one 1 per row and checks ids', () => {
    assert.deepEqual([...oneHot([2, 0], 3)], [0, 0, 1, 1, 0, 0]);
    assert.throws(() => oneHot([3], 3), /id 3 at index 0 is out of range; expected an integer in \[0, 2\]/);
  });
});

test('decodeText refuses invalid UTF-8 and NUL bytes with their byte offset; valid UTF-8 decodes', () => {
  const bytes = (...parts: (string | number[])[]): Uint8Array =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));
  assert.equal(decodeText(bytes('café ☕ 🎵'), 'ok.txt'), 'café ☕ 🎵');
  assert.throws(() => decodeText(bytes('caf', [0xe9], ' au lait'), 'latin1.txt'),
    /^Error: decodeText: latin1\.txt is not valid UTF-8 at byte offset 3 \(bytes e9 20 61 75\); convert it to UTF-8/);
  assert.throws(() => decodeText(bytes('ab', [0xc0, 0xaf]), 'overlong.txt'), /overlong\.txt is not valid UTF-8 at byte offset 2/);
  assert.throws(() => decodeText(bytes('x', [0xed, 0xa0, 0x80]), 'surrogate.txt'), /at byte offset 1/);
  assert.throws(() => decodeText(bytes('☕', [0xe2, 0x98]), 'cut.txt'), /cut\.txt is not valid UTF-8 at byte offset 3/);
  assert.throws(() => decodeText(bytes('abc', [0], 'def'), 'binary.txt'), /^Error: decodeText: binary\.txt has a NUL byte at byte offset 3: not a text file \(or UTF-16 text\)/);
});

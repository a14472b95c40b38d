/**
 * Character-level text: a vocabulary of the distinct characters (Unicode code points, so an emoji is
 * one character, not two surrogate halves), the chronological split, and the classic language-model
 * batching that lets a hidden state flow from one batch into the next (truncated BPTT).
 */
import { checkAllocation } from './limits.js';

/**
 * The text of a corpus file's bytes: UTF-8 (a byte-order mark is dropped by normalizeText). Invalid
 * UTF-8 and NUL bytes are refused with their byte offset: either means a binary file or another
 * encoding (Latin-1, UTF-16), and decoding it anyway would train on replacement characters.
 */
export function decodeText(bytes: Uint8Array, source: string): string {
  const nul = bytes.indexOf(0);
  const bad = firstInvalidUtf8(bytes);
  if (nul >= 0 && (bad < 0 || nul < bad)) {
    throw new Error(`decodeText: ${source} has a NUL byte at byte offset ${nul}: not a text file (or UTF-16 text); expected UTF-8 text`);
  }
  if (bad >= 0) {
    const shown = Array.from(bytes.subarray(bad, bad + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`decodeText: ${source} is not valid UTF-8 at byte offset ${bad} (bytes ${shown}); convert it to UTF-8 (it may be Latin-1 or Windows-1252)`);
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/** The offset of the first byte that starts no valid UTF-8 sequence (overlong forms and surrogates included), or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Length of the sequence and the allowed range of its second byte (which rules out overlong
    // forms, surrogates and code points above U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return -1;
}

export interface VocabularyJSON {
  type: 'char-vocabulary';
  /** The characters in id order: chars[id] is the character of class id. */
  chars: string[];
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const shown = code < 0x20 || code === 0x7f ? JSON.stringify(ch) : `"${ch}"`;
  return `${shown} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

export class Vocabulary {
  readonly chars: readonly string[];
  /** Ids of code points below 0x10000 (-1: absent); a flat table keeps encoding a novel fast. */
  private readonly bmp = new Int32Array(0x10000).fill(-1);
  private readonly astral = new Map<number, number>();

  /** The ids follow the order given; fromText sorts, fromJSON keeps a saved model's order. */
  constructor(chars: readonly string[]) {
    if (chars.length === 0) throw new Error('Vocabulary: expected at least one character, received none');
    chars.forEach((ch, id) => {
      const code = ch.codePointAt(0);
      if (code === undefined || String.fromCodePoint(code) !== ch) {
        throw new Error(`Vocabulary: entry ${id} must be exactly one character, received ${JSON.stringify(ch)}`);
      }
      if (this.lookup(code) >= 0) throw new Error(`Vocabulary: character ${describeChar(ch)} appears twice (entries ${this.lookup(code)} and ${id})`);
      if (code < 0x10000) this.bmp[code] = id;
      else this.astral.set(code, id);
    });
    this.chars = [...chars];
  }

  /** The sorted distinct characters of the text. */
  static fromText(text: string): Vocabulary {
    const codes = new Set<number>();
    for (const ch of text) codes.add(ch.codePointAt(0)!);
    if (codes.size === 0) throw new Error('Vocabulary.fromText: the text is empty; expected at least one character');
    return new Vocabulary([...codes].sort((a, b) => a - b).map((c) => String.fromCodePoint(c)));
  }

  static fromJSON(json: unknown): Vocabulary {
    const j = json as Partial<VocabularyJSON> | null;
    if (j === null || typeof j !== 'object' || j.type !== 'char-vocabulary' || !Array.isArray(j.chars) || !j.chars.every((c) => typeof c === 'string')) {
      throw new Error(`Vocabulary.fromJSON: expected {"type":"char-vocabulary","chars":[...strings]}, received ${JSON.stringify(json)?.slice(0, 120)}`);
    }
    return new Vocabulary(j.chars);
  }

  toJSON(): VocabularyJSON {
    return { type: 'char-vocabulary', chars: [...this.chars] };
  }

  get size(): number {
    return this.chars.length;
  }

  private lookup(code: number): number {
    return code < 0x10000 ? this.bmp[code]! : (this.astral.get(code) ?? -1);
  }

  has(ch: string): boolean {
    const code = ch.codePointAt(0);
    return code !== undefined && String.fromCodePoint(code) === ch && this.lookup(code) >= 0;
  }

  /** Class ids of the text's characters; an unknown character is an error that says where it is. */
  encode(text: string): Int32Array {
    const ids = new Int32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.codePointAt(i)!;
      const id = this.lookup(code);
      if (id < 0) {
        const before = text.slice(0, i);
        const line = before.split('\n').length;
        const column = i - before.lastIndexOf('\n');
        throw new Error(
          `Vocabulary.encode: character ${describeChar(String.fromCodePoint(code))} at line ${line}, column ${column} is not in the vocabulary of ${this.size} characters`,
        );
      }
      ids[n++] = id;
      if (code >= 0x10000) i++;
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** The character that stands in for unknown ones by default: a space if the vocabulary has one. */
  defaultReplacement(): string {
    return this.has(' ') ? ' ' : this.chars[0]!;
  }

  /**
   * Class ids of the text's characters, with every character outside the vocabulary read as
   * `replacement` (one of its characters); says how many were replaced and which (up to 5 distinct).
   */
  encodeReplacing(text: string, replacement = this.defaultReplacement()): { ids: Int32Array; replaced: number; examples: string[] } {
    if (!this.has(replacement)) {
      throw new Error(`Vocabulary.encodeReplacing: the replacement ${describeChar(replacement)} is not in the vocabulary itself`);
    }
    const stand = this.lookup(replacement.codePointAt(0)!);
    const ids = new Int32Array(text.length);
    const examples = new Set<string>();
    let replaced = 0;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.codePointAt(i)!;
      let id = this.lookup(code);
      if (id < 0) {
        id = stand;
        replaced++;
        if (examples.size < 5) examples.add(describeChar(String.fromCodePoint(code)));
      }
      ids[n++] = id;
      if (code >= 0x10000) i++;
    }
    return { ids: n === ids.length ? ids : ids.slice(0, n), replaced, examples: [...examples] };
  }

  decode(ids: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]!];
      if (ch === undefined) {
        throw new Error(`Vocabulary.decode: id ${ids[i]} at index ${i} is out of range; expected an integer in [0, ${this.size - 1}]`);
      }
      out += ch;
    }
    return out;
  }
}

/** Drops a byte-order mark and turns CRLF/CR line ends into LF, so a Windows copy of a text trains the same. */
export function normalizeText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

export interface TextSplit {
  train: string;
  validation: string;
}

/**
 * The last `validationFraction` of the text is validation. Build the Vocabulary from the whole text,
 * so no validation character is unknown.
 */
export function splitText(text: string, validationFraction = 0.1): TextSplit {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new Error(`splitText: validationFraction must be in [0, 1), received ${validationFraction}`);
  }
  let cut = text.length - Math.round(text.length * validationFraction);
  // Never cut between the two halves of a surrogate pair.
  const unit = text.charCodeAt(cut);
  if (unit >= 0xdc00 && unit <= 0xdfff) cut--;
  return { train: text.slice(0, cut), validation: text.slice(cut) };
}

/** One chunk of the parallel streams, time-major. */
export interface TextBatch {
  /** [seqLen, batchSize]: inputs[t * batchSize + b] is token t of this chunk in stream b. */
  inputs: Int32Array;
  /** [seqLen, batchSize]: the token after each input token. */
  targets: Int32Array;
  /** Tokens per stream in this chunk: seqLen, or fewer for the last chunk. */
  seqLen: number;
  batchSize: number;
  /** Position of the chunk in the epoch (0-based). */
  index: number;
}

export interface LanguageModelBatchOptions {
  seqLen: number;
  batchSize: number;
  /** Skip a last chunk shorter than seqLen (default false), for callers that want one shape. */
  dropLast?: boolean;
}

/**
 * The corpus is cut into `batchSize` equal streams laid side by side (the tail that does not divide
 * evenly is dropped). Chunk k holds tokens [k*seqLen, (k+1)*seqLen) of every stream, so stream b of
 * chunk k+1 continues exactly where stream b of chunk k stopped: the hidden state left by one chunk is
 * the right initial state for the next (detach it between chunks).
 */
export class LanguageModelBatches implements Iterable<TextBatch> {
  readonly seqLen: number;
  readonly batchSize: number;
  /** Tokens in each stream. */
  readonly streamLength: number;
  /** Number of chunks in one epoch. */
  readonly length: number;

  constructor(
    private readonly ids: Int32Array,
    options: LanguageModelBatchOptions,
  ) {
    const { seqLen, batchSize } = options;
    for (const [name, v] of [['seqLen', seqLen], ['batchSize', batchSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`LanguageModelBatches: ${name} must be a positive integer, received ${v}`);
    }
    checkAllocation('LanguageModelBatches', `a chunk of seqLen ${seqLen} x batchSize ${batchSize}`, seqLen * batchSize);
    this.seqLen = seqLen;
    this.batchSize = batchSize;
    this.streamLength = Math.floor(ids.length / batchSize);
    // Each chunk needs one token more than it feeds in: the target of its last input.
    if (this.streamLength < seqLen + 1) {
      throw new Error(
        `LanguageModelBatches: a text of ${ids.length} characters split into ${batchSize} streams gives ${this.streamLength} per stream; ` +
          `at least seqLen + 1 = ${seqLen + 1} are needed (use a longer text, a smaller batchSize or a smaller seqLen)`,
      );
    }
    const steps = this.streamLength - 1;
    this.length = options.dropLast ? Math.floor(steps / seqLen) : Math.ceil(steps / seqLen);
  }

  get(index: number): TextBatch {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new Error(`LanguageModelBatches.get: index must be an integer in [0, ${this.length - 1}], received ${index}`);
    }
    const { batchSize, streamLength } = this;
    const offset = index * this.seqLen;
    const seqLen = Math.min(this.seqLen, streamLength - 1 - offset);
    const inputs = new Int32Array(seqLen * batchSize);
    const targets = new Int32Array(seqLen * batchSize);
    for (let b = 0; b < batchSize; b++) {
      const base = b * streamLength + offset;
      for (let t = 0; t < seqLen; t++) {
        inputs[t * batchSize + b] = this.ids[base + t]!;
        targets[t * batchSize + b] = this.ids[base + t + 1]!;
      }
    }
    return { inputs, targets, seqLen, batchSize, index };
  }

  *[Symbol.iterator](): Iterator<TextBatch> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

/** One-hot rows [ids.length, size] for models fed without an embedding. */
export function oneHot(ids: ArrayLike<number>, size: number): Float32Array {
  if (!Number.isInteger(size) || size < 1) throw new Error(`oneHot: size must be a positive integer, received ${size}`);
  checkAllocation('oneHot', `${ids.length} rows of size ${size}`, ids.length * size);
  const out = new Float32Array(ids.length * size);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw new Error(`oneHot: id ${id} at index ${i} is out of range; expected an integer in [0, ${size - 1}]`);
    }
    out[i * size + id] = 1;
  }
  return out;
}

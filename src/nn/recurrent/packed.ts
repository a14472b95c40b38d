/**
 * Variable-length batches as PyTorch has them (torch.nn.utils.rnn), names in camelCase: a
 * PackedSequence holds the batch sorted by length, time step after time step, each step with only
 * the sequences still running (`batchSizes[t]` rows, the first ones of the sorted batch). Recurrent
 * layers take one and run each sequence exactly to its own length (fused.ts, "Variable lengths").
 *
 * Packing and padding are row selections (indexSelect), so gradients flow through them.
 */
import { cat, indexSelect, reshape, stack } from '../../ops/index.js';
import { formatShape, full, knownOptions, Tensor } from '../../tensor/index.js';

export class PackedSequence {
  /**
   * data: [N, *features], the rows of all steps one after another; batchSizes[t]: the rows of step
   * t (non-increasing, batchSizes[0] = the batch); sortedIndices[j]: the caller's batch row that is
   * row j of the sorted batch (null when the batch came sorted, enforceSorted); unsortedIndices its
   * inverse.
   */
  constructor(
    readonly data: Tensor,
    readonly batchSizes: Int32Array,
    readonly sortedIndices: Int32Array | null = null,
    readonly unsortedIndices: Int32Array | null = sortedIndices && invertPermutation(sortedIndices),
  ) {
    const where = 'PackedSequence';
    if (!(data instanceof Tensor) || data.shape.length < 1) throw new Error(`${where}: data must be a tensor [N, *features]`);
    checkBatchSizes(where, batchSizes, data.shape[0]!);
    const B = batchSizes[0]!;
    for (const [name, indices] of [['sortedIndices', sortedIndices], ['unsortedIndices', unsortedIndices]] as const) {
      if (indices && !isPermutation(indices, B)) throw new Error(`${where}: ${name} must be a permutation of 0..${B - 1}, got [${[...indices].join(', ')}]`);
    }
  }

  /** Sequences in the batch. */
  get batchSize(): number {
    return this.batchSizes[0]!;
  }

  /** Each sequence's length, in the caller's batch order. */
  lengths(): number[] {
    const sorted = sortedLengths(this.batchSizes);
    return this.unsortedIndices ? Array.from(this.unsortedIndices, (j) => sorted[j]!) : sorted;
  }

  /** The same batch over other data of the same layout (a layer's output). */
  withData(data: Tensor): PackedSequence {
    if (data.shape[0] !== this.data.shape[0]) {
      throw new Error(`PackedSequence: new data must have ${this.data.shape[0]} rows like the old, got ${formatShape(data.shape)}`);
    }
    return new PackedSequence(data, this.batchSizes, this.sortedIndices, this.unsortedIndices);
  }
}

export interface PadSequenceOptions {
  batchFirst?: boolean;
  paddingValue?: number;
}

/** Stacks sequences [L_i, *] into [maxL, B, *] ([B, maxL, *] with batchFirst), padding the ends. */
export function padSequence(sequences: readonly Tensor[], options: PadSequenceOptions = {}): Tensor {
  const where = 'padSequence';
  knownOptions(where, options, ['batchFirst', 'paddingValue']);
  if (!Array.isArray(sequences) || sequences.length === 0) throw new Error(`${where}: sequences must be a non-empty array of tensors [length, *features]`);
  const first = sequences[0]!;
  sequences.forEach((s, i) => {
    if (!(s instanceof Tensor) || s.shape.length < 1) throw new Error(`${where}: sequences[${i}] must be a tensor [length, *features]`);
    if (s.dtype !== first.dtype) throw new Error(`${where}: sequences[${i}] dtype must be ${first.dtype} like sequences[0], got ${s.dtype}`);
    const trailing = s.shape.slice(1);
    if (trailing.length !== first.shape.length - 1 || trailing.some((d, k) => d !== first.shape[k + 1])) {
      throw new Error(`${where}: sequences[${i}] must be [length, ${first.shape.slice(1).join(', ')}] like sequences[0], got ${formatShape(s.shape)}`);
    }
  });
  const paddingValue = options.paddingValue ?? 0;
  const maxLength = Math.max(...sequences.map((s) => s.shape[0]!));
  const padded = sequences.map((s) => {
    const missing = maxLength - s.shape[0]!;
    return missing === 0 ? s : cat([s, full([missing, ...s.shape.slice(1)], paddingValue, { dtype: s.dtype })], 0);
  });
  return stack(padded, options.batchFirst ? 0 : 1);
}

export interface PackOptions {
  batchFirst?: boolean;
  /** Lengths must come non-increasing (else the batch is sorted here and unsorted by the layers' results). */
  enforceSorted?: boolean;
}

/**
 * Packs a padded batch x [T, B, *] ([B, T, *] with batchFirst) whose sequence b has lengths[b] valid
 * steps. With enforceSorted (the default) the lengths must be non-increasing.
 */
export function packPaddedSequence(x: Tensor, lengths: Tensor | Int32Array | readonly number[], options: PackOptions = {}): PackedSequence {
  const where = 'packPaddedSequence';
  knownOptions(where, options, ['batchFirst', 'enforceSorted']);
  const batchFirst = options.batchFirst ?? false;
  const enforceSorted = options.enforceSorted ?? true;
  if (!(x instanceof Tensor) || x.shape.length < 2) {
    throw new Error(`${where}: input must be a tensor ${batchFirst ? '[batch, seq, *features]' : '[seq, batch, *features]'}, got ${x instanceof Tensor ? formatShape(x.shape) : typeof x}`);
  }
  const [T, B] = batchFirst ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const values = lengths instanceof Tensor ? Array.from(lengths.data) : Array.from(lengths as ArrayLike<number>);
  if (values.length !== B) throw new Error(`${where}: lengths must have one entry per sequence (${B}), got ${values.length}`);
  values.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 1 || len > T) {
      throw new Error(`${where}: lengths[${b}] must be an integer in [1, ${T}] (zero-length sequences cannot be packed), got ${len}`);
    }
  });
  let sorted: Int32Array | null = null;
  if (enforceSorted) {
    const b = values.findIndex((len, i) => i > 0 && len > values[i - 1]!);
    if (b > 0) {
      throw new Error(
        `${where}: lengths must be sorted in decreasing order with enforceSorted (lengths[${b - 1}] = ${values[b - 1]} < lengths[${b}] = ${values[b]}); pass { enforceSorted: false } to sort them here`,
      );
    }
  } else {
    // Stable: equal lengths keep their order.
    sorted = Int32Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b);
  }
  const order = sorted ?? Int32Array.from(values.keys());
  const batchSizes = new Int32Array(values[order[0]!]!);
  for (const len of values) for (let t = 0; t < len; t++) batchSizes[t]!++;
  // Row of (t, b) in x viewed as [rows, *features]: t * B + b, or b * T + t with batchFirst.
  const rows = new Int32Array(batchSizes.reduce((a, n) => a + n, 0));
  let r = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    for (let j = 0; j < batchSizes[t]!; j++) rows[r++] = batchFirst ? order[j]! * T + t : t * B + order[j]!;
  }
  const features = x.shape.slice(2);
  const data = indexSelect(reshape(x, [T * B, ...features]), 0, rows);
  return new PackedSequence(data, batchSizes, sorted);
}

export interface PadPackedOptions {
  batchFirst?: boolean;
  paddingValue?: number;
  /** Pads to this many steps (at least the longest sequence) instead of the longest sequence's. */
  totalLength?: number;
}

/**
 * The inverse of packPaddedSequence: [padded, lengths], padded [T, B, *] ([B, T, *] with batchFirst)
 * in the caller's batch order, lengths a tensor [B].
 */
export function padPackedSequence(sequence: PackedSequence, options: PadPackedOptions = {}): [Tensor, Tensor] {
  const where = 'padPackedSequence';
  knownOptions(where, options, ['batchFirst', 'paddingValue', 'totalLength']);
  if (!(sequence instanceof PackedSequence)) throw new Error(`${where}: sequence must be a PackedSequence`);
  const { data, batchSizes } = sequence;
  const maxLength = batchSizes.length, B = batchSizes[0]!, N = data.shape[0]!;
  const T = options.totalLength ?? maxLength;
  if (!Number.isInteger(T) || T < maxLength) {
    throw new Error(`${where}: totalLength must be an integer at least the longest sequence's length (${maxLength}), got ${String(options.totalLength)}`);
  }
  const batchFirst = options.batchFirst ?? false;
  const features = data.shape.slice(1);
  const lengths = sequence.lengths();
  // Each (t, b) of the output picks its packed row, or row N: the padding appended to the data.
  const position = sequence.unsortedIndices ?? Int32Array.from(lengths.keys());
  const firstRow = new Int32Array(maxLength);
  for (let t = 1; t < maxLength; t++) firstRow[t] = firstRow[t - 1]! + batchSizes[t - 1]!;
  const rows = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) rows[batchFirst ? b * T + t : t * B + b] = t < lengths[b]! ? firstRow[t]! + position[b]! : N;
  }
  const withPadding = cat([data, full([1, ...features], options.paddingValue ?? 0, { dtype: data.dtype })], 0);
  const padded = reshape(indexSelect(withPadding, 0, rows), batchFirst ? [B, T, ...features] : [T, B, ...features]);
  return [padded, new Tensor(Float32Array.from(lengths), [B])];
}

/** padSequence then packPaddedSequence: sequences [L_i, *] in any order (with enforceSorted: false). */
export function packSequence(sequences: readonly Tensor[], options: { enforceSorted?: boolean } = {}): PackedSequence {
  knownOptions('packSequence', options, ['enforceSorted']);
  const padded = padSequence(sequences);
  return packPaddedSequence(padded, sequences.map((s) => s.shape[0]!), { enforceSorted: options.enforceSorted ?? true });
}

/** Lengths of the sorted batch from its batch sizes: row j runs while batchSizes[t] > j. */
function sortedLengths(batchSizes: Int32Array): number[] {
  const lengths = new Array<number>(batchSizes[0]!).fill(0);
  for (const size of batchSizes) for (let j = 0; j < size; j++) lengths[j]!++;
  return lengths;
}

/** batchSizes of a packed sequence of `rows` rows: positive, non-increasing, summing to rows. */
export function checkBatchSizes(where: string, batchSizes: Int32Array, rows: number): void {
  if (!(batchSizes instanceof Int32Array) || batchSizes.length === 0) throw new Error(`${where}: batchSizes must be a non-empty Int32Array`);
  let total = 0;
  for (let t = 0; t < batchSizes.length; t++) {
    const size = batchSizes[t]!;
    if (size < 1 || (t > 0 && size > batchSizes[t - 1]!)) {
      throw new Error(`${where}: batchSizes must be positive and non-increasing, got [${[...batchSizes].join(', ')}]`);
    }
    total += size;
  }
  if (total !== rows) throw new Error(`${where}: data must have ${total} rows (the sum of batchSizes), got ${rows}`);
}

function isPermutation(indices: Int32Array, n: number): boolean {
  if (indices.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const i of indices) {
    if (i < 0 || i >= n || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

function invertPermutation(indices: Int32Array): Int32Array {
  const inverse = new Int32Array(indices.length);
  indices.forEach((j, i) => (inverse[j] = i));
  return inverse;
}

/**
 * Music: next-step prediction on a time grid (sixteenth notes by default), in one of two encodings.
 * - mono: the melody (highest sounding note) as one class per step: a pitch, rest, or "hold" (the
 *   previous note continues, so a repeated note stays two notes); softmax + cross-entropy.
 * - poly: the piano roll, one multi-hot row per step; sigmoid + binary cross-entropy per pitch.
 * The pieces are laid end to end with a bar of silence between them; the end of that sequence is held
 * out, the last `testSplit` for testing and the `valSplit` before it for validation. The loss in both encodings is the negative log-likelihood per time step
 * (nats), so `nll` compares runs within one encoding. With `windows: 'pieces'` nothing crosses a
 * piece's boundary: training windows stay inside one piece, and a held-out part is scored piece by
 * piece (each from a fresh state, over its real steps only, never the silence between pieces).
 */
import { bceWithLogits, crossEntropy } from '../nn/index.js';
import { fromArray, Generator, noGrad, type Tensor } from '../tensor/index.js';
import { DataRng, melodyToNotes, notesToMelody, notesToPianoRoll, pianoRollToNotes } from '../data/index.js';
import type { PitchRange, StepNote } from '../data/index.js';
import { checkChoice, checkInteger } from './checks.js';
import { ModelStepper, type ModelConfig, type RecurrentState, type SequenceModel } from './model.js';
import { checkSampling, sampleBernoulli, sampleClass, type SamplingOptions } from './sampling.js';
import { buildModel, chronologicalSplit, dataRngPersistence, type Evaluation, type ExportedTaskData, type Task, type TrainingConfig } from './task.js';
import { countFrame, frameAccuracy, monoBaselineNll, monoStats, polyBaselines, polyStats, type FrameCounts, type MusicBaselineStats } from './music-baselines.js';

export const MUSIC_ENCODINGS = ['mono', 'poly'] as const;
export type MusicEncoding = (typeof MUSIC_ENCODINGS)[number];

/**
 * How training windows are cut: `stream` anywhere in the pieces laid end to end (across the silence
 * between them), all seqLen long; `pieces` inside one piece each, so a window that would run past its
 * piece's end is shorter, and a batch holds windows of different lengths (run packed, the loss over
 * each window's own steps only). Evaluation follows: `stream` scores a held-out part as one stream,
 * `pieces` each piece's steps in it on their own.
 */
export const MUSIC_WINDOWS = ['stream', 'pieces'] as const;
export type MusicWindows = (typeof MUSIC_WINDOWS)[number];

/** A piece as the recipe needs it: quantised notes (the data layer's MidiSong fits). */
export interface Piece {
  source: string;
  notes: readonly StepNote[];
  bpm: number;
  stepsPerQuarter: number;
}

export interface MusicOptions {
  training: TrainingConfig;
  model: Omit<ModelConfig, 'input' | 'outputSize'>;
  encoding: MusicEncoding;
  /** Embedding size for mono (0: one-hot); poly rows are fed as they are. */
  embedding: number;
  /** A saved run's pitch range; the lowest to the highest note of the pieces when absent. */
  range?: PitchRange;
  /** Default 'stream'. */
  windows?: MusicWindows;
}

export interface MusicSummary {
  encoding: MusicEncoding;
  low: number;
  high: number;
  /** Input and output size: pitches (poly) or pitches + rest + hold (mono). */
  classes: number;
  stepsPerQuarter: number;
  bpm: number;
  pieces: { source: string; steps: number }[];
  totalSteps: number;
  splitIndex: number;
  /** First test step (absent in runs made before test parts: totalSteps). */
  testIndex?: number;
  /** The training part's statistics for the reference NLLs (absent in runs made before they existed). */
  baselines?: MusicBaselineStats;
}

export interface GenerateMusicOptions extends SamplingOptions {
  /** Steps to generate after the prime. */
  length: number;
  seed: number;
  /** The piece whose opening primes the model (the task's default: the first piece of its data; without one, a step of silence). */
  prime?: Piece;
  /** How many steps of the prime's opening to use. Default 16 (one bar of sixteenths). */
  primeSteps?: number;
  /**
   * Mono: once this many steps in a row were silent (a rest and the steps holding it), a rest or hold
   * is no longer drawn, so a sample cannot drift into a long silence. Default two bars; 0: no limit.
   */
  maxSilence?: number;
  /** 'int8': generate on int8-quantized recurrent weights (ModelStepper's option). */
  quantize?: 'int8';
}

export interface GeneratedPiece {
  /** Prime and continuation, on the step grid. */
  notes: StepNote[];
  /** Where the generated part begins. */
  primeSteps: number;
  totalSteps: number;
}

export interface MusicTask extends Task {
  readonly name: 'music';
  readonly summary: MusicSummary;
  readonly pieces: readonly Piece[];
  generate(options: GenerateMusicOptions): GeneratedPiece;
  /** The encoded steps (ids or piano-roll rows) and the split (docs/scaling.md). */
  exportData(): ExportedTaskData;
}

/** Silence between pieces, so the model learns where a piece ends rather than gluing two together. */
const GAP_BARS = 1;

/** Steps in time order: class ids (mono) or multi-hot rows (poly). */
interface Encoded {
  steps: number;
  ids: Int32Array | null;
  rows: Float32Array | null;
}

function pitchRangeOf(pieces: readonly Piece[]): PitchRange {
  let low = 127;
  let high = 0;
  for (const p of pieces) for (const n of p.notes) {
    low = Math.min(low, n.pitch);
    high = Math.max(high, n.pitch);
  }
  if (low > high) throw new Error('the MIDI data holds no notes');
  // At least an octave, so notes outside the range of a later file can be folded in.
  if (high - low < 11) high = Math.min(127, low + 11);
  if (high - low < 11) low = high - 11;
  return { low, high };
}

function encodePieces(pieces: readonly Piece[], encoding: MusicEncoding, range: PitchRange, stepsPerQuarter: number): Encoded & { lengths: number[] } {
  const pitches = range.high - range.low + 1;
  const gap = GAP_BARS * 4 * stepsPerQuarter;
  const parts: (Int32Array | Float32Array)[] = [];
  const lengths: number[] = [];
  for (const piece of pieces) {
    try {
      if (encoding === 'mono') {
        const melody = notesToMelody(piece.notes, { range, hold: true });
        parts.push(melody.ids);
        lengths.push(melody.ids.length);
      } else {
        const roll = notesToPianoRoll(piece.notes, { range });
        parts.push(roll.active);
        lengths.push(roll.steps);
      }
    } catch (err) {
      throw new Error(`${piece.source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const steps = lengths.reduce((s, n) => s + n + gap, 0);
  if (encoding === 'mono') {
    const ids = new Int32Array(steps).fill(pitches); // the rest class
    let at = 0;
    parts.forEach((p, i) => {
      ids.set(p as Int32Array, at);
      at += lengths[i]! + gap;
    });
    return { steps, ids, rows: null, lengths };
  }
  const rows = new Float32Array(steps * pitches);
  let at = 0;
  parts.forEach((p, i) => {
    rows.set(p as Float32Array, at * pitches);
    at += lengths[i]! + gap;
  });
  return { steps, ids: null, rows, lengths };
}

export function createMusicTask(options: MusicOptions, pieces: readonly Piece[]): MusicTask {
  const { training } = options;
  const { seqLen, batch } = training;
  const encoding = checkChoice('encoding', options.encoding, MUSIC_ENCODINGS);
  const windowKind = checkChoice('windows', options.windows ?? 'stream', MUSIC_WINDOWS);
  checkInteger('embedding', options.embedding, 0, 65536);
  const first = pieces[0];
  if (!first) throw new Error('no MIDI pieces to train on');
  const stepsPerQuarter = first.stepsPerQuarter;
  const range = options.range ?? pitchRangeOf(pieces);
  const pitches = range.high - range.low + 1;
  const classes = encoding === 'mono' ? pitches + 2 : pitches;
  const data = encodePieces(pieces, encoding, range, stepsPerQuarter);
  const total = data.steps;
  const { trainEnd: splitIndex, validationEnd: testIndex } = chronologicalSplit(total, training);
  if (splitIndex < seqLen + 1) {
    throw new Error(
      `the MIDI data gives ${total} steps; the training part has ${splitIndex}, but --seq-len ${seqLen} needs at least ${seqLen + 1} ` +
        `(use a shorter --seq-len, a smaller --val-split or more pieces)`,
    );
  }
  const hasValidation = splitIndex < testIndex;
  if (hasValidation && testIndex - splitIndex < 2) {
    throw new Error(`the validation part holds ${testIndex - splitIndex} step; raise --val-split or set it to 0`);
  }
  const hasTest = testIndex < total;
  if (hasTest && total - testIndex < 2) throw new Error(`the test part holds ${total - testIndex} step; raise --test-split or set it to 0`);
  const input = encoding === 'mono' ? { kind: 'classes' as const, classes, embedding: options.embedding } : { kind: 'dense' as const, size: pitches };
  const { model, optimizer, generator } = buildModel({ ...options.model, input, outputSize: classes }, training);
  const rng = new DataRng(training.seed);
  const summary: MusicSummary = {
    encoding, low: range.low, high: range.high, classes, stepsPerQuarter, bpm: first.bpm,
    pieces: pieces.map((p, i) => ({ source: p.source, steps: data.lengths[i]! })),
    totalSteps: total, splitIndex, testIndex,
    baselines: data.ids ? monoStats(data.ids.subarray(0, splitIndex), classes) : polyStats(data.rows!, splitIndex, pitches),
  };

  const coder: MusicCoder = { model, classes, pitches };
  const windows = (source: Encoded, starts: ArrayLike<number>, len: number) => windowsOf(coder, source, starts, len);
  const nll = (output: Tensor, targets: Int32Array | Float32Array, len: number, B: number): Tensor => nllOf(coder, output, targets, len, B);
  const gap = GAP_BARS * 4 * stepsPerQuarter;
  /** The stretches a held-out part [from, to) is scored on: itself (stream), or each piece's steps in it. */
  const scoredSpans = (from: number, to: number, part: string): Span[] => {
    if (windowKind === 'stream') return [{ start: from, end: to }];
    const inside = pieceSpans(data.lengths, gap, from, to);
    if (inside.length === 0) throw new Error(`--windows pieces: the ${part} part (steps ${from} to ${to}) holds no piece with at least 2 steps; raise its split`);
    return inside;
  };
  const evaluationSpans = {
    validation: hasValidation ? scoredSpans(splitIndex, testIndex, 'validation') : scoredSpans(0, splitIndex, 'training'),
    test: hasTest ? scoredSpans(testIndex, total, 'test') : [],
  };
  const score = (spans: readonly Span[]): Evaluation => scoreSpans(coder, summary.baselines, data, spans, seqLen);

  const trainWindows = splitIndex - seqLen;
  const spans = windowKind === 'pieces' ? pieceSpans(data.lengths, gap, 0, splitIndex) : [];
  if (windowKind === 'pieces' && spans.length === 0) throw new Error('--windows pieces needs a piece with at least 2 steps in the training part');
  /** Windows inside one piece each: a start anywhere in a piece, as long as the piece allows up to seqLen. */
  const pieceWindows = (): Tensor => {
    const starts = new Int32Array(batch);
    const lengths: number[] = [];
    for (let b = 0; b < batch; b++) {
      const span = spans[rng.int(spans.length)]!;
      starts[b] = span.start + rng.int(span.end - 1 - span.start);
      lengths.push(Math.min(seqLen, span.end - 1 - starts[b]!));
    }
    const steps = Math.max(...lengths);
    const w = windowsOf(coder, data, starts, steps, lengths);
    const { output } = model.forward({ data: w.inputs, steps, batch, lengths });
    return nllOf(coder, output, w.targets, steps, batch, lengths);
  };

  return {
    name: 'music',
    model,
    optimizer,
    generator,
    summary,
    pieces,
    tokensPerStep: windowKind === 'pieces' ? batch * meanWindowLength(spans, seqLen) : seqLen * batch,
    stepsPerEpoch: Math.max(1, Math.ceil(trainWindows / (batch * seqLen))),
    hasValidation,
    hasTest,

    trainLoss() {
      model.train();
      if (windowKind === 'pieces') return pieceWindows();
      const starts = new Int32Array(batch);
      for (let b = 0; b < batch; b++) starts[b] = rng.int(trainWindows);
      const w = windows(data, starts, seqLen);
      const { output } = model.forward({ data: w.inputs, steps: seqLen, batch });
      return nll(output, w.targets, seqLen, batch);
    },

    evaluate(part = 'validation') {
      if (part === 'test') {
        if (!hasTest) throw new Error('this run holds out no test part (test-split 0)');
        return score(evaluationSpans.test);
      }
      return score(evaluationSpans.validation);
    },

    exportData() {
      const [evalFrom, evalTo] = hasValidation ? [splitIndex, testIndex] : [0, splitIndex];
      const tensors: ExportedTaskData['tensors'] = data.ids ? { ids: { data: Float32Array.from(data.ids), shape: [total] } } : { rows: { data: data.rows!.slice(), shape: [total, pitches] } };
      // evalSpans: the stretches the validation figure is scored on (one, or each piece's under --windows pieces).
      const evalSpans = JSON.stringify(evaluationSpans.validation.map(({ start, end }) => [start, end]));
      return { tensors, meta: { encoding, classes, pitches, splitIndex, testIndex, total, evalFrom, evalTo, evalSpans } };
    },

    generate(opts: GenerateMusicOptions): GeneratedPiece {
      return generateMusic(model, summary, { ...opts, prime: opts.prime ?? first });
    },

    ...dataRngPersistence(rng),
  };
}

/**
 * Pieces as a run's model reads them (its encoding, pitch range and grid), one after another with
 * the silent gaps training puts between them: class ids (mono) or multi-hot rows (poly).
 */
export function encodeMusic(summary: MusicSummary, pieces: readonly Piece[]): { steps: number; ids: Int32Array | null; rows: Float32Array | null } {
  const { steps, ids, rows } = encodePieces(pieces, summary.encoding, { low: summary.low, high: summary.high }, summary.stepsPerQuarter);
  return { steps, ids, rows };
}

/** The opening of a piece (from its first note), encoded as the model reads it. */
function encodePrime(piece: Piece, steps: number, encoding: MusicEncoding, range: PitchRange): Encoded {
  const pitches = range.high - range.low + 1;
  const encoded = encodePieces([piece], encoding, range, piece.stepsPerQuarter);
  // Start at the first note: a prime of pure silence tells the model nothing about the piece.
  const start = piece.notes.reduce((m, n) => Math.min(m, n.start), Infinity);
  const from = Number.isFinite(start) ? Math.min(start, encoded.lengths[0]! - 1) : 0;
  const len = Math.min(steps, encoded.lengths[0]! - from);
  return encoded.ids
    ? { steps: len, ids: encoded.ids.slice(from, from + len), rows: null }
    : { steps: len, ids: null, rows: encoded.rows!.slice(from * pitches, (from + len) * pitches) };
}

/**
 * Continues a prime by sampling one step at a time and feeding each sample back. Needs only the model
 * and the run's summary (encoding and pitch range), not the training data.
 */
export function generateMusic(model: SequenceModel, summary: MusicSummary, opts: GenerateMusicOptions): GeneratedPiece {
  checkSampling(opts);
  checkInteger('length', opts.length, 1, 1_000_000);
  const { encoding, low, high, classes } = summary;
  const range = { low, high };
  const pitches = high - low + 1;
  const silence: Encoded = encoding === 'mono' ? { steps: 1, ids: Int32Array.of(pitches), rows: null } : { steps: 1, ids: null, rows: new Float32Array(pitches) };
  const prime = opts.prime ? encodePrime(opts.prime, opts.primeSteps ?? 4 * summary.stepsPerQuarter, encoding, range) : silence;
  const sampler = new Generator(opts.seed);
  const maxSilence = checkInteger('max-silence', opts.maxSilence ?? 8 * summary.stepsPerQuarter, 0, 1_000_000);
  const rest = pitches;
  const hold = pitches + 1;
  const silentClasses = new Set([rest, hold]);
  let silentRun = 0;
  const total = prime.steps + opts.length;
  const ids = new Int32Array(total);
  const rows = new Float32Array(total * pitches);
  if (prime.ids) ids.set(prime.ids);
  else rows.set(prime.rows!);
  model.eval();
  const stepper = new ModelStepper(model, opts.quantize === undefined ? {} : { quantize: opts.quantize });
  try {
    let output = stepper.prime({ data: prime.ids ?? prime.rows!, steps: prime.steps, batch: 1 });
    for (let s = prime.steps; s < total; s++) {
      const logits = output.data.subarray(output.size - classes);
      let next: Int32Array | Float32Array;
      if (encoding === 'mono') {
        ids[s] = sampleClass(logits, opts, sampler, maxSilence > 0 && silentRun >= maxSilence ? silentClasses : undefined);
        // A hold continues whatever sounds: silence only after a rest.
        silentRun = ids[s] === rest || (ids[s] === hold && silentRun > 0) ? silentRun + 1 : 0;
        next = ids.slice(s, s + 1);
      } else {
        rows.set(sampleBernoulli(logits, opts.temperature, sampler), s * pitches);
        next = rows.slice(s * pitches, (s + 1) * pitches);
      }
      output = stepper.step({ data: next, steps: 1, batch: 1 });
    }
  } finally {
    stepper.dispose();
  }
  const notes =
    encoding === 'mono'
      ? melodyToNotes({ low, pitches, rest: pitches, hold: pitches + 1, classes, ids })
      : pianoRollToNotes({ low, pitches, steps: total, active: rows });
  return { notes, primeSteps: prime.steps, totalSteps: total };
}

interface MusicCoder {
  model: SequenceModel;
  classes: number;
  pitches: number;
}

/** Steps [start, end) of the encoded sequence. */
interface Span {
  start: number;
  end: number;
}

/**
 * The model's NLL per predicted step over the spans (each scored from a fresh state), beside the
 * baselines' on the same predictions: each span's figures weighted by its predicted steps.
 */
function scoreSpans(c: MusicCoder, stats: MusicBaselineStats | undefined, source: Encoded, spans: readonly Span[], seqLen: number): Evaluation {
  let nllSum = 0, unigramSum = 0, repeatSum = 0, predicted = 0;
  const frames: FrameCounts = { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
  const repeatFrames: FrameCounts = { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
  for (const { start, end } of spans) {
    const steps = end - start - 1;
    nllSum += sequenceNllOf(c, source, start, end, seqLen, frames);
    predicted += steps;
    if (stats?.encoding === 'mono' && source.ids) {
      const b = monoBaselineNll(stats, source.ids.subarray(start, end));
      unigramSum += b.unigram * steps;
      repeatSum += b.repeat * steps;
    } else if (stats?.encoding === 'poly' && source.rows) {
      const b = polyBaselines(stats, source.rows.subarray(start * c.pitches, end * c.pitches), end - start, c.pitches, repeatFrames);
      unigramSum += b.unigram * steps;
      repeatSum += b.repeat * steps;
    }
  }
  const nll = nllSum / predicted;
  const metrics: Evaluation['metrics'] = { nll };
  if (stats) Object.assign(metrics, { nll_unigram: unigramSum / predicted, nll_repeat: repeatSum / predicted });
  if (source.rows) metrics['frame_accuracy'] = frameAccuracy(frames);
  if (stats?.encoding === 'poly' && source.rows) metrics['frame_accuracy_repeat'] = frameAccuracy(repeatFrames);
  return { loss: nll, metrics };
}

/** Each piece's steps within [from, to), where it has at least 2 there (an input and its target). */
function pieceSpans(lengths: readonly number[], gap: number, from: number, to: number): Span[] {
  const spans: Span[] = [];
  let at = 0;
  for (const n of lengths) {
    const start = Math.max(at, from), end = Math.min(at + n, to);
    if (end - start >= 2) spans.push({ start, end });
    at += n + gap;
  }
  return spans;
}

/**
 * The expected real steps of a `pieces` window (a span drawn uniformly, then a start uniformly in it),
 * so that tokens per second counts real tokens, not padding.
 */
function meanWindowLength(spans: readonly Span[], seqLen: number): number {
  let total = 0;
  for (const { start, end } of spans) {
    const starts = end - 1 - start;
    let steps = 0;
    for (let k = 0; k < starts; k++) steps += Math.min(seqLen, starts - k);
    total += steps / starts;
  }
  return total / spans.length;
}

/**
 * Inputs and next-step targets of windows starting at `starts`, time-major; with `lengths`, row b
 * holds only its first lengths[b] steps (the rest is padding, left zero and never read).
 */
function windowsOf(
  c: MusicCoder, source: Encoded, starts: ArrayLike<number>, len: number, lengths?: readonly number[],
): { inputs: Int32Array | Float32Array; targets: Int32Array | Float32Array } {
  const B = starts.length;
  const { pitches } = c;
  if (source.ids) {
    const inputs = new Int32Array(len * B);
    const targets = new Int32Array(len * B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < (lengths?.[b] ?? len); t++) {
        inputs[t * B + b] = source.ids[starts[b]! + t]!;
        targets[t * B + b] = source.ids[starts[b]! + t + 1]!;
      }
    }
    return { inputs, targets };
  }
  const rows = source.rows!;
  const inputs = new Float32Array(len * B * pitches);
  const targets = new Float32Array(len * B * pitches);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < (lengths?.[b] ?? len); t++) {
      const at = (t * B + b) * pitches;
      inputs.set(rows.subarray((starts[b]! + t) * pitches, (starts[b]! + t + 1) * pitches), at);
      targets.set(rows.subarray((starts[b]! + t + 1) * pitches, (starts[b]! + t + 2) * pitches), at);
    }
  }
  return { inputs, targets };
}

/**
 * Negative log-likelihood per time step (nats) of outputs [len, B, classes]; with `lengths`, over
 * each row's own steps only (the rows of the padding are left out, not weighted zero).
 */
function nllOf(c: MusicCoder, output: Tensor, targets: Int32Array | Float32Array, len: number, B: number, lengths?: readonly number[]): Tensor {
  const width = targets instanceof Int32Array ? 1 : c.pitches;
  let logits = output.reshape([len * B, c.classes]);
  let wanted = targets;
  if (lengths && lengths.some((n) => n < len)) {
    const rows: number[] = [];
    for (let t = 0; t < len; t++) for (let b = 0; b < B; b++) if (t < lengths[b]!) rows.push(t * B + b);
    logits = logits.indexSelect(0, Int32Array.from(rows));
    wanted = targets instanceof Int32Array ? new Int32Array(rows.length) : new Float32Array(rows.length * width);
    rows.forEach((row, k) => wanted.set(targets.subarray(row * width, (row + 1) * width), k * width));
  }
  const steps = logits.shape[0]!;
  if (wanted instanceof Int32Array) return crossEntropy(logits, wanted);
  // The window's own fresh array: shared rather than copied.
  return bceWithLogits(logits, fromArray(wanted, [steps, c.pitches]), 'sum').mul(1 / steps);
}

/**
 * The summed NLL of one stream through steps [from, to) from a fresh state, carrying the state from
 * chunk to chunk; for the piano roll it adds to `frames` the counts of the model's notes (a pitch is
 * predicted on when its probability exceeds 1/2).
 */
function sequenceNllOf(c: MusicCoder, source: Encoded, from: number, to: number, seqLen: number, frames: FrameCounts): number {
  let totalNll = 0;
  let state: RecurrentState | null = null;
  c.model.eval();
  noGrad(() => {
    for (let s = from; s < to - 1; s += seqLen) {
      const len = Math.min(seqLen, to - 1 - s);
      const w = windowsOf(c, source, [s], len);
      const { output, state: next } = c.model.forward({ data: w.inputs, steps: len, batch: 1 }, state);
      totalNll += nllOf(c, output, w.targets, len, 1).item() * len;
      state = next;
      if (w.targets instanceof Float32Array) {
        const logits = output.data;
        for (let i = 0; i < w.targets.length; i++) countFrame(frames, logits[i]! > 0, w.targets[i]! > 0.5);
      }
    }
  });
  return totalNll;
}

/**
 * NLL per time step of a model on other pieces, encoded in the run's range (eval --data): as one
 * stream, or with `windows: 'pieces'` (how the run was trained) each piece on its own.
 */
export function evaluateMusic(model: SequenceModel, summary: MusicSummary, pieces: readonly Piece[], seqLen: number, windows: MusicWindows = 'stream'): Evaluation {
  checkChoice('windows', windows, MUSIC_WINDOWS);
  const encoded = encodePieces(pieces, summary.encoding, { low: summary.low, high: summary.high }, summary.stepsPerQuarter);
  if (encoded.steps < 2) throw new Error('the MIDI data is too short to score (fewer than 2 steps)');
  const spans = windows === 'stream' ? [{ start: 0, end: encoded.steps }] : pieceSpans(encoded.lengths, GAP_BARS * 4 * summary.stepsPerQuarter, 0, encoded.steps);
  if (spans.length === 0) throw new Error('the MIDI data holds no piece of at least 2 steps to score');
  const coder = { model, classes: summary.classes, pitches: summary.high - summary.low + 1 };
  return scoreSpans(coder, summary.baselines, encoded, spans, seqLen);
}

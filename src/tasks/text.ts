/**
 * Text: a character-level language model. The vocabulary is built from the whole text (so no
 * validation character is unknown) and saved with the run. Training uses the classic batching: the
 * training part is cut into `batch` parallel streams read `seqLen` characters at a time, and the
 * hidden state is carried from one chunk to the next and detached (truncated BPTT), so the model sees
 * context far longer than one chunk at the memory cost of one chunk.
 */
import { crossEntropy } from '../nn/index.js';
import { logSumExp } from '../ops/softmax.js';
import { Generator, noGrad } from '../tensor/index.js';
import { LanguageModelBatches, Vocabulary, type VocabularyJSON } from '../data/index.js';
import { checkInteger } from './checks.js';
import { detachState, isLstm, ModelStepper, stateFromTensors, stateTensors, type ModelConfig, type RecurrentState, type SequenceModel } from './model.js';
import { checkSampling, sampleClass, type SamplingOptions } from './sampling.js';
import { buildModel, chronologicalSplit, stateField, type Evaluation, type Task, type TaskState, type TrainingConfig } from './task.js';
import { stateFromJSON, stateToJSON } from './state-json.js';

export interface TextOptions {
  training: TrainingConfig;
  model: Omit<ModelConfig, 'input' | 'outputSize'>;
  /** Embedding size; 0 feeds one-hot vectors. */
  embedding: number;
  /** A saved run's vocabulary; built from the text when absent. */
  vocabulary?: VocabularyJSON;
  /**
   * Validation scores at most this many batches of the validation part (0 or absent: all of it), so
   * validating a large text costs a fixed, small time; test figures always use the whole test part.
   */
  validationBatches?: number;
}

export interface TextSummary {
  characters: number;
  splitIndex: number;
  /** First test character (absent in runs made before test parts: the text length). */
  testIndex?: number;
  vocabulary: VocabularyJSON;
}

/** What to do with characters outside a model's vocabulary: refuse the text, or read each as a stand-in. */
export type UnknownCharacters = 'error' | 'replace';

export interface GenerateTextOptions extends SamplingOptions {
  prime: string;
  length: number;
  seed: number;
  /** Characters of the prime outside the vocabulary (default 'error'; 'replace' reads them as a space). */
  unknown?: UnknownCharacters;
  /** 'int8': generate on int8-quantized recurrent weights (ModelStepper's option). */
  quantize?: 'int8';
}

/** The text's ids; with 'replace', unknown characters become the vocabulary's stand-in and are counted. */
export function encodeText(vocabulary: Vocabulary, text: string, unknown: UnknownCharacters = 'error'): { ids: Int32Array; replaced: number; examples: string[] } {
  if (unknown === 'error') return { ids: vocabulary.encode(text), replaced: 0, examples: [] };
  if (unknown !== 'replace') throw new Error(`unknown must be 'error' or 'replace', received ${JSON.stringify(unknown)}`);
  return vocabulary.encodeReplacing(text);
}

export interface TextTask extends Task {
  readonly name: 'text';
  readonly vocabulary: Vocabulary;
  readonly summary: TextSummary;
  /** `length` characters of the validation text (the training text without one), from a line start. */
  snippet(length: number): string;
}

/** Bits per character of a model on any text whose characters are all in its vocabulary (eval --data). */
/** Scores a model on other text; with unknown 'replace', `metrics.unknown_replaced` counts the stand-ins. */
export function evaluateText(model: SequenceModel, vocabulary: Vocabulary, text: string, seqLen: number, batch: number, unknown: UnknownCharacters = 'error'): Evaluation {
  const { ids, replaced } = encodeText(vocabulary, text, unknown);
  const result = evaluation(streamLoss(model, ids, seqLen, batch));
  return unknown === 'replace' ? { ...result, metrics: { ...result.metrics, unknown_replaced: replaced } } : result;
}

const LN2 = Math.log(2);

/** The cross-entropy of a model over ids read as parallel streams, carrying the state (nats per character). */
function streamLoss(model: SequenceModel, ids: Int32Array, seqLen: number, maxStreams: number): number {
  if (ids.length < 2) throw new Error(`cannot score ${ids.length} character(s); at least 2 are needed`);
  const len = Math.min(seqLen, ids.length - 1);
  const streams = Math.max(1, Math.min(maxStreams, Math.floor(ids.length / (len + 1))));
  const batches = new LanguageModelBatches(ids, { seqLen: len, batchSize: streams });
  let total = 0;
  let count = 0;
  let state: RecurrentState | null = null;
  model.eval();
  noGrad(() => {
    for (const b of batches) {
      const { output, state: next } = model.forward({ data: b.inputs, steps: b.seqLen, batch: b.batchSize }, state);
      const n = b.seqLen * b.batchSize;
      total += crossEntropy(output.reshape([n, -1]), b.targets).item() * n;
      count += n;
      state = next;
    }
  });
  return total / count;
}

function evaluation(nats: number): Evaluation {
  return { loss: nats, metrics: { bpc: nats / LN2 } };
}

export function createTextTask(options: TextOptions, text: string, source = '<text>'): TextTask {
  const { training } = options;
  const { seqLen, batch } = training;
  checkInteger('embedding', options.embedding, 0, 65536);
  const vocabulary = options.vocabulary ? Vocabulary.fromJSON(options.vocabulary) : Vocabulary.fromText(text);
  const ids = vocabulary.encode(text);
  const n = ids.length;
  if (n < seqLen + 1) {
    throw new Error(`${source} has ${n} characters, shorter than one sequence: --seq-len ${seqLen} needs at least ${seqLen + 1}`);
  }
  const { trainEnd: splitIndex, validationEnd: testIndex } = chronologicalSplit(n, training);
  const trainIds = ids.subarray(0, splitIndex);
  const valIds = ids.subarray(splitIndex, testIndex);
  const testIds = ids.subarray(testIndex);
  const perStream = Math.floor(trainIds.length / batch);
  if (perStream < seqLen + 1) {
    throw new Error(
      `the training part of ${source} (${trainIds.length} characters) cannot fill --batch ${batch} streams of --seq-len ${seqLen} + 1 characters; ` +
        `use a longer text, a smaller --batch (at most ${Math.max(1, Math.floor(trainIds.length / (seqLen + 1)))}) or a smaller --seq-len`,
    );
  }
  const hasValidation = valIds.length > 0;
  if (hasValidation && valIds.length < 2) {
    throw new Error(`the validation part of ${source} has ${valIds.length} character; raise --val-split or set it to 0`);
  }
  const scored = hasValidation ? valIds : trainIds;
  const cap = checkInteger('validationBatches', options.validationBatches ?? 0, 0, 1_000_000);
  const validationIds = cap > 0 ? scored.subarray(0, Math.min(scored.length, cap * batch * seqLen + 1)) : scored;
  const hasTest = testIds.length > 0;
  if (hasTest && testIds.length < 2) {
    throw new Error(`the test part of ${source} has ${testIds.length} character; raise --test-split or set it to 0`);
  }
  const batches = new LanguageModelBatches(trainIds, { seqLen, batchSize: batch });
  const { model, optimizer, generator } = buildModel(
    { ...options.model, input: { kind: 'classes', classes: vocabulary.size, embedding: options.embedding }, outputSize: vocabulary.size },
    training,
  );
  const lstm = isLstm(model.config);
  let position = 0;
  let carried: RecurrentState | null = null;
  const summary: TextSummary = { characters: n, splitIndex, testIndex, vocabulary: vocabulary.toJSON() };

  return {
    name: 'text',
    model,
    optimizer,
    generator,
    vocabulary,
    summary,
    tokensPerStep: seqLen * batch,
    stepsPerEpoch: batches.length,
    hasValidation,
    hasTest,

    trainLoss() {
      model.train();
      const b = batches.get(position);
      const { output, state } = model.forward({ data: b.inputs, steps: b.seqLen, batch: b.batchSize }, carried);
      position++;
      // A new epoch starts every stream from its beginning: the old state belongs to its end.
      if (position === batches.length) {
        position = 0;
        carried = null;
      } else carried = detachState(state);
      return crossEntropy(output.reshape([b.seqLen * b.batchSize, vocabulary.size]), b.targets);
    },

    evaluate(part = 'validation') {
      if (part === 'test') {
        if (!hasTest) throw new Error('this run holds out no test part (test-split 0)');
        return evaluation(streamLoss(model, testIds, seqLen, batch));
      }
      return evaluation(streamLoss(model, validationIds, seqLen, batch));
    },

    snippet(length: number) {
      const source = hasValidation ? valIds : trainIds;
      const newline = vocabulary.has('\n') ? vocabulary.encode('\n')[0]! : -1;
      let from = source.indexOf(newline) + 1;
      if (from <= 0 || from + length > source.length) from = 0;
      return vocabulary.decode(source.subarray(from, from + length));
    },

    saveState(): TaskState {
      return { position, carried: carried && stateToJSON(stateTensors(carried, 'carried')) };
    },

    loadState(state: TaskState) {
      position = stateField(state, 'position', (v): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < batches.length, `an integer in [0, ${batches.length})`);
      const saved = state.carried;
      carried = saved === null || saved === undefined ? null : stateFromTensors(stateFromJSON(saved), 'carried', lstm);
    },
  };
}

/** Samples `length` characters after the prime (the prime is part of the result). */
export function generateText(model: SequenceModel, vocabulary: Vocabulary, options: GenerateTextOptions): string {
  checkSampling(options);
  checkInteger('length', options.length, 0, 10_000_000);
  if (options.prime.length === 0) throw new Error('prime must hold at least one character');
  const primeIds = encodeText(vocabulary, options.prime, options.unknown).ids;
  const generator = new Generator(options.seed);
  const out: number[] = [];
  model.eval();
  const stepper = new ModelStepper(model, options.quantize === undefined ? {} : { quantize: options.quantize });
  try {
    let output = stepper.prime({ data: primeIds, steps: primeIds.length, batch: 1 });
    for (let i = 0; i < options.length; i++) {
      const logits = output.data.subarray(output.size - vocabulary.size);
      const id = sampleClass(logits, options, generator);
      out.push(id);
      output = stepper.step({ data: Int32Array.of(id), steps: 1, batch: 1 });
    }
  } finally {
    stepper.dispose();
  }
  return options.prime + vocabulary.decode(out);
}

/**
 * Reads `text` one character at a time through a ModelStepper from a zero state, as generation reads
 * its own output (with `quantize`, on the quantized weights): the bits per character of predicting
 * each next character, and every step's logits [characters - 1, vocabulary], for measuring what
 * quantization costs against the float stepper on the same text.
 */
export function steppedBitsPerCharacter(
  model: SequenceModel, vocabulary: Vocabulary, text: string, options: { quantize?: 'int8' } = {},
): { bpc: number; logits: Float32Array } {
  const ids = vocabulary.encode(text);
  if (ids.length < 2) throw new Error(`steppedBitsPerCharacter: the text needs at least 2 characters, got ${ids.length}`);
  const V = vocabulary.size;
  const logits = new Float32Array((ids.length - 1) * V);
  model.eval();
  const stepper = new ModelStepper(model, options);
  let nats = 0;
  try {
    for (let t = 0; t + 1 < ids.length; t++) {
      const row = stepper.step({ data: ids.subarray(t, t + 1), steps: 1, batch: 1 }).data;
      logits.set(row, t * V);
      nats += logSumExp(row, 0, 1, V) - row[ids[t + 1]!]!;
    }
  } finally {
    stepper.dispose();
  }
  return { bpc: nats / (ids.length - 1) / LN2, logits };
}

/** Hidden activations of the last layer while reading a text: [units, characters], row-major. */
export function textActivations(model: SequenceModel, vocabulary: Vocabulary, text: string, maxUnits = 32): { values: Float32Array; units: number; chars: string[] } {
  const ids = vocabulary.encode(text);
  const chars = Array.from(text);
  model.eval();
  const features = noGrad(() => model.features({ data: ids, steps: ids.length, batch: 1 }).features);
  const width = features.shape[2]!;
  const units = Math.min(maxUnits, width);
  const values = new Float32Array(units * ids.length);
  const d = features.data;
  for (let u = 0; u < units; u++) for (let t = 0; t < ids.length; t++) values[u * ids.length + t] = d[t * width + u]!;
  return { values, units, chars };
}

/**
 * The one model shape every task uses: (embedding or one-hot, for class inputs) → recurrent stack →
 * dropout → linear head, applied at every time step. Parameter names follow PyTorch
 * (`embedding.weight`, `rnn.weight_ih_l0`, `head.weight`), so a run's weights load into the
 * equivalent torch.nn model.
 */
import '../ops/index.js';
import { dropout, Embedding, GRU, Linear, LSTM, Module, RNN, RNN_NONLINEARITIES, utils, type RecurrentStepper, type RnnNonlinearity } from '../nn/index.js';
import { fromArray, noGrad, tensor, type Generator, type Tensor } from '../tensor/index.js';
import { oneHot } from '../data/index.js';
import { checkChoice, checkInteger, checkProbability } from './checks.js';

export const CELLS = ['rnn', 'lstm', 'gru', 'peephole'] as const;
export type CellType = (typeof CELLS)[number];

/** Dense features per step, or class ids fed through an embedding (size 0: one-hot vectors). */
export type ModelInput = { kind: 'dense'; size: number } | { kind: 'classes'; classes: number; embedding: number };

/** The RNN layer's activations (sigmoid is this library's extension of PyTorch's two). */
export const NONLINEARITIES = RNN_NONLINEARITIES;
export type Nonlinearity = RnnNonlinearity;

export interface ModelConfig {
  cell: CellType;
  /** The RNN cell's activation (absent: tanh, as in runs made before the option existed); other cells have none. */
  nonlinearity?: Nonlinearity;
  hiddenSize: number;
  numLayers: number;
  /** Between recurrent layers and before the head, in training mode only. */
  dropout: number;
  bidirectional: boolean;
  /** Gradient checkpointing of the recurrent layers (RecurrentOptions.checkpointEvery); absent: none. */
  checkpointEvery?: number;
  input: ModelInput;
  outputSize: number;
}

/** h for RNN/GRU, [h, c] for LSTM; each [layers × directions, batch, hidden]. */
export type RecurrentState = Tensor | [Tensor, Tensor];

/** A batch of inputs in time-major order: dense values [steps, batch, size] or class ids [steps, batch]. */
export interface SequenceInput {
  data: Float32Array | Int32Array;
  steps: number;
  batch: number;
  /**
   * Each row's own length (1..steps), for rows of different lengths in one batch: the steps past a
   * row's length are padding, never read. The layers run packed (nn.utils.rnn), so the state returned
   * is each row's at its own last step, and the outputs past a row's length are the head of zeros.
   */
  lengths?: readonly number[];
}

export function checkModelConfig(config: ModelConfig): ModelConfig {
  checkChoice('cell', config.cell, CELLS);
  if (config.nonlinearity !== undefined) {
    checkChoice('nonlinearity', config.nonlinearity, NONLINEARITIES);
    if (config.cell !== 'rnn' && config.nonlinearity !== 'tanh') throw new Error(`nonlinearity '${config.nonlinearity}' applies to the rnn cell only, received cell '${config.cell}'`);
  }
  checkInteger('hidden', config.hiddenSize, 1, 65536);
  checkInteger('layers', config.numLayers, 1, 64);
  checkProbability('dropout', config.dropout);
  checkInteger('output size', config.outputSize, 1);
  if (config.checkpointEvery !== undefined) checkInteger('checkpoint every', config.checkpointEvery, 1);
  if (config.input.kind === 'dense') checkInteger('input size', config.input.size, 1);
  else {
    checkInteger('number of classes', config.input.classes, 1);
    checkInteger('embedding', config.input.embedding, 0, 65536);
  }
  return config;
}

const { packPaddedSequence, padPackedSequence } = utils.rnn;
type PackedSequence = utils.rnn.PackedSequence;

export class SequenceModel extends Module {
  readonly embedding: Embedding | null;
  readonly rnn: RNN | LSTM | GRU;
  readonly head: Linear;
  private readonly generator: Generator;

  /** The generator seeds the initial weights (in a fixed order) and then draws the dropout masks. */
  constructor(readonly config: ModelConfig, generator: Generator) {
    super();
    checkModelConfig(config);
    this.generator = generator;
    const { input } = config;
    this.embedding =
      input.kind === 'classes' && input.embedding > 0
        ? this.registerModule('embedding', new Embedding(input.classes, input.embedding, { generator }))
        : null;
    const inputSize = input.kind === 'dense' ? input.size : input.embedding > 0 ? input.embedding : input.classes;
    const options = {
      inputSize,
      hiddenSize: config.hiddenSize,
      numLayers: config.numLayers,
      dropout: config.dropout,
      bidirectional: config.bidirectional,
      generator,
      ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
    };
    const rnn =
      config.cell === 'rnn' ? new RNN({ ...options, nonlinearity: config.nonlinearity ?? 'tanh' })
      : config.cell === 'gru' ? new GRU(options)
      : new LSTM({ ...options, peephole: config.cell === 'peephole' });
    this.rnn = this.registerModule('rnn', rnn);
    const features = config.hiddenSize * (config.bidirectional ? 2 : 1);
    this.head = this.registerModule('head', new Linear(features, config.outputSize, { generator }));
  }

  /** Outputs [steps, batch, outputSize] (logits or values) and the final recurrent state. */
  forward(input: SequenceInput, state?: RecurrentState | null): { output: Tensor; state: RecurrentState } {
    const { features, state: next } = this.features(input, state);
    const out = dropout(features, this.config.dropout, this.training, this.generator);
    return { output: this.head.forward(out), state: next };
  }

  /** The last recurrent layer's outputs [steps, batch, hidden × directions]: what the head reads. */
  features(input: SequenceInput, state?: RecurrentState | null): { features: Tensor; state: RecurrentState } {
    const x = this.embed(input);
    const lengths = checkLengths(input);
    if (lengths === null) return this.recur(x, state);
    const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
    const { features, state: next } = this.recur(packed, state);
    return { features: padPackedSequence(features, { totalLength: input.steps })[0], state: next };
  }

  private recur<X extends Tensor | PackedSequence>(x: X, state?: RecurrentState | null): { features: X; state: RecurrentState } {
    // The overloads of forward take a Tensor or a PackedSequence and return the same kind.
    const rnn = this.rnn as unknown as { forward(x: X, state?: RecurrentState): [X, RecurrentState] };
    const [features, next] = rnn.forward(x, state ?? undefined);
    return { features, state: next };
  }

  /** What the recurrent stack reads: [steps, batch, features] (dense values, embeddings or one-hot rows). */
  embed(input: SequenceInput): Tensor {
    const { data, steps, batch } = input;
    const cfg = this.config.input;
    if (cfg.kind === 'dense') {
      if (!(data instanceof Float32Array) || data.length !== steps * batch * cfg.size) {
        throw new Error(`SequenceModel: expected ${steps}×${batch}×${cfg.size} dense values, received ${data.length}`);
      }
      // Shared, not copied: the recurrent layer copies its input into its own workspace, so a caller
      // refilling `data` before backward() changes nothing the graph reads.
      return fromArray(data, [steps, batch, cfg.size]);
    }
    if (!(data instanceof Int32Array) || data.length !== steps * batch) {
      throw new Error(`SequenceModel: expected ${steps}×${batch} class ids, received ${data.length}`);
    }
    if (this.embedding) return this.embedding.forward(data, [steps, batch]);
    return fromArray(oneHot(data, cfg.classes), [steps, batch, cfg.classes]);
  }
}

/**
 * Generation from a model, one step at a time without gradients: a prime of any length runs through
 * forward (the whole-sequence kernels), then each step goes through the recurrent layer's stepper
 * (weights prepared once; the numbers forward gives, bit for bit). A bidirectional model cannot be
 * stepped that way and keeps calling forward on one step. Make it after model.eval(): dropout is
 * not applied. It is a snapshot of the weights, like the layer's stepper.
 *
 * With `batch` rows, primes of different lengths go in one call with `lengths` (packed): each row's
 * state is taken at its own last step, so all rows then generate on together.
 */
export class ModelStepper {
  readonly batch: number;
  private readonly layer: RecurrentStepper | null;
  private readonly tokens: boolean;
  private state: RecurrentState | null = null;

  /**
   * `quantize: 'int8'` steps the recurrent layers on int8-quantized weights (the layer stepper's
   * option: faster, close to the float numbers rather than equal to them); the prime still runs
   * through forward in float, and the head stays float.
   */
  constructor(private readonly model: SequenceModel, options: { batch?: number; quantize?: 'int8' } = {}) {
    const input = model.config.input;
    this.batch = options.batch ?? 1;
    checkInteger('ModelStepper batch', this.batch, 1, 65536);
    this.tokens = input.kind === 'classes' && input.embedding === 0;
    if (options.quantize !== undefined && model.config.bidirectional) {
      throw new Error('ModelStepper: quantize needs a unidirectional model (a bidirectional one is not stepped, it runs forward on each step)');
    }
    this.layer = model.config.bidirectional ? null : model.rnn.stepper({ tokens: this.tokens, batch: this.batch, ...(options.quantize === undefined ? {} : { quantize: options.quantize }) });
  }

  /**
   * Reads `input` (the stepper's batch, any number of steps, and `lengths` when the rows' primes
   * differ in length) on from the current state; returns its outputs [steps, batch, outputSize].
   */
  prime(input: SequenceInput): Tensor {
    if (input.batch !== this.batch) throw new Error(`ModelStepper: prime takes the stepper's batch of ${this.batch}, got ${input.batch}`);
    const { output, state } = noGrad(() => this.model.forward(input, this.layer ? this.layer.state : this.state));
    if (this.layer) this.layer.reset(state);
    else this.state = state;
    return output;
  }

  /** One step of every row: returns the outputs [1, batch, outputSize]. */
  step(input: SequenceInput): Tensor {
    if (input.steps !== 1 || input.batch !== this.batch) throw new Error(`ModelStepper: step takes 1 step of batch ${this.batch}, got ${input.steps} × ${input.batch}`);
    if (input.lengths) throw new Error('ModelStepper: step takes no lengths (every row steps once)');
    if (!this.layer) return this.prime(input);
    const { model } = this;
    return noGrad(() => {
      const x = this.tokens ? input.data : model.embedding ? model.embedding.forward(input.data as Int32Array, [1, this.batch]).data : input.data;
      const features = this.layer!.step(x);
      return model.head.forward(features.reshape([1, this.batch, features.shape[1]!]));
    });
  }

  /** Returns the prepared weights and state to the kernels' memory now. */
  dispose(): void {
    this.layer?.dispose();
  }
}

/** Cuts the graph behind a carried state (truncated BPTT): the next batch starts from its values only. */
export function detachState(state: RecurrentState): RecurrentState {
  return Array.isArray(state) ? [state[0].detach(), state[1].detach()] : state.detach();
}

/** The state as named tensors for a checkpoint. */
export function stateTensors(state: RecurrentState | null, prefix: string): Record<string, Tensor> {
  if (state === null) return {};
  if (Array.isArray(state)) return { [`${prefix}.h`]: state[0].clone(), [`${prefix}.c`]: state[1].clone() };
  return { [`${prefix}.h`]: state.clone() };
}

/** The inverse of stateTensors; null when the checkpoint holds no state under that prefix. */
export function stateFromTensors(tensors: Record<string, Tensor>, prefix: string, lstm: boolean): RecurrentState | null {
  const h = tensors[`${prefix}.h`];
  if (!h) return null;
  const own = (t: Tensor): Tensor => tensor(t.data, t.shape, { dtype: 'float32' });
  if (!lstm) return own(h);
  const c = tensors[`${prefix}.c`];
  if (!c) throw new Error(`checkpoint: '${prefix}.h' is present but '${prefix}.c' is missing`);
  return [own(h), own(c)];
}

/** The input's lengths as a list, or null when there are none or every row is full length (no packing needed). */
function checkLengths(input: SequenceInput): number[] | null {
  const { lengths, steps, batch } = input;
  if (lengths === undefined) return null;
  if (!Array.isArray(lengths) || lengths.length !== batch) {
    throw new Error(`SequenceModel: lengths must hold one length per batch row (${batch}), got ${Array.isArray(lengths) ? lengths.length : String(lengths)}`);
  }
  lengths.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 1 || n > steps) throw new Error(`SequenceModel: lengths[${b}] must be an integer in [1, ${steps}], got ${String(n)}`);
  });
  return lengths.every((n) => n === steps) ? null : [...lengths];
}

export function isLstm(config: ModelConfig): boolean {
  return config.cell === 'lstm' || config.cell === 'peephole';
}

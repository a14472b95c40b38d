/**
 * Sequence layers RNN, LSTM and GRU with PyTorch's options, parameter names, shapes, gate order and
 * state shapes. Each layer and direction runs as one fused autograd node (fused.ts).
 *
 * Equations (per time step t, PyTorch's):
 *   RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
 *   LSTM: i,f,g,o = σ,σ,tanh,σ (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), c_t = f c_{t-1} + i g,
 *         h_t = o tanh(c_t) (then h_t = W_hr h_t with projSize)
 *   GRU:  r,z = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z}),
 *         n = tanh(W_in x_t + b_in + r (W_hn h_{t-1} + b_hn)), h_t = (1 - z) n + z h_{t-1}
 * Parity note: `peephole: true` is our addition (PyTorch has none): i and f also see w_ci c_{t-1},
 * w_cf c_{t-1}, and o sees w_co c_t, as in the ONNX LSTM.
 */
import type { DType } from '../../kernels/index.js';
import { cat, indexSelect, narrow, permute, reshape, stack, unsqueeze } from '../../ops/index.js';
import { checkOptionKeys, defaultGenerator, formatShape, isGradEnabled, Tensor, zeros, type Generator } from '../../tensor/index.js';
import { checkTensorInput, nonNegativeInt, oneOf, positiveInt, probability } from '../checks.js';
import { dropout } from '../layers.js';
import { Module } from '../module.js';
import { checkpointedDirection } from './checkpointed.js';
import { directionInputs, recurrentDirection, releaseDirections, type CellKind, type DirectionResult, type DirectionWeights } from './fused.js';
import * as reference from './reference.js';
import { RNN_NONLINEARITIES, type RnnNonlinearity } from './reference.js';
import { allocateWeights, directionEntries, directionWeights, layerInputSize, type LayoutSpec } from './layout.js';
import { PackedSequence } from './packed.js';
import { RecurrentStepper, type StepperOptions } from './stepper.js';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode only. */
  dropout?: number;
  bidirectional?: boolean;
  /** Seeds the initialisation and the dropout masks. */
  generator?: Generator;
  dtype?: DType;
  /**
   * Gradient checkpointing: keep the state at every k-th time step only and recompute the rest
   * during backward (checkpointed.ts), so a sequence of T steps holds about T/k + k steps of saved
   * activations instead of T, for about one more forward. The same results and gradients, bit for
   * bit. Sequences of at most k steps take the plain path. Not for packed sequences.
   */
  checkpointEvery?: number;
}

export interface RNNOptions extends RecurrentOptions {
  /** Parity note: 'sigmoid' is our extension (PyTorch refuses it); such a model cannot be exported to PyTorch. */
  nonlinearity?: RnnNonlinearity;
}

export interface LSTMOptions extends RecurrentOptions {
  /** LSTM with projections: h_t = W_hr (o_t tanh(c_t)), of size projSize. 0 means none. */
  projSize?: number;
  peephole?: boolean;
}

export interface GRUOptions extends RecurrentOptions {
  /**
   * true (the default): PyTorch's candidate n = tanh(W_in x + b_in + r (W_hn h + b_hn)). false: the
   * reset gate applies before the recurrent product, n = tanh(W_in x + b_in + W_hn (r h) + b_hn), as in
   * ONNX (linear_before_reset = 0), TensorFlow and Keras (reset_after = False).
   * Parity note: PyTorch has only the first. The second runs on the fused kernels without gradients
   * (gru-reset-before.ts: forward only) and on the op-by-op reference path when training (slower);
   * stepper() and checkpointEvery are not available for it.
   */
  linearBeforeReset?: boolean;
}

/** What all three layers share: options, parameters and the layer × direction loop. */
abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;
  readonly dtype: DType;
  /** Gradient checkpointing interval (RecurrentOptions.checkpointEvery), or null for none. */
  readonly checkpointEvery: number | null;
  protected readonly spec: LayoutSpec;
  private readonly weights: Map<string, Tensor>;
  private readonly generator: Generator;

  protected constructor(readonly layerName: string, kind: CellKind, options: RecurrentOptions & { projSize?: number; peephole?: boolean }) {
    super();
    if (typeof options !== 'object' || options === null) throw new Error(`${layerName}: options must be an object like { inputSize, hiddenSize }`);
    checkOptionKeys(layerName, options, optionKeys(kind));
    this.inputSize = positiveInt(layerName, 'inputSize', options.inputSize);
    this.hiddenSize = positiveInt(layerName, 'hiddenSize', options.hiddenSize);
    this.numLayers = positiveInt(layerName, 'numLayers', options.numLayers ?? 1);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = probability(layerName, 'dropout', options.dropout ?? 0);
    this.bidirectional = options.bidirectional ?? false;
    this.projSize = nonNegativeInt(layerName, 'projSize', options.projSize ?? 0);
    this.dtype = oneOf(layerName, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    if (this.projSize >= this.hiddenSize && this.projSize !== 0) {
      throw new Error(`${layerName}: projSize must be smaller than hiddenSize (${this.hiddenSize}), got ${this.projSize}`);
    }
    if (options.peephole && this.projSize) throw new Error(`${layerName}: peephole connections with projSize are not supported; use one or the other`);
    this.checkpointEvery = options.checkpointEvery === undefined ? null : positiveInt(layerName, 'checkpointEvery', options.checkpointEvery);
    this.generator = options.generator ?? defaultGenerator;
    this.spec = {
      kind, inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers,
      directions: this.bidirectional ? 2 : 1, bias: this.bias, projSize: this.projSize, peephole: options.peephole ?? false,
    };
    const entries = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let d = 0; d < this.spec.directions; d++) entries.push(...directionEntries(this.spec, layerInputSize(this.spec, layer), suffixOf(layer, d)));
    }
    this.weights = allocateWeights(entries, this.hiddenSize, this.dtype, this.generator, (n, dtype) => this.allocateOwned(n, dtype));
    for (const [name, t] of this.weights) this.registerFixedParameter(name, t);
  }

  /**
   * An object that runs this layer one time step at a time without gradients (generation), keeping
   * the state: `stepper.step(x)` gives what forward gives for that step, bit for bit, fast. It copies
   * the weights now: make a new one after they change. Dropout is not applied (inference).
   */
  stepper(options: StepperOptions = {}): RecurrentStepper {
    this.checkNotDisposed(`${this.layerName}.stepper`);
    const weights = Array.from({ length: this.numLayers }, (_, layer) => directionWeights(this.weights, suffixOf(layer, 0)));
    return new RecurrentStepper(this.layerName, this.spec, weights, options);
  }

  /** The zero initial states of the last shapes used: only ever read, so kept rather than made anew
   * each call (a small model's training step is short enough for that to show). */
  private readonly zeroStates = new Map<number, Tensor>();

  private zeroState(shape: [number, number, number]): Tensor {
    const kept = this.zeroStates.get(shape[2]);
    if (kept && kept.shape[1] === shape[1]) return kept;
    const made = zeros(shape, { dtype: this.dtype });
    this.zeroStates.set(shape[2], made);
    return made;
  }

  protected override releaseMemory(): void {
    releaseDirections([...this.weights].filter(([name]) => name.startsWith('weight_ih')).map(([, t]) => t));
  }

  /** One layer and direction; the fused kernels unless a subclass's option needs the reference. */
  protected direction(x: Tensor, h: Tensor, c: Tensor | null, w: DirectionWeights, reverse: boolean, batchSizes: Int32Array | null): DirectionResult {
    const every = this.checkpointEvery;
    if (every !== null && batchSizes === null && every < x.shape[0]!) return checkpointedDirection(this.spec.kind, x, h, c, w, reverse, every);
    return recurrentDirection(this.spec.kind, x, h, c, w, reverse, batchSizes);
  }

  /** model.to(dtype): the weights this layer reads and its kept zero states follow the new parameters. */
  protected override parametersConverted(dtype: DType, replaced: ReadonlyMap<Tensor, Tensor>): void {
    this.releaseMemory();
    for (const [name, t] of this.weights) this.weights.set(name, replaced.get(t) ?? t);
    (this as { dtype: DType }).dtype = dtype;
    this.zeroStates.clear();
  }

  /** Size of h: projSize when projecting, else hiddenSize. */
  get outputSize(): number {
    return this.projSize || this.hiddenSize;
  }

  /** Checks shapes and runs all layers; returns time-major-aware output and stacked final states. */
  protected run(input: Tensor, h0: Tensor | undefined, c0: Tensor | undefined | null): { output: Tensor; h: Tensor; c: Tensor | null } {
    const name = this.layerName;
    this.checkNotDisposed(name);
    const isLstm = this.spec.kind === 'lstm';
    checkTensorInput(name, input, this.batchFirst ? `[batch, seq, ${this.inputSize}]` : `[seq, batch, ${this.inputSize}]`);
    if (input.dtype !== this.dtype) throw new Error(`${name}: input dtype must be ${this.dtype} like the layer's weights, got ${input.dtype}`);
    const batched = input.shape.length === 3;
    if (input.shape.length !== 2 && !batched) {
      const layout = this.batchFirst ? '[batch, seq, features]' : '[seq, batch, features]';
      throw new Error(`${name}: input must be 3-D ${layout} or 2-D [seq, features], got ${formatShape(input.shape)}`);
    }
    const features = input.shape[input.shape.length - 1]!;
    if (features !== this.inputSize) {
      const expected = batched ? (this.batchFirst ? `[batch, seq, ${this.inputSize}]` : `[seq, batch, ${this.inputSize}]`) : `[seq, ${this.inputSize}]`;
      const got = batched ? (this.batchFirst ? `[batch, seq, ${features}]` : `[seq, batch, ${features}]`) : `[seq, ${features}]`;
      throw new Error(`${name}: input must be ${expected}, got ${got} (shape ${formatShape(input.shape)})`);
    }
    let x = batched ? (this.batchFirst ? permute(input, [1, 0, 2]) : input) : reshape(input, [input.shape[0]!, 1, features]);
    const [T, B] = x.shape as [number, number];
    if (T === 0) throw new Error(`${name}: input has an empty sequence (shape ${formatShape(input.shape)})`);
    const D = this.spec.directions, L = this.numLayers, P = this.outputSize, H = this.hiddenSize;
    const stateShape = (size: number): number[] => (batched ? [L * D, B, size] : [L * D, size]);
    const checkState = (label: string, t: Tensor | undefined | null, size: number): Tensor => {
      if (!t) return this.zeroState([L * D, B, size]);
      if (!(t instanceof Tensor)) throw new Error(`${name}: ${label} must be a Tensor ${formatShape(stateShape(size))}, got ${Array.isArray(t) ? 'an array' : String(t)}`);
      const want = stateShape(size);
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new Error(`${name}: ${label} must be ${formatShape(want)}, got ${formatShape(t.shape)}`);
      }
      if (t.dtype !== this.dtype) throw new Error(`${name}: ${label} dtype must be ${this.dtype}, got ${t.dtype}`);
      return batched ? t : reshape(t, [L * D, 1, size]);
    };
    const hStart = checkState('h0', h0, P);
    const cStart = isLstm ? checkState('c0', c0, H) : null;
    if (B === 0) {
      // No sequences: the outputs are empty whatever T is, so no time loop runs (T = 1e9 would spin
      // for minutes over nothing).
      const options = { dtype: this.dtype };
      return { output: zeros(this.batchFirst ? [0, T, D * P] : [T, 0, D * P], options), h: zeros([L * D, 0, P], options), c: isLstm ? zeros([L * D, 0, H], options) : null };
    }
    const { output: last, hs, cs } = this.runLayers(x, hStart, cStart, null);
    let output = last;
    if (!batched) output = reshape(output, [T, D * P]);
    else if (this.batchFirst) output = permute(output, [1, 0, 2]);
    // One layer and direction: its final states need no copy (they are this call's own tensors).
    const stacked = (states: Tensor[]): Tensor => (states.length === 1 ? unsqueeze(states[0]!, 0) : stack(states, 0));
    const hn = stacked(hs);
    const cn = cs.length ? stacked(cs) : null;
    return {
      output,
      h: batched ? hn : reshape(hn, [L * D, P]),
      c: cn && (batched ? cn : reshape(cn, [L * D, H])),
    };
  }

  /**
   * The layer × direction loop from the stacked initial states hStart [L*D, B, P] (and cStart): x is
   * [T, B, input], or with `batchSizes` a packed sequence's data [N, input] (its batch sorted).
   * Returns the last layer's output (directions side by side in the last dimension) and the final
   * states in layer-major, direction-minor order.
   */
  private runLayers(x: Tensor, hStart: Tensor, cStart: Tensor | null, batchSizes: Int32Array | null): { output: Tensor; hs: Tensor[]; cs: Tensor[] } {
    const D = this.spec.directions, B = hStart.shape[1]!, P = this.outputSize, H = this.hiddenSize;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const idx = layer * D + d;
        const h = reshape(narrow(hStart, 0, idx, 1), [B, P]);
        const c = cStart ? reshape(narrow(cStart, 0, idx, 1), [B, H]) : null;
        const r = this.direction(x, h, c, directionWeights(this.weights, suffixOf(layer, d)), d === 1, batchSizes);
        outs.push(r.output);
        hs.push(r.h);
        if (r.c) cs.push(r.c);
      }
      x = D === 1 ? outs[0]! : cat(outs, x.shape.length - 1);
      if (layer < this.numLayers - 1 && this.dropout > 0 && this.training) x = dropout(x, this.dropout, true, this.generator);
    }
    return { output: x, hs, cs };
  }

  /**
   * A packed sequence (packed.ts) through all layers: each direction runs every sequence to its own
   * length in one fused call; states come and go in the caller's batch order, as PyTorch's do.
   */
  protected runPacked(input: PackedSequence, h0: Tensor | undefined, c0: Tensor | undefined | null): { output: PackedSequence; h: Tensor; c: Tensor | null } {
    const name = this.layerName;
    this.checkNotDisposed(name);
    const { data, batchSizes, sortedIndices, unsortedIndices } = input;
    if (this.checkpointEvery !== null && this.checkpointEvery < batchSizes.length) {
      throw new Error(`${name}: checkpointEvery (${this.checkpointEvery}) does not support packed sequences (${batchSizes.length} steps); pad them and pass a tensor, or leave checkpointEvery unset`);
    }
    if (data.dtype !== this.dtype) throw new Error(`${name}: input dtype must be ${this.dtype} like the layer's weights, got ${data.dtype}`);
    if (data.shape.length !== 2 || data.shape[1] !== this.inputSize) {
      throw new Error(`${name}: packed input data must be [N, ${this.inputSize}], got ${formatShape(data.shape)}`);
    }
    const B = input.batchSize, D = this.spec.directions, L = this.numLayers, P = this.outputSize, H = this.hiddenSize;
    const state = (label: string, t: Tensor | undefined | null, size: number): Tensor => {
      if (!t) return this.zeroState([L * D, B, size]);
      if (t.shape.length !== 3 || t.shape[0] !== L * D || t.shape[1] !== B || t.shape[2] !== size) {
        throw new Error(`${name}: ${label} must be ${formatShape([L * D, B, size])}, got ${formatShape(t.shape)}`);
      }
      if (t.dtype !== this.dtype) throw new Error(`${name}: ${label} dtype must be ${this.dtype}, got ${t.dtype}`);
      return sortedIndices ? indexSelect(t, 1, sortedIndices) : t;
    };
    const hStart = state('h0', h0, P);
    const cStart = this.spec.kind === 'lstm' ? state('c0', c0, H) : null;
    const { output: x, hs, cs } = this.runLayers(data, hStart, cStart, batchSizes);
    const unsorted = (states: Tensor[]): Tensor => {
      const stacked = states.length === 1 ? unsqueeze(states[0]!, 0) : stack(states, 0);
      return unsortedIndices ? indexSelect(stacked, 1, unsortedIndices) : stacked;
    };
    return { output: input.withData(x), h: unsorted(hs), c: cs.length ? unsorted(cs) : null };
  }
}

const COMMON_OPTIONS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'generator', 'dtype', 'checkpointEvery'];

function optionKeys(kind: CellKind): string[] {
  if (kind === 'lstm') return [...COMMON_OPTIONS, 'projSize', 'peephole'];
  if (kind === 'gru') return [...COMMON_OPTIONS, 'linearBeforeReset'];
  return [...COMMON_OPTIONS, 'nonlinearity'];
}

/** A GRU's or RNN's h0 is one tensor: `[h]` (an LSTM habit) gets a message rather than a TypeError. */
function checkSingleState(layerName: string, h0: unknown): Tensor | undefined {
  if (h0 === undefined || h0 === null || h0 instanceof Tensor) return h0 ?? undefined;
  const got = Array.isArray(h0) ? `an array of ${h0.length}` : String(h0);
  throw new Error(`${layerName}: h0 must be a Tensor [numLayers * directions, batch, hidden] (an LSTM takes [h0, c0], a ${layerName} h0 alone), got ${got}`);
}

const suffixOf = (layer: number, direction: number): string => `_l${layer}${direction === 1 ? '_reverse' : ''}`;

export class RNN extends RecurrentBase {
  readonly nonlinearity: RnnNonlinearity;

  constructor(options: RNNOptions) {
    const nonlinearity = oneOf('RNN', 'nonlinearity', options?.nonlinearity ?? 'tanh', RNN_NONLINEARITIES);
    super('RNN', `rnn_${nonlinearity}`, options);
    this.nonlinearity = nonlinearity;
  }

  /** x: [seq, batch, inputSize] ([batch, seq, inputSize] with batchFirst), or a PackedSequence;
   * h0: [layers*dirs, batch, hidden]. */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor];
  forward(x: PackedSequence, h0?: Tensor): [PackedSequence, Tensor];
  forward(x: Tensor | PackedSequence, h0?: Tensor): [Tensor | PackedSequence, Tensor] {
    const h = checkSingleState('RNN', h0);
    const r = x instanceof PackedSequence ? this.runPacked(x, h, null) : this.run(x, h, null);
    return [r.output, r.h];
  }
}

export class GRU extends RecurrentBase {
  readonly linearBeforeReset: boolean;

  constructor(options: GRUOptions) {
    super('GRU', 'gru', options);
    this.linearBeforeReset = options.linearBeforeReset ?? true;
    if (typeof this.linearBeforeReset !== 'boolean') throw new Error(`GRU: linearBeforeReset must be true or false, got ${String(options.linearBeforeReset)}`);
    if (!this.linearBeforeReset && this.checkpointEvery !== null) {
      throw new Error('GRU: checkpointEvery needs linearBeforeReset: true (checkpointing is built on the fused backward; linearBeforeReset: false has a fused forward only and trains op by op); use linearBeforeReset: true (PyTorch\'s GRU) or leave checkpointEvery unset');
    }
  }

  /** linearBeforeReset false: the fused forward when nothing is recorded (inference), else the
   * op-by-op reference, which also gives the gradients. */
  protected override direction(x: Tensor, h: Tensor, c: Tensor | null, w: DirectionWeights, reverse: boolean, batchSizes: Int32Array | null): DirectionResult {
    if (this.linearBeforeReset) return super.direction(x, h, c, w, reverse, batchSizes);
    const records = isGradEnabled() && directionInputs(x, h, null, w).some((t) => t.requiresGrad);
    return records ? reference.runDirection('gru', x, h, null, w, reverse, batchSizes, false) : recurrentDirection('gru', x, h, null, w, reverse, batchSizes, false);
  }

  override stepper(options: StepperOptions = {}): RecurrentStepper {
    if (!this.linearBeforeReset) throw new Error('GRU: stepper() needs linearBeforeReset: true (its fused kernels compute PyTorch\'s formula); call forward one step at a time instead');
    return super.stepper(options);
  }

  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor];
  forward(x: PackedSequence, h0?: Tensor): [PackedSequence, Tensor];
  forward(x: Tensor | PackedSequence, h0?: Tensor): [Tensor | PackedSequence, Tensor] {
    const h = checkSingleState('GRU', h0);
    const r = x instanceof PackedSequence ? this.runPacked(x, h, null) : this.run(x, h, null);
    return [r.output, r.h];
  }
}

export class LSTM extends RecurrentBase {
  readonly peephole: boolean;

  constructor(options: LSTMOptions) {
    super('LSTM', 'lstm', options);
    this.peephole = options.peephole ?? false;
  }

  /** state: [h0, c0] with h0 [layers*dirs, batch, projSize || hidden] and c0 [layers*dirs, batch, hidden]. */
  forward(x: Tensor, state?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]];
  forward(x: PackedSequence, state?: [Tensor, Tensor] | null): [PackedSequence, [Tensor, Tensor]];
  forward(x: Tensor | PackedSequence, state?: [Tensor, Tensor] | null): [Tensor | PackedSequence, [Tensor, Tensor]] {
    if (state !== undefined && state !== null && (!Array.isArray(state) || state.length !== 2)) {
      throw new Error(`LSTM: state must be a pair [h0, c0] (or omitted for zeros), got ${state instanceof Tensor ? 'a single Tensor' : Array.isArray(state) ? `an array of ${state.length}` : String(state)}`);
    }
    const r = x instanceof PackedSequence ? this.runPacked(x, state?.[0], state?.[1]) : this.run(x, state?.[0], state?.[1]);
    return [r.output, [r.h, r.c!]];
  }
}

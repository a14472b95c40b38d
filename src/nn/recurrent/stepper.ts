/**
 * Stepping a recurrent layer one input at a time without gradients: generation, where each output
 * chooses the next input. `layer.stepper()` copies the weights once, keeps the state between steps
 * and returns the last layer's output at each step, with the numbers of `layer.forward` called on
 * one time step at a time (bit for bit).
 *
 * Why a separate object rather than forward(): batch-1 generation reads every weight once per token,
 * so its speed is the speed of streaming the weights. The stepper holds them in the layout that
 * streams fastest (Kernels.prepareStep: groups of 8 rows interleaved), keeps the state in the
 * kernels' memory, and with `tokens` reads one column of the first layer's W_ih instead of a product
 * with a one-hot vector. The price is that it is a snapshot: changes to the layer's weights after
 * stepper() are not seen (make a new stepper after training). Layers or backends without the
 * prepared kernels (projections, float64, the js backend) step through the
 * fused layer code on a copy of the weights, with the same snapshot semantics.
 *
 * With `quantize: 'int8'` the weights are quantized once instead (Kernels.prepareQuantizedStep) and
 * each step runs the quantized kernel: faster, and close to forward's numbers rather than equal to
 * them (docs/architecture.md, "Quantized generation is opt-in and close, not equal").
 */
import { kernelsFor, type DType, type FloatArray, type KernelBuffer, type Kernels, type PreparedStep } from '../../kernels/index.js';
import { formatShape, fromBuffer, knownOptions, noGrad, Tensor, zeros, type Shape } from '../../tensor/index.js';
import { positiveInt } from '../checks.js';
import { recurrentDirection, sequenceKind, type DirectionWeights } from './fused.js';
import type { LayoutSpec } from './layout.js';

export interface StepperOptions {
  /** Rows stepped together (default 1). */
  batch?: number;
  /**
   * Inputs are one-hot vectors given as the index of each row's 1 (`step([3])` for batch 1), as in
   * character-level generation. The first layer then reads one column of W_ih per row.
   */
  tokens?: boolean;
  /**
   * 'int8': dynamic quantization for generation, as PyTorch's quantize_dynamic: W_ih and W_hh are
   * quantized once, now, to int8 with one scale per row; each step quantizes x and h with a scale
   * of their own, multiplies in integers and rescales to float32; biases, gates and the cell state
   * stay float32. A quarter of the weight bytes as int8 (stored as int16 for the SIMD dot product:
   * half), so faster generation, at a small cost in accuracy: outputs are close to the float
   * stepper's, not equal (README, "Quantized generation"). float32 layers without projections only.
   */
  quantize?: 'int8';
}

/** The quantizations a stepper offers. */
const QUANTIZATIONS = ['int8'] as const;

/** One layer's weights as the stepper holds them: prepared for the fused kernel, quantized, or
 * copied tensors. */
type LayerWeights = { prepared: PreparedStep } | { quantized: PreparedStep } | { copy: DirectionWeights };

export class RecurrentStepper {
  readonly batch: number;
  readonly tokens: boolean;
  /** The weights' quantization, or null: float32 or float64 as the layer's. */
  readonly quantize: 'int8' | null;
  private readonly kernels: Kernels;
  private readonly layers: LayerWeights[];
  private readonly dtype: DType;
  /** Per layer, h and c (LSTM) of the current step; the prepared path writes into `next` and swaps.
   * Buffers, not arrays: a view of wasm memory is re-derived at each use (growth detaches it). */
  private h: KernelBuffer[] = [];
  private c: KernelBuffer[] = [];
  private next: { h: KernelBuffer[]; c: KernelBuffer[] } = { h: [], c: [] };
  private readonly owned: KernelBuffer[] = [];
  private readonly tokenIds: Int32Array;
  private disposed = false;

  /** Use layer.stepper(options). */
  constructor(
    private readonly name: string,
    private readonly spec: LayoutSpec,
    weights: DirectionWeights[],
    options: StepperOptions = {},
  ) {
    if (spec.directions !== 1) throw new Error(`${name}.stepper: a bidirectional layer cannot be stepped (its reverse direction reads the sequence from the end)`);
    knownOptions(`${name}.stepper`, options, ['batch', 'tokens', 'quantize']);
    this.batch = positiveInt(`${name}.stepper`, 'batch', options.batch ?? 1);
    this.tokens = options.tokens ?? false;
    this.tokenIds = new Int32Array(this.batch);
    const dtype = weights[0]!.weightIh.dtype;
    this.dtype = dtype;
    this.kernels = kernelsFor(dtype);
    const k = this.kernels;
    this.quantize = checkQuantize(name, options.quantize, spec, dtype, k);
    const preparable = !spec.projSize && dtype === 'float32' && k.prepareStep && k.stepPrepared;
    const H = spec.hiddenSize;
    const peepholes = (w: DirectionWeights): Float32Array | null => {
      if (!w.peephole) return null;
      const all = new Float32Array(3 * H);
      w.peephole.forEach((p, i) => all.set(p.data, i * H));
      return all;
    };
    this.layers = weights.map((w, layer): LayerWeights => {
      const args = [
        sequenceKind(spec.kind), w.weightIh.shape[1]!, H, w.weightIh.data, w.weightHh.data,
        w.biasIh?.data ?? null, w.biasHh?.data ?? null, peepholes(w), this.tokens && layer === 0,
      ] as const;
      if (this.quantize) return { quantized: prepareQuantized(name, layer, () => k.prepareQuantizedStep!(...args)) };
      return preparable ? { prepared: k.prepareStep!(...args) } : { copy: copyWeights(w) };
    });
    const state = (size: number): KernelBuffer => {
      const buffer = k.allocate(this.batch * size, dtype);
      this.owned.push(buffer);
      return buffer;
    };
    const P = this.outputSize, lstm = spec.kind === 'lstm';
    for (let layer = 0; layer < spec.numLayers; layer++) {
      this.h.push(state(P));
      if (lstm) this.c.push(state(H));
      if (preparable || this.quantize) {
        this.next.h.push(state(P));
        if (lstm) this.next.c.push(state(H));
      }
    }
  }

  /** Whether steps run the prepared kernel (float32, no projection, on a backend that has it) or the
   * quantized one, rather than the fused layer code on a copy of the weights. */
  get fast(): boolean {
    return !('copy' in this.layers[0]!);
  }

  private get outputSize(): number {
    return this.spec.projSize || this.spec.hiddenSize;
  }

  /**
   * One time step: `input` is [batch, inputSize] (a Tensor or a flat array), or with `tokens` the
   * index of each row's 1. Returns the last layer's output [batch, outputSize] (a new tensor).
   */
  step(input: Tensor | ArrayLike<number>): Tensor {
    this.checkAlive();
    const { batch, spec } = this;
    const x = this.tokens ? this.readTokens(input) : this.readDense(input);
    const P = this.outputSize;
    noGrad(() => {
      for (let layer = 0; layer < this.layers.length; layer++) {
        const weights = this.layers[layer]!;
        if (!('copy' in weights)) {
          const layerInput = layer === 0 ? x : this.h[layer - 1]!.view();
          const hNew = this.next.h[layer]!, cNew = this.next.c[layer] ?? null;
          const [prepared, kernel] = 'quantized' in weights
            ? [weights.quantized, this.kernels.stepQuantized!] : [weights.prepared, this.kernels.stepPrepared!];
          kernel(
            prepared, batch, layerInput, layerInput ? null : this.tokenIds, this.h[layer]!.view(), this.c[layer]?.view() ?? null,
            cNew?.view() ?? null, hNew.view(),
          );
          this.next.h[layer] = this.h[layer]!;
          this.h[layer] = hNew;
          if (cNew) {
            this.next.c[layer] = this.c[layer]!;
            this.c[layer] = cNew;
          }
        } else {
          // Tensors over the buffers, not over views of them: the call allocates, which may grow
          // (and, plain, detach) the memory the views were taken from.
          const xt = layer === 0 ? new Tensor(x ? x.slice() : this.oneHot(), [1, batch, spec.inputSize]) : fromBuffer(this.h[layer - 1]!, [1, batch, P]);
          const c = spec.kind === 'lstm' ? fromBuffer(this.c[layer]!, [batch, spec.hiddenSize]) : null;
          const r = recurrentDirection(spec.kind, xt, fromBuffer(this.h[layer]!, [batch, P]), c, weights.copy, false);
          this.h[layer]!.view().set(r.h.data);
          if (r.c) this.c[layer]!.view().set(r.c.data);
        }
      }
    });
    return new Tensor(this.h[this.layers.length - 1]!.view().slice(), [batch, P]);
  }

  /**
   * The state as `forward` takes and returns it: [h, c] for LSTM, h for RNN and GRU, each
   * [numLayers, batch, size] (copies).
   */
  get state(): Tensor | [Tensor, Tensor] {
    this.checkAlive();
    const h = stackRows(this.h, [this.spec.numLayers, this.batch, this.outputSize]);
    return this.spec.kind === 'lstm' ? [h, stackRows(this.c, [this.spec.numLayers, this.batch, this.spec.hiddenSize])] : h;
  }

  /** Starts again from `state` (as `state` or forward's state), or from zeros. */
  reset(state?: Tensor | [Tensor, Tensor] | null): void {
    this.checkAlive();
    const lstm = this.spec.kind === 'lstm';
    const L = this.spec.numLayers;
    if (state === undefined || state === null) {
      for (const b of [...this.h, ...this.c]) b.view().fill(0);
      return;
    }
    const [h, c] = lstm
      ? (Array.isArray(state) && state.length === 2 ? state : fail(`${this.name}.stepper: reset takes [h, c] for an LSTM`))
      : (state instanceof Tensor ? [state, null] : fail(`${this.name}.stepper: reset takes the tensor h`));
    const load = (label: string, t: Tensor, rows: KernelBuffer[], size: number): void => {
      const want = [L, this.batch, size];
      if (!(t instanceof Tensor) || t.shape.length !== 3 || t.shape.some((d, i) => d !== want[i])) {
        throw new Error(`${this.name}.stepper: ${label} must be ${formatShape(want)}, got ${t instanceof Tensor ? formatShape(t.shape) : typeof t}`);
      }
      if (t.dtype !== this.dtype) throw new Error(`${this.name}.stepper: ${label} dtype must be ${this.dtype}, got ${t.dtype}`);
      rows.forEach((row, layer) => row.view().set(t.data.subarray(layer * row.length, (layer + 1) * row.length)));
    };
    load('h', h, this.h, this.outputSize);
    if (c) load('c', c, this.c, this.spec.hiddenSize);
  }

  /** Returns the copied weights and the state to the kernels' memory now (else when collected). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.layers) {
      if ('prepared' in w) this.kernels.releasePrepared?.(w.prepared);
      else if ('quantized' in w) this.kernels.releasePrepared?.(w.quantized);
    }
    for (const b of this.owned) this.kernels.release(b);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error(`${this.name}.stepper: used after dispose()`);
  }

  private readTokens(input: Tensor | ArrayLike<number>): null {
    const ids = input instanceof Tensor ? input.data : input;
    if (ids.length !== this.batch) throw new Error(`${this.name}.stepper: step takes ${this.batch} token index(es) (one per row), got ${ids.length}`);
    for (let b = 0; b < this.batch; b++) {
      const t = ids[b]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.spec.inputSize) {
        throw new Error(`${this.name}.stepper: token ${b} must be an integer in [0, ${this.spec.inputSize}), got ${t}`);
      }
      this.tokenIds[b] = t;
    }
    return null;
  }

  private readDense(input: Tensor | ArrayLike<number>): FloatArray {
    const want = [this.batch, this.spec.inputSize];
    if (input instanceof Tensor) {
      const ok = input.shape.length === 2 ? input.shape[0] === want[0] && input.shape[1] === want[1] : input.shape.length === 1 && this.batch === 1 && input.shape[0] === want[1];
      if (!ok) throw new Error(`${this.name}.stepper: input must be ${formatShape(want)}, got ${formatShape(input.shape)}`);
      if (input.dtype !== this.dtype) throw new Error(`${this.name}.stepper: input dtype must be ${this.dtype}, got ${input.dtype}`);
      return input.data;
    }
    if (input.length !== want[0]! * want[1]!) throw new Error(`${this.name}.stepper: input must hold ${formatShape(want)} = ${want[0]! * want[1]!} numbers, got ${input.length}`);
    if (input instanceof (this.dtype === 'float64' ? Float64Array : Float32Array)) return input as FloatArray;
    const dense = this.dtype === 'float64' ? new Float64Array(input.length) : new Float32Array(input.length);
    dense.set(input);
    return dense;
  }

  /** The one-hot rows of the current tokens (the fallback path's first layer). */
  private oneHot(): FloatArray {
    const I = this.spec.inputSize;
    const x = zeros([this.batch, I], { dtype: this.dtype }).data;
    for (let b = 0; b < this.batch; b++) x[b * I + this.tokenIds[b]!] = 1;
    return x;
  }
}

/** The stepper's quantization, or null; an error for one it cannot run. */
function checkQuantize(name: string, quantize: unknown, spec: LayoutSpec, dtype: DType, k: Kernels): 'int8' | null {
  if (quantize === undefined) return null;
  const where = `${name}.stepper`;
  if (!QUANTIZATIONS.includes(quantize as 'int8')) {
    throw new Error(`${where}: quantize must be ${QUANTIZATIONS.map((q) => `'${q}'`).join(' or ')} (or left out for float weights), got ${JSON.stringify(quantize)}`);
  }
  if (dtype !== 'float32') throw new Error(`${where}: quantize: 'int8' runs float32 layers; this one is ${dtype} (convert it with .to('float32'))`);
  if (spec.projSize) throw new Error(`${where}: quantize: 'int8' does not cover LSTM projections (projSize ${spec.projSize}); leave quantize out for this layer`);
  if (!k.prepareQuantizedStep || !k.stepQuantized) throw new Error(`${where}: quantize: 'int8' is not available on the ${k.name} backend`);
  return 'int8';
}

/** Runs a quantization, naming the layer's own weight in its error (quantize.ts names W_ih or W_hh). */
function prepareQuantized(name: string, layer: number, prepare: () => PreparedStep): PreparedStep {
  try {
    return prepare();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${name}.stepper: ${message.replace(/\bW_(ih|hh)\b/, (_, m: string) => `weight_${m}_l${layer}`)}`);
  }
}

function copyWeights(w: DirectionWeights): DirectionWeights {
  const copy = (t: Tensor | null): Tensor | null => (t ? t.clone() : null);
  return {
    weightIh: w.weightIh.clone(), weightHh: w.weightHh.clone(), biasIh: copy(w.biasIh), biasHh: copy(w.biasHh), weightHr: copy(w.weightHr),
    peephole: w.peephole ? [w.peephole[0].clone(), w.peephole[1].clone(), w.peephole[2].clone()] : null,
  };
}

function stackRows(rows: KernelBuffer[], shape: Shape): Tensor {
  const out = zeros(shape, { dtype: rows[0]!.dtype });
  rows.forEach((row, i) => out.data.set(row.view(), i * row.length));
  return out;
}

function fail(message: string): never {
  throw new Error(message);
}

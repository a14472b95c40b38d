/**
 * Single-step cells RNNCell, LSTMCell and GRUCell (PyTorch names: weight_ih, weight_hh, bias_ih,
 * bias_hh; peephole weights weight_ci, weight_cf, weight_co). A step is the fused layer kernel with
 * one time step, so cells and layers share one implementation.
 */
import type { DType } from '../../kernels/index.js';
import { reshape } from '../../ops/index.js';
import { checkOptionKeys, defaultGenerator, formatShape, Tensor, zeros, type Generator } from '../../tensor/index.js';
import { checkDtype, checkTensorInput, oneOf, positiveInt } from '../checks.js';
import { Module } from '../module.js';
import { recurrentDirection, releaseDirections, type CellKind } from './fused.js';
import { allocateWeights, directionEntries, directionWeights } from './layout.js';
import { RNN_NONLINEARITIES, type RnnNonlinearity } from './reference.js';

export interface CellOptions {
  bias?: boolean;
  generator?: Generator;
  dtype?: DType;
}

abstract class CellBase extends Module {
  readonly dtype: DType;
  private readonly weights: Map<string, Tensor>;

  protected constructor(
    private readonly cellName: string, private readonly kind: CellKind,
    readonly inputSize: number, readonly hiddenSize: number, options: CellOptions & { peephole?: boolean },
  ) {
    super();
    positiveInt(cellName, 'inputSize', inputSize);
    positiveInt(cellName, 'hiddenSize', hiddenSize);
    if (typeof options !== 'object' || options === null) throw new Error(`${cellName}: options must be an object like { bias, dtype }, got ${String(options)}`);
    const extra = kind === 'lstm' ? ['peephole'] : kind === 'gru' ? [] : ['nonlinearity'];
    checkOptionKeys(cellName, options, ['bias', 'generator', 'dtype', ...extra]);
    this.dtype = checkDtype(cellName, options.dtype ?? 'float32');
    const spec = { kind, inputSize, hiddenSize, numLayers: 1, directions: 1, bias: options.bias ?? true, projSize: 0, peephole: options.peephole ?? false };
    this.weights = allocateWeights(
      directionEntries(spec, inputSize, ''), hiddenSize, this.dtype, options.generator ?? defaultGenerator, (n, dtype) => this.allocateOwned(n, dtype),
    );
    for (const [name, t] of this.weights) this.registerFixedParameter(name, t);
  }

  protected override releaseMemory(): void {
    releaseDirections([this.weights.get('weight_ih')!]);
  }

  /** model.to(dtype): the weights this cell reads follow the new parameters. */
  protected override parametersConverted(dtype: DType, replaced: ReadonlyMap<Tensor, Tensor>): void {
    this.releaseMemory();
    for (const [name, t] of this.weights) this.weights.set(name, replaced.get(t) ?? t);
    (this as { dtype: DType }).dtype = dtype;
  }

  protected step(x: Tensor, h: Tensor | undefined, c: Tensor | undefined | null): { h: Tensor; c: Tensor | null } {
    const name = this.cellName;
    this.checkNotDisposed(name);
    checkTensorInput(name, x, `[batch, ${this.inputSize}]`);
    if (x.dtype !== this.dtype) throw new Error(`${name}: input dtype must be ${this.dtype}, got ${x.dtype}`);
    const batched = x.shape.length === 2;
    if ((!batched && x.shape.length !== 1) || x.shape[x.shape.length - 1] !== this.inputSize) {
      throw new Error(`${name}: input must be [batch, ${this.inputSize}] or [${this.inputSize}], got ${formatShape(x.shape)}`);
    }
    const B = batched ? x.shape[0]! : 1;
    const H = this.hiddenSize;
    const state = (label: string, t: Tensor | undefined | null): Tensor => {
      if (!t) return zeros([B, H], { dtype: this.dtype });
      if (!(t instanceof Tensor)) throw new Error(`${name}: ${label} must be a Tensor [batch, ${H}], got ${Array.isArray(t) ? 'an array' : String(t)}`);
      if (t.dtype !== this.dtype) throw new Error(`${name}: ${label} dtype must be ${this.dtype}, got ${t.dtype}`);
      const want = batched ? [B, H] : [H];
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new Error(`${name}: ${label} must be ${formatShape(want)}, got ${formatShape(t.shape)}`);
      }
      return reshape(t, [B, H]);
    };
    const r = recurrentDirection(this.kind, reshape(x, [1, B, this.inputSize]), state('h', h), this.kind === 'lstm' ? state('c', c) : null, directionWeights(this.weights, ''), false);
    const unbatch = (t: Tensor): Tensor => (batched ? t : reshape(t, [H]));
    return { h: unbatch(r.h), c: r.c && unbatch(r.c) };
  }
}

export class RNNCell extends CellBase {
  readonly nonlinearity: RnnNonlinearity;

  /** Parity note: `nonlinearity: 'sigmoid'` is our extension; PyTorch's RNNCell offers tanh and relu. */
  constructor(inputSize: number, hiddenSize: number, options: CellOptions & { nonlinearity?: RnnNonlinearity } = {}) {
    const act = oneOf('RNNCell', 'nonlinearity', options.nonlinearity ?? 'tanh', RNN_NONLINEARITIES);
    super('RNNCell', `rnn_${act}`, inputSize, hiddenSize, options);
    this.nonlinearity = act;
  }

  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, h, null).h;
  }
}

export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super('GRUCell', 'gru', inputSize, hiddenSize, options);
  }

  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, h, null).h;
  }
}

export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions & { peephole?: boolean } = {}) {
    super('LSTMCell', 'lstm', inputSize, hiddenSize, options);
  }

  forward(x: Tensor, state?: [Tensor, Tensor] | null): [Tensor, Tensor] {
    if (state !== undefined && state !== null && (!Array.isArray(state) || state.length !== 2)) {
      throw new Error(`LSTMCell: state must be a pair [h, c] (or omitted for zeros), got ${state instanceof Tensor ? 'a single Tensor' : Array.isArray(state) ? `an array of ${state.length}` : String(state)}`);
    }
    const r = this.step(x, state?.[0], state?.[1]);
    return [r.h, r.c!];
  }
}

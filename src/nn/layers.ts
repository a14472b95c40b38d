/** Linear, Embedding, Dropout and Sequential, with PyTorch's parameter names and initialisation. */
import type { DType } from '../kernels/index.js';
import { embedding, linear, mul } from '../ops/index.js';
import { defaultGenerator, formatShape, knownOptions, noGrad, Tensor, type Generator } from '../tensor/index.js';
import { checkDtype, checkTensorInput, paddingRow, positiveInt, probability } from './checks.js';
import { normal_, uniform_ } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  generator?: Generator;
  dtype?: DType;
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    const { bias = true, generator = defaultGenerator, dtype = 'float32' } = knownOptions('Linear', options, ['bias', 'generator', 'dtype']);
    checkDtype('Linear', dtype);
    // PyTorch: kaiming_uniform(a=sqrt(5)) for the weight and the same bound for the bias: U(-1/sqrt(in), 1/sqrt(in)).
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniform_(this.createParameter('weight', [outFeatures, inFeatures], dtype), -bound, bound, generator);
    this.bias = bias ? uniform_(this.createParameter('bias', [outFeatures], dtype), -bound, bound, generator) : null;
  }

  forward(x: Tensor): Tensor {
    this.checkNotDisposed('Linear');
    checkTensorInput('Linear', x, `[..., ${this.inFeatures}]`);
    if (x.dtype !== this.weight.dtype) throw new Error(`Linear: input dtype must be ${this.weight.dtype} like the weight, got ${x.dtype} (convert with .to('${this.weight.dtype}'))`);
    if (x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new Error(`Linear: input must be [..., ${this.inFeatures}], got ${formatShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }
}

export interface EmbeddingOptions {
  generator?: Generator;
  dtype?: DType;
  /**
   * As PyTorch's padding_idx: this row starts at zero and gets no gradient, so it stays whatever it
   * is (padding positions of a batch). Negative values count from the end.
   */
  paddingIdx?: number | null;
}

export class Embedding extends Module {
  weight: Tensor;
  /** The padding row as a non-negative index, or null. */
  readonly paddingIdx: number | null;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const { generator = defaultGenerator, dtype = 'float32', paddingIdx = null } = knownOptions('Embedding', options, ['generator', 'dtype', 'paddingIdx']);
    checkDtype('Embedding', dtype);
    this.paddingIdx = paddingRow('Embedding', paddingIdx, numEmbeddings);
    this.weight = normal_(this.createParameter('weight', [numEmbeddings, embeddingDim], dtype), 0, 1, generator);
    const pad = this.paddingIdx;
    if (pad !== null) noGrad(() => this.weight.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim));
  }

  /** Looks up rows: indices of any shape give [...shape, embeddingDim]. */
  forward(indices: Tensor | Int32Array | readonly number[], shape?: readonly number[]): Tensor {
    this.checkNotDisposed('Embedding');
    if (!(indices instanceof Tensor || indices instanceof Int32Array || Array.isArray(indices))) {
      throw new Error(`Embedding: indices must be a Tensor, an Int32Array or an array of integers, got ${String(indices)}`);
    }
    const idxShape = shape ?? (indices instanceof Tensor ? indices.shape : [indices.length]);
    const flat = indices instanceof Tensor ? indices.data : indices;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        const problem = Number.isInteger(v) ? 'is out of range' : 'is not an integer index in';
        throw new Error(`Embedding: index ${v} at position ${i} ${problem} [0, ${this.numEmbeddings})`);
      }
    }
    return embedding(this.weight, Int32Array.from(flat), idxShape, this.paddingIdx);
  }
}

export interface DropoutOptions {
  generator?: Generator;
}

/** Zeroes elements with probability p during training and scales the rest by 1/(1-p). */
export class Dropout extends Module {
  private readonly generator: Generator;

  constructor(readonly p = 0.5, options: DropoutOptions = {}) {
    super();
    probability('Dropout', 'p', p);
    this.generator = knownOptions('Dropout', options, ['generator']).generator ?? defaultGenerator;
  }

  forward(x: Tensor): Tensor {
    checkTensorInput('Dropout', x, 'a tensor of any shape');
    return dropout(x, this.p, this.training, this.generator);
  }
}

export function dropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  if (!training || p === 0) return x;
  const mask = new Tensor(x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size), x.shape);
  const m = mask.data;
  const keep = 1 / (1 - p);
  for (let i = 0; i < m.length; i++) m[i] = generator.uniform() < p ? 0 : keep;
  return mul(x, mask);
}

/** A module whose forward takes one tensor; a recurrent layer's gives [output, state]. */
type Forwardable = Module & { forward(x: Tensor): Tensor | readonly [Tensor, unknown] };

/**
 * Modules applied in order; parameters named "0.weight", "1.bias", ... as in PyTorch.
 * Parity note: a module that returns [output, state] (RNN, LSTM, GRU) passes its output on, so
 * `new Sequential(lstm, head)` works where PyTorch's Sequential would hand the tuple to the head.
 */
export class Sequential extends Module {
  private readonly layers: Forwardable[];

  constructor(...layers: Forwardable[]) {
    super();
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module) || typeof (layer as { forward?: unknown }).forward !== 'function') {
        throw new Error(`Sequential: argument ${i} must be a module with a forward method, got ${layer === null || typeof layer !== 'object' ? String(layer) : (layer as object).constructor.name}`);
      }
    });
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  forward(x: Tensor): Tensor {
    checkTensorInput('Sequential', x, 'the input of its first module');
    return this.layers.reduce((h: Tensor, layer) => {
      const y = layer.forward(h);
      return Array.isArray(y) ? (y as readonly [Tensor, unknown])[0] : (y as Tensor);
    }, x);
  }

  get length(): number {
    return this.layers.length;
  }

  /** The module at position i (negative counts from the end), as `seq[i]` in PyTorch. */
  at(i: number): Forwardable {
    const layer = this.layers.at(i);
    if (layer === undefined) throw new Error(`Sequential.at: index ${i} is out of range for ${this.layers.length} module(s)`);
    return layer;
  }
}

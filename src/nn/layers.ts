/** Linear, Embedding, Dropout and Sequential, with PyTorch's parameter names and initialisation. */
import { linear, indexSelect, mul, reshape } from '../ops/index.js';
import { defaultGenerator, formatShape, Tensor, type Generator } from '../tensor/index.js';
import { positiveInt, probability } from './checks.js';
import { normal_, uniform_ } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  generator?: Generator;
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    const g = options.generator ?? defaultGenerator;
    // PyTorch: kaiming_uniform(a=sqrt(5)) for the weight and the same bound for the bias: U(-1/sqrt(in), 1/sqrt(in)).
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniform_(this.createParameter('weight', [outFeatures, inFeatures]), -bound, bound, g);
    this.bias = options.bias ?? true ? uniform_(this.createParameter('bias', [outFeatures]), -bound, bound, g) : null;
  }

  forward(x: Tensor): Tensor {
    this.checkNotDisposed('Linear');
    if (x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new Error(`Linear: input must be [..., ${this.inFeatures}], got ${formatShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }
}

export interface EmbeddingOptions {
  generator?: Generator;
}

export class Embedding extends Module {
  weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.weight = normal_(this.createParameter('weight', [numEmbeddings, embeddingDim]), 0, 1, options.generator ?? defaultGenerator);
  }

  /** Looks up rows: indices of any shape give [...shape, embeddingDim]. */
  forward(indices: Tensor | Int32Array | readonly number[], shape?: readonly number[]): Tensor {
    this.checkNotDisposed('Embedding');
    const idxShape = shape ?? (indices instanceof Tensor ? indices.shape : [indices.length]);
    const flat = indices instanceof Tensor ? indices.data : indices;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new Error(`Embedding: index ${v} at position ${i} is out of range [0, ${this.numEmbeddings})`);
      }
    }
    return reshape(indexSelect(this.weight, 0, Int32Array.from(flat)), [...idxShape, this.embeddingDim]);
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
    this.generator = options.generator ?? defaultGenerator;
  }

  forward(x: Tensor): Tensor {
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

type Forwardable = Module & { forward(x: Tensor): Tensor };

/** Modules applied in order; parameters named "0.weight", "1.bias", ... as in PyTorch. */
export class Sequential extends Module {
  private readonly layers: Forwardable[];

  constructor(...layers: Forwardable[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
}

/** Activation modules (PyTorch's nn.Tanh, nn.Softmax, ...): stateless wrappers of the ops, for Sequential. */
import { logSoftmax, relu, sigmoid, softmax, tanh } from '../ops/index.js';
import { knownOptions, type Tensor } from '../tensor/index.js';
import { checkTensorInput } from './checks.js';
import { Module } from './module.js';

/** One module per elementwise function; the name is the one errors report. */
abstract class Elementwise extends Module {
  protected abstract readonly label: string;
  protected abstract apply1(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    checkTensorInput(this.label, x, 'of any shape');
    return this.apply1(x);
  }
}

/** PyTorch's nn.ReLU(inplace=True) has no counterpart here: an argument is an error, not ignored. */
function noOptions(name: string, options: unknown): void {
  if (options === undefined) return;
  const keys = typeof options === 'object' && options !== null ? Object.keys(options) : null;
  if (keys?.length === 0) return;
  throw new Error(`${name} takes no options, got ${keys ? `{ ${keys.join(', ')} }` : String(options)}`);
}

export class Tanh extends Elementwise {
  protected readonly label = 'Tanh';
  constructor(options?: Record<string, never>) { super(); noOptions('Tanh', options); }
  protected apply1(x: Tensor): Tensor { return tanh(x); }
}

export class Sigmoid extends Elementwise {
  protected readonly label = 'Sigmoid';
  constructor(options?: Record<string, never>) { super(); noOptions('Sigmoid', options); }
  protected apply1(x: Tensor): Tensor { return sigmoid(x); }
}

export class ReLU extends Elementwise {
  protected readonly label = 'ReLU';
  constructor(options?: Record<string, never>) { super(); noOptions('ReLU', options); }
  protected apply1(x: Tensor): Tensor { return relu(x); }
}

/** A function along one dimension. Parity note: PyTorch's implicit-dim default is deprecated; ours is the last dimension. */
abstract class AlongDim extends Elementwise {
  readonly dim: number;
  constructor(name: string, options: { dim?: number }) {
    super();
    this.dim = knownOptions(name, options, ['dim']).dim ?? -1;
  }
}

export class Softmax extends AlongDim {
  protected readonly label = 'Softmax';
  constructor(options: { dim?: number } = {}) { super('Softmax', options); }
  protected apply1(x: Tensor): Tensor { return softmax(x, this.dim); }
}

export class LogSoftmax extends AlongDim {
  protected readonly label = 'LogSoftmax';
  constructor(options: { dim?: number } = {}) { super('LogSoftmax', options); }
  protected apply1(x: Tensor): Tensor { return logSoftmax(x, this.dim); }
}

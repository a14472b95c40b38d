/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay: the
 * PyTorch 1.13 update rule. With g = grad + weightDecay·p:
 *   buf = g on the first step (no dampening), else buf = momentum·buf + (1 − dampening)·g
 *   d = nesterov ? g + momentum·buf : buf          (d = g when momentum is 0)
 *   p = p − lr·d
 */
import type { Tensor } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type Params, type ParamState, type StepChecks } from './optimizer.js';
import { checkBoolean, checkFinite, checkNonNegative } from './validate.js';

export interface SGDOptions {
  /** Required, as in PyTorch. */
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const BUILTIN: Partial<SGDOptions> = { lr: undefined, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 };

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> & { lr: number } & StepChecks) {
    super('SGD', params, options, BUILTIN);
  }

  protected checkHyper(where: string, h: SGDOptions): void {
    if (h.lr === undefined) throw new Error(`${where}: lr is required (PyTorch's SGD has no default learning rate)`);
    checkNonNegative(where, 'lr', h.lr);
    checkNonNegative(where, 'momentum', h.momentum);
    checkFinite(where, 'dampening', h.dampening);
    checkNonNegative(where, 'weightDecay', h.weightDecay);
    checkBoolean(where, 'nesterov', h.nesterov);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new Error(`${where}: nesterov needs momentum > 0 and dampening 0, got momentum ${h.momentum} and dampening ${h.dampening}`);
    }
  }

  protected bufferNames(h: SGDOptions): string[] {
    return h.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = group;
    if (momentum === 0) {
      const p = param.data;
      const g = grad.data;
      for (let i = 0; i < p.length; i++) p[i]! -= lr * (g[i]! + weightDecay * p[i]!);
      return;
    }
    // PyTorch starts the buffer as a copy of the first (decayed) gradient, whenever it is missing.
    const first = !this.hasBuffer(state, 'momentum_buffer');
    // Allocate before taking views: an allocation can grow wasm memory and detach earlier views.
    const bufT = this.buffer(state, 'momentum_buffer', param);
    const p = param.data;
    const g = grad.data;
    const buf = bufT.data;
    for (let i = 0; i < p.length; i++) {
      const d = g[i]! + weightDecay * p[i]!;
      buf[i] = first ? d : momentum * buf[i]! + (1 - dampening) * d;
      p[i]! -= lr * (nesterov ? d + momentum * buf[i]! : buf[i]!);
    }
  }
}

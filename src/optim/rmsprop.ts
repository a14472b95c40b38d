/**
 * RMSprop, PyTorch 1.13 update rule. With g = grad + weightDecay·p:
 *   v = α·v + (1 − α)·g²
 *   centered: ḡ = α·ḡ + (1 − α)·g and avg = sqrt(v − ḡ²) + eps;  otherwise avg = sqrt(v) + eps
 *   momentum > 0: buf = momentum·buf + g/avg, p = p − lr·buf;  otherwise p = p − lr·g/avg
 * eps is added after the square root, as PyTorch does (TensorFlow adds it inside).
 */
import type { Tensor } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type Params, type ParamState, type StepChecks } from './optimizer.js';
import { checkBoolean, checkNonNegative } from './validate.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

const BUILTIN: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false };

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> & StepChecks = {}) {
    super('RMSprop', params, options, BUILTIN);
  }

  protected checkHyper(where: string, h: RMSpropOptions): void {
    checkNonNegative(where, 'lr', h.lr);
    checkNonNegative(where, 'alpha', h.alpha);
    checkNonNegative(where, 'eps', h.eps);
    checkNonNegative(where, 'weightDecay', h.weightDecay);
    checkNonNegative(where, 'momentum', h.momentum);
    checkBoolean(where, 'centered', h.centered);
  }

  protected bufferNames(h: RMSpropOptions): string[] {
    const names = ['square_avg'];
    if (h.momentum > 0) names.push('momentum_buffer');
    if (h.centered) names.push('grad_avg');
    return names;
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered } = group;
    // Allocate every buffer before taking any view: an allocation can grow wasm memory and detach
    // views taken earlier.
    const sqT = this.buffer(state, 'square_avg', param);
    const gAvgT = centered ? this.buffer(state, 'grad_avg', param) : null;
    const bufT = momentum > 0 ? this.buffer(state, 'momentum_buffer', param) : null;
    const p = param.data;
    const g = grad.data;
    const sq = sqT.data;
    const gAvg = gAvgT?.data ?? null;
    const buf = bufT?.data ?? null;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + weightDecay * p[i]!;
      sq[i] = alpha * sq[i]! + (1 - alpha) * gi * gi;
      let avg: number;
      if (gAvg) {
        gAvg[i] = alpha * gAvg[i]! + (1 - alpha) * gi;
        avg = Math.sqrt(sq[i]! - gAvg[i]! * gAvg[i]!) + eps;
      } else {
        avg = Math.sqrt(sq[i]!) + eps;
      }
      if (buf) {
        buf[i] = momentum * buf[i]! + gi / avg;
        p[i]! -= lr * buf[i]!;
      } else {
        p[i]! -= (lr * gi) / avg;
      }
    }
  }
}

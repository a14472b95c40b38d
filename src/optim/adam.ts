/**
 * Adam and AdamW, PyTorch 1.13 update rules. At step t, with g = grad (+ weightDecay·p for Adam's L2
 * decay, or p ← p·(1 − lr·weightDecay) first for AdamW's decoupled decay):
 *   m = β1·m + (1 − β1)·g,   v = β2·v + (1 − β2)·g²,   (amsgrad: vmax = max(vmax, v), used for v)
 *   p = p − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)
 * Without amsgrad the update runs in the kernels layer (`adamUpdate`), over the state buffers the
 * optimizer owns.
 */
import { kernelsFor, type FloatArray } from '../kernels/index.js';
import type { Tensor } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type Params, type ParamState, type StepChecks } from './optimizer.js';
import { checkBoolean, checkNonNegative, checkUnitInterval } from './validate.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

const ADAM_BUILTIN: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false };
const ADAMW_BUILTIN: AdamOptions = { ...ADAM_BUILTIN, weightDecay: 1e-2 };

/** What Adam and AdamW share: everything but the name and where the weight decay goes. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected constructor(name: string, private readonly decoupled: boolean, params: Params<AdamOptions>, options: Partial<AdamOptions> & StepChecks, builtin: AdamOptions) {
    super(name, params, options, builtin);
  }

  protected checkHyper(where: string, h: AdamOptions): void {
    checkNonNegative(where, 'lr', h.lr);
    checkNonNegative(where, 'eps', h.eps);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) {
      throw new Error(`${where}: betas must be a pair [beta1, beta2], got ${JSON.stringify(h.betas)}`);
    }
    checkUnitInterval(where, 'betas[0]', h.betas[0]);
    checkUnitInterval(where, 'betas[1]', h.betas[1]);
    checkNonNegative(where, 'weightDecay', h.weightDecay);
    checkBoolean(where, 'amsgrad', h.amsgrad);
  }

  protected bufferNames(h: AdamOptions): string[] {
    return h.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamOptions>): void {
    const { lr, betas, eps, weightDecay, amsgrad } = group;
    // All buffers exist before any view is taken (an allocation may grow wasm memory).
    const m = this.buffer(state, 'exp_avg', param);
    const v = this.buffer(state, 'exp_avg_sq', param);
    if (amsgrad) {
      const vmax = this.buffer(state, 'max_exp_avg_sq', param);
      amsgradUpdate(param.data, grad.data, m.data, v.data, vmax.data, lr, betas[0], betas[1], eps, weightDecay, this.decoupled, state.step);
      return;
    }
    // Views are taken right at the call: wasm memory growth detaches older ones.
    kernelsFor(param.dtype).adamUpdate(param.size, param.data, grad.data, m.data, v.data, lr, betas[0], betas[1], eps, weightDecay, this.decoupled, state.step);
  }
}

/** Adam with the weight decay added to the gradient (L2 regularisation). */
export class Adam extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> & StepChecks = {}) {
    super('Adam', false, params, options, ADAM_BUILTIN);
  }
}

/** AdamW: decoupled weight decay, p ← p·(1 − lr·weightDecay) before the Adam step; default weightDecay 0.01. */
export class AdamW extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> & StepChecks = {}) {
    super('AdamW', true, params, options, ADAMW_BUILTIN);
  }
}

/** The amsgrad variant, which the kernel contract leaves out: the same rule with v replaced by its running max. */
function amsgradUpdate(
  p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
): void {
  const stepSize = lr / (1 - beta1 ** step);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! * decay;
    const gi = decoupled ? g[i]! : g[i]! + weightDecay * p[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * gi;
    v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
    vmax[i] = Math.max(vmax[i]!, v[i]!);
    p[i] = pi - (stepSize * m[i]!) / (Math.sqrt(vmax[i]!) / bias2Sqrt + eps);
  }
}

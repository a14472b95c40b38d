/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (PyTorch 1.13). Both act
 * in place on the `.grad` of the given parameters and skip parameters whose grad is null.
 */
import { kernelsFor } from '../kernels/index.js';
import { knownOptions, Tensor } from '../tensor/index.js';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite instead of returning it. Default false. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients together so that their joint norm (the norm of the concatenation of every
 * gradient) is at most maxNorm, and returns the norm before scaling. As in PyTorch the factor is
 * maxNorm / (total + 1e-6), applied when it is below 1. normType may be any positive number or
 * Infinity (the largest absolute value).
 *
 * Parity note: when the total norm is NaN or infinite, PyTorch 1.13 multiplies every gradient by the
 * resulting NaN (or 0) factor. We leave the gradients untouched and return the non-finite norm, so
 * the caller can see it and skip the step; `errorIfNonfinite: true` throws instead.
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): number {
  const where = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new Error(`${where}: maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  }
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) {
    const got = typeof normType === 'object' && normType !== null ? 'an object (options come fourth: clipGradNorm(params, maxNorm, normType, options))' : String(normType);
    throw new Error(`${where}: normType must be a positive number or Infinity, got ${got}`);
  }
  knownOptions(where, options, ['errorIfNonfinite']);
  const grads = gradsOf(params, where);
  if (grads.length === 0) return 0;

  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) {
      for (const x of g.data) {
        const a = Math.abs(x);
        // NaN must win, as torch.max propagates it.
        if (a > total || Number.isNaN(a)) total = a;
      }
    }
  } else if (normType === 2) {
    let sum = 0;
    for (const g of grads) sum += kernelsFor(g.dtype).sumSquares(g.size, g.data, 0);
    total = Math.sqrt(sum);
  } else {
    let sum = 0;
    for (const g of grads) for (const x of g.data) sum += Math.abs(x) ** normType;
    total = sum ** (1 / normType);
  }

  if (!Number.isFinite(total)) {
    if (options.errorIfNonfinite) {
      throw new Error(`${where}: the total norm of order ${normType} of the gradients is ${total}; some gradient holds NaN or Infinity`);
    }
    return total;
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) {
      kernelsFor(g.dtype).scale(g.size, coef, g.data, 0);
      g.bumpVersion(); // as PyTorch's in-place mul_ does: a graph that saved this gradient must see it
    }
  }
  return total;
}

/** Clamps every gradient element to [-clipValue, clipValue]; NaN stays NaN, as with torch.clamp. */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  const where = 'clipGradValue';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0) {
    throw new Error(`${where}: clipValue must be a number >= 0, got ${String(clipValue)}`);
  }
  for (const g of gradsOf(params, where)) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i]!;
      if (x > clipValue) d[i] = clipValue;
      else if (x < -clipValue) d[i] = -clipValue;
    }
    g.bumpVersion();
  }
}

/** The distinct non-null gradients (a parameter listed twice is clipped once). */
function gradsOf(params: Iterable<Tensor> | Tensor, where: string): Tensor[] {
  if (params instanceof Tensor) params = [params];
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    throw new Error(`${where}: params must be a Tensor or an iterable of tensors, got ${String(params)}`);
  }
  const seen = new Set<Tensor>();
  const grads: Tensor[] = [];
  let k = 0;
  for (const p of params) {
    if (!(p instanceof Tensor)) throw new Error(`${where}: parameter ${k} must be a Tensor, got ${String(p)}`);
    k++;
    if (seen.has(p)) continue;
    seen.add(p);
    if (p.grad !== null) grads.push(p.grad);
  }
  return grads;
}

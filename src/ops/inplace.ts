/**
 * In-place ops (PyTorch's trailing underscore): add_, mul_, clamp_, fill_, zero_, copy_. Each writes
 * the tensor's storage and bumps its version, so a graph that saved the tensor refuses to backward
 * through the old value and caches of prepared weights notice.
 *
 * Parity note: PyTorch records in-place ops on tensors in a graph; we do not, so writing a tensor
 * that requires gradients while gradients are on is refused (with PyTorch's message for a leaf).
 * Under noGrad (initialisation, manual updates) a parameter can be written.
 */
import { isGradEnabled, noGrad, sameShape, Tensor, toInt32, type AnyTensor, type FloatDType, type TensorDType } from '../tensor/index.js';
import { to } from './convert.js';
import { add, clamp, mul, type Operand } from './elementwise.js';
import { expand } from './shape.js';
import { checkFloat } from './util.js';

function checkWritable(where: string, a: AnyTensor): void {
  if (!isGradEnabled() || !a.requiresGrad) return;
  if (a.isLeaf) throw new Error(`${where}: a leaf tensor that requires grad is being used in an in-place operation; do it under noGrad(() => ...)`);
  throw new Error(`${where}: in-place writes to a tensor recorded for autograd are not supported; use the out-of-place form (x = x.${where.replace(/_$/, '')}(...))`);
}

/** Writes `values` (already computed, broadcast to a's shape) into a. */
function writeInto<D extends TensorDType>(where: string, a: Tensor<D>, values: AnyTensor): Tensor<D> {
  if (!sameShape(values.shape, a.shape)) {
    throw new Error(`${where}: the result has shape [${values.shape.join(', ')}], which cannot be written into a tensor of shape [${a.shape.join(', ')}]`);
  }
  a.data.set(values.data);
  a.bumpVersion();
  return a;
}

export function add_(a: Tensor, other: Operand, alpha = 1): Tensor {
  checkWritable('add_', a);
  checkFloat('add_', a);
  return writeInto('add_', a, noGrad(() => {
    const scaled = alpha === 1 ? other : typeof other === 'number' ? other * alpha : mul(other, alpha);
    return add(a, scaled);
  }));
}

export function mul_(a: Tensor, other: Operand): Tensor {
  checkWritable('mul_', a);
  checkFloat('mul_', a);
  return writeInto('mul_', a, noGrad(() => mul(a, other)));
}

export function clamp_(a: Tensor, min?: number, max?: number): Tensor {
  checkWritable('clamp_', a);
  checkFloat('clamp_', a);
  return writeInto('clamp_', a, noGrad(() => clamp(a, min, max)));
}

export function fill_<D extends TensorDType = FloatDType>(a: Tensor<D>, value: number): Tensor<D> {
  checkWritable('fill_', a);
  if (typeof value !== 'number') throw new Error(`fill_: value must be a number, got ${String(value)}`);
  a.data.fill(a.dtype === 'int32' ? toInt32(value, 'fill_') : value);
  a.bumpVersion();
  return a;
}

export const zero_ = <D extends TensorDType = FloatDType>(a: Tensor<D>): Tensor<D> => fill_(a, 0);

/** Copies src into a (broadcasting src, converting its dtype), as torch's copy_. */
export function copy_<D extends TensorDType = FloatDType>(a: Tensor<D>, src: AnyTensor): Tensor<D> {
  checkWritable('copy_', a);
  if (!(src instanceof Tensor)) throw new Error(`copy_: src must be a Tensor, got ${String(src)}`);
  return writeInto('copy_', a, noGrad(() => {
    const converted = to(src, a.dtype);
    // a smaller src broadcasts as PyTorch's copy_ does
    return sameShape(src.shape, a.shape) ? converted : expand(converted, a.shape);
  }));
}

/** dtype conversion (differentiable between float dtypes: the gradient converts back). */
import { allocateArray, copyConverting, record, resolveDType, Tensor, type AnyTensor, type DTypeSpelling, type FloatDType, type IntTensor, type TensorDType } from '../tensor/index.js';

/**
 * This tensor in another dtype (the same tensor when it already has it), as torch's .to(dtype).
 * To an integer dtype ('int32', or 'int64' which gives int32): values are truncated toward zero, as
 * PyTorch converts, and NaN, infinities or values beyond int32 are an error; no gradient flows
 * through such a conversion (integer tensors take none).
 */
export function to(a: AnyTensor, dtype: 'int32' | 'int64'): IntTensor;
export function to(a: AnyTensor, dtype: FloatDType): Tensor;
export function to(a: AnyTensor, dtype: DTypeSpelling): AnyTensor;
export function to(a: AnyTensor, spelling: DTypeSpelling): AnyTensor {
  const dtype: TensorDType = resolveDType(spelling, 'to');
  if (a.dtype === dtype) return a;
  const data = allocateArray(a.size, dtype);
  copyConverting(data, a.data, `to('${spelling}')`);
  if (data instanceof Int32Array) return new Tensor<'int32'>(data, a.shape);
  const out = new Tensor(data, a.shape);
  if (!a.isFloatingPoint()) return out;
  const from = a.dtype;
  return record(out, { name: 'to', inputs: [a], backward: (g) => [to(g, from)] });
}

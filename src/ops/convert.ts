/** dtype conversion (differentiable: the gradient converts back). */
import type { DType } from '../kernels/index.js';
import { allocateArray, record, Tensor } from '../tensor/index.js';

export function to(a: Tensor, dtype: DType): Tensor {
  if (a.dtype === dtype) return a;
  const data = allocateArray(a.size, dtype);
  data.set(a.data);
  return record(new Tensor(data, a.shape), { name: 'to', inputs: [a], backward: (g) => [to(g, a.dtype)] });
}

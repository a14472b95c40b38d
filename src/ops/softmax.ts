/** softmax and logSoftmax along one dimension, computed stably (max subtracted). */
import { normDim, record, sizeOf, Tensor } from '../tensor/index.js';
import { newTensor, checkFloat } from './util.js';

function geometry(a: Tensor, dim: number, where: string): { outer: number; size: number; inner: number } {
  const d = normDim(dim, a.shape.length, where);
  return { outer: sizeOf(a.shape.slice(0, d)), size: a.shape[d]!, inner: sizeOf(a.shape.slice(d + 1)) };
}

/** Calls fn(base, stride) for every 1-D lane along the dimension. */
function forEachLane(outer: number, size: number, inner: number, fn: (base: number, stride: number) => void): void {
  for (let p = 0; p < outer; p++) for (let q = 0; q < inner; q++) fn(p * size * inner + q, inner);
}

/** log(sum(exp(x))) over one lane, with the maximum subtracted first. */
export function logSumExp(x: ArrayLike<number>, base: number, stride: number, size: number): number {
  let m = -Infinity;
  for (let j = 0; j < size; j++) m = Math.max(m, x[base + j * stride]!);
  let s = 0;
  for (let j = 0; j < size; j++) s += Math.exp(x[base + j * stride]! - m);
  return m + Math.log(s);
}

export function logSoftmax(a: Tensor, dim = -1): Tensor {
  checkFloat('logSoftmax', a);
  const { outer, size, inner } = geometry(a, dim, 'logSoftmax');
  const out = newTensor(a.shape, a);
  const x = a.data, o = out.data;
  forEachLane(outer, size, inner, (base, stride) => {
    const lse = logSumExp(x, base, stride, size);
    for (let j = 0; j < size; j++) o[base + j * stride] = x[base + j * stride]! - lse;
  });
  return record(out, {
    name: 'logSoftmax', inputs: [a],
    backward: (g) => {
      // d x_j = g_j - softmax_j * sum_k g_k
      const dx = newTensor(a.shape, a);
      const gd = g.data, d = dx.data, y = out.data;
      forEachLane(outer, size, inner, (base, stride) => {
        let s = 0;
        for (let j = 0; j < size; j++) s += gd[base + j * stride]!;
        for (let j = 0; j < size; j++) d[base + j * stride] = gd[base + j * stride]! - Math.exp(y[base + j * stride]!) * s;
      });
      return [dx];
    },
  }, [out]);
}

export function softmax(a: Tensor, dim = -1): Tensor {
  checkFloat('softmax', a);
  const { outer, size, inner } = geometry(a, dim, 'softmax');
  const out = newTensor(a.shape, a);
  const x = a.data, o = out.data;
  forEachLane(outer, size, inner, (base, stride) => {
    const lse = logSumExp(x, base, stride, size);
    for (let j = 0; j < size; j++) o[base + j * stride] = Math.exp(x[base + j * stride]! - lse);
  });
  return record(out, {
    name: 'softmax', inputs: [a],
    backward: (g) => {
      // d x_j = y_j (g_j - sum_k g_k y_k)
      const dx = newTensor(a.shape, a);
      const gd = g.data, d = dx.data, y = out.data;
      forEachLane(outer, size, inner, (base, stride) => {
        let s = 0;
        for (let j = 0; j < size; j++) s += gd[base + j * stride]! * y[base + j * stride]!;
        for (let j = 0; j < size; j++) d[base + j * stride] = y[base + j * stride]! * (gd[base + j * stride]! - s);
      });
      return [dx];
    },
  }, [out]);
}

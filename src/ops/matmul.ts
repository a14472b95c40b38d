/** Matrix products on the kernels' GEMM: matmul (2-D, batched with broadcasting, 1-D operands) and
 * linear (x W^T + b), the layer's fused form that avoids transposed copies. */
import { kernelsFor } from '../kernels/index.js';
import { broadcastShapes, formatShape, record, Tensor } from '../tensor/index.js';
import { broadcastStrides, checkSameDtype, newTensor, stridedOffsets, sumToShape } from './util.js';
import { squeeze, unsqueeze } from './shape.js';

/** C[batch] = op(A[batch]) op(B[batch]) over broadcast batch dimensions. */
function batchedGemm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) {
    throw new Error(`matmul: inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)} (${k} vs ${kb})`);
  }
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  const out = newTensor([...batch, m, n], a);
  const offA = stridedOffsets(batch, broadcastStrides(batchA, batch));
  const offB = stridedOffsets(batch, broadcastStrides(batchB, batch));
  const kern = kernelsFor(a.dtype);
  const lda = a.shape[ra - 1]!, ldb = b.shape[rb - 1]!;
  for (let i = 0; i < offA.length; i++) {
    kern.gemm(transA, transB, m, n, k, 1, a.data, offA[i]! * m * k, lda, b.data, offB[i]! * k * n, ldb, 0, out.data, i * m * n, n);
  }
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkSameDtype('matmul', a, b);
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error('matmul: both operands need at least one dimension (use mul for scalars)');
  if (a.shape.length === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.shape.length === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const out = batchedGemm(a, b, false, false);
  return record(out, {
    name: 'matmul', inputs: [a, b],
    backward: (g) => [
      a.requiresGrad ? sumToShape(batchedGemm(g, b, false, true), a.shape) : null,
      b.requiresGrad ? sumToShape(batchedGemm(a, g, true, false), b.shape) : null,
    ],
  }, [a, b]);
}

/** y = x W^T + b over the last dimension of x; W is [out, in] as in PyTorch's Linear. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkSameDtype('linear', x, weight, ...(bias ? [bias] : []));
  const [outF, inF] = weight.shape as [number, number];
  if (weight.shape.length !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${formatShape(weight.shape)}`);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inF) {
    throw new Error(`linear: input must be [..., ${inF}], got ${formatShape(x.shape)}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outF)) throw new Error(`linear: bias must be [${outF}], got ${formatShape(bias.shape)}`);
  const rows = x.size / inF;
  const outShape = [...x.shape.slice(0, -1), outF];
  const out = newTensor(outShape, x);
  const kern = kernelsFor(x.dtype);
  kern.gemm(false, true, rows, outF, inF, 1, x.data, 0, inF, weight.data, 0, inF, 0, out.data, 0, outF);
  if (bias) kern.addRowVector(rows, outF, out.data, 0, bias.data, 0);
  return record(out, {
    name: 'linear', inputs: bias ? [x, weight, bias] : [x, weight],
    backward: (g) => {
      const grads: (Tensor | null)[] = [null, null, null];
      if (x.requiresGrad) {
        const dx = newTensor(x.shape, x);
        kern.gemm(false, false, rows, inF, outF, 1, g.data, 0, outF, weight.data, 0, inF, 0, dx.data, 0, inF);
        grads[0] = dx;
      }
      if (weight.requiresGrad) {
        const dw = newTensor(weight.shape, weight);
        kern.gemm(true, false, outF, inF, rows, 1, g.data, 0, outF, x.data, 0, inF, 0, dw.data, 0, inF);
        grads[1] = dw;
      }
      if (bias?.requiresGrad) {
        const db = newTensor(bias.shape, bias);
        kern.sumRows(rows, outF, g.data, 0, db.data, 0, false);
        grads[2] = db;
      }
      return bias ? grads : grads.slice(0, 2);
    },
  }, [x, weight]);
}


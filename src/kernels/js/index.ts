/**
 * The TypeScript reference backend: plain loops, written for clarity. It is the fallback where
 * WebAssembly is missing, the only backend for float64, and the oracle the wasm kernels are tested
 * against.
 */
import type { DType, FloatArray, KernelBuffer, Kernels } from '../contract.js';
import { RELEASED_MESSAGE } from '../released.js';
import { gemm, gemmPacked, packB } from './gemm.js';
import { lstmBackward, lstmForward } from './lstm.js';
import { scatterAddRows } from './scatter.js';
import { gruBackward, gruForward, gruResetBeforeGates, gruResetBeforeUpdate } from './gru.js';
import { JsQuantizedStep, prepareQuantizedStep, stepQuantized } from './quantized-step.js';
import { rnnActivation } from './rnn.js';

/** float32 RNN gradients below this become 0 (Kernels.rnnBackward). */
const RNN_FLUSH_BELOW = Math.fround(1e-30);

class TypedArrayBuffer implements KernelBuffer {
  private array: FloatArray | null;
  constructor(readonly length: number, readonly dtype: DType) {
    this.array = dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
  }
  view(): FloatArray {
    if (this.array === null) throw new Error(RELEASED_MESSAGE);
    return this.array;
  }
  /** The array goes to the garbage collector; like wasm memory, it can no longer be read. */
  release(): void {
    this.array = null;
  }
}


export const jsKernels: Kernels = {
  name: 'js',

  allocate: (length, dtype) => new TypedArrayBuffer(length, dtype),
  release: (buffer) => {
    if (buffer instanceof TypedArrayBuffer) buffer.release();
  },

  gemm,
  packB,
  gemmPacked,
  releasePacked: () => {},

  addRowVector(rows, cols, x, xOffset, v, vOffset) {
    for (let r = 0; r < rows; r++) {
      const base = xOffset + r * cols;
      for (let j = 0; j < cols; j++) x[base + j]! += v[vOffset + j]!;
    }
  },

  sumRows(rows, cols, x, xOffset, out, outOffset, accumulate) {
    if (!accumulate) out.fill(0, outOffset, outOffset + cols);
    for (let r = 0; r < rows; r++) {
      const base = xOffset + r * cols;
      for (let j = 0; j < cols; j++) out[outOffset + j]! += x[base + j]!;
    }
  },

  axpy(n, alpha, x, xOffset, y, yOffset) {
    for (let i = 0; i < n; i++) y[yOffset + i]! += alpha * x[xOffset + i]!;
  },

  scatterAddRows,

  sumSquares(n, x, xOffset) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xOffset + i]!;
      s += v * v;
    }
    return s;
  },

  scale(n, alpha, x, xOffset) {
    for (let i = 0; i < n; i++) x[xOffset + i]! *= alpha;
  },

  rnnForward(n, activation, pre, preOffset) {
    for (let i = preOffset; i < preOffset + n; i++) pre[i] = rnnActivation(pre[i]!, activation);
  },

  rnnBackward(n, activation, h, hOffset, dh, dhOffset, dPre, dPreOffset) {
    // float32 flushes |dPre| below 1e-30 to 0, as the wasm kernel does (assembly/elementwise.ts says why).
    const flushBelow = dPre instanceof Float32Array ? RNN_FLUSH_BELOW : 0;
    for (let i = 0; i < n; i++) {
      const y = h[hOffset + i]!;
      const d = dh[dhOffset + i]!;
      const v = activation === 0 ? d * (1 - y * y) : activation === 4 ? d * y * (1 - y) : y > 0 ? d : 0;
      dPre[dPreOffset + i] = Math.abs(v) < flushBelow ? 0 : v;
    }
  },

  lstmForward,
  lstmBackward,
  prepareQuantizedStep,
  stepQuantized,
  releasePrepared(step) {
    if (step instanceof JsQuantizedStep) step.released = true;
  },
  gruForward,
  gruBackward,
  gruResetBeforeGates,
  gruResetBeforeUpdate,

  softmaxCrossEntropy(rows, classes, logits, logitsOffset, targets, ignoreIndex, loss, lossOffset, dLogits, dLogitsOffset) {
    for (let r = 0; r < rows; r++) {
      const base = logitsOffset + r * classes;
      const target = targets[r]!;
      if (target === ignoreIndex) {
        loss[lossOffset + r] = 0;
        if (dLogits) dLogits.fill(0, dLogitsOffset + r * classes, dLogitsOffset + (r + 1) * classes);
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, logits[base + j]!);
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += Math.exp(logits[base + j]! - max);
      const logSum = Math.log(sum) + max;
      loss[lossOffset + r] = logSum - logits[base + target]!;
      if (dLogits) {
        const dBase = dLogitsOffset + r * classes;
        for (let j = 0; j < classes; j++) dLogits[dBase + j] = Math.exp(logits[base + j]! - logSum);
        dLogits[dBase + target]! -= 1;
      }
    }
  },

  adamUpdate(n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step) {
    const bias1 = 1 - beta1 ** step;
    const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = lr / bias1;
    const decay = decoupled ? 1 - lr * weightDecay : 1;
    for (let i = 0; i < n; i++) {
      let g = grad[i]!;
      let p = param[i]!;
      if (decoupled) p *= decay;
      else if (weightDecay !== 0) g += weightDecay * p;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = p - (stepSize * mi) / (Math.sqrt(vi) / bias2Sqrt + eps);
    }
  },
};



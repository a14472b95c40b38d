/**
 * recurrent: recurrent neural networks for TypeScript with PyTorch's semantics.
 *
 *   import { tensor, nn, optim, noGrad, loadSafetensors, saveSafetensors } from 'recurrent'
 *
 * This entry works in Node and in browsers. Node-only helpers (files, checkpoints on disk) are in
 * 'recurrent/node'.
 */
import './ops/index.js';

export {
  Tensor, noGrad, enableGrad, isGradEnabled, tensor, fromArray, fromBuffer, full, zeros, ones, zerosLike, rand, randn, arange, eye,
  Generator, defaultGenerator, manualSeed, gradcheck, formatShape,
  type GradcheckOptions, type Shape, type CreateOptions, type IntCreateOptions, type RandomOptions,
  type IntTensor, type AnyTensor, type TensorDType, type FloatDType, type IntDType, type DTypeSpelling,
} from './tensor/index.js';
export * as ops from './ops/index.js';
// torch.cat / torch.stack and friends, at the top level as in PyTorch.
export { cat, stack, select, topk, argmax, argmin, eq, type ValuesIndices, type IndexLike } from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as viz from './viz/index.js';
export * as tasks from './tasks/index.js';
export * as experiments from './experiments/index.js';
export { loadSafetensors, saveSafetensors, readSafetensorsMetadata, encodeCheckpoint, decodeCheckpoint, restoreCheckpoint } from './io/index.js';
export { exportOnnx, importOnnx, readOnnxTensor, OnnxModel, EXPORT_OPSET, type ExportOnnxOptions } from './interop/index.js';
export { setBackend, getBackend, getBackendInfo, setNativeBlas, initWasm, setThreads, type BackendInfo, type BackendName, type DType, type FloatArray } from './kernels/index.js';

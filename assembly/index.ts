// The WebAssembly kernels' exports. Every pointer is a byte address in the imported linear memory,
// which the JavaScript side owns and allocates (src/kernels/wasm/); nothing here allocates.

export { gemm, gemmWorkspaceBytes, packB, packedBBytes, gemmPacked } from './gemm';
export { runChunk } from './threads';
export { gemmSmallRows } from './gemm-small';
export { addRowVector, sumRows, axpy, scatterAddRows, scale, sumSquares, rnnForward, rnnBackward } from './elementwise';
export { lstmForward, lstmBackward } from './lstm';
export { stepGroupedUnits } from './prepared-step';
export { quantizeRows, stepQuantizedUnits } from './quantized-step';
export { gruForward, gruBackward, gruResetBeforeGates, gruResetBeforeUpdate } from './gru';
export { sequenceForward, sequenceBackward } from './sequence';
export { softmaxCrossEntropy } from './loss';
export { adamUpdate } from './adam';
export { mathMap } from './math';
export { peakChains, peakLoop, peakLoopMadd } from './peak';
export { relaxedSimd } from './fma';

/** First byte past the module's static data: where the JavaScript allocator may start. */
export function heapBase(): usize {
  return __heap_base;
}

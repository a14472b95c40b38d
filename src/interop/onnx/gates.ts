/**
 * Gate order between PyTorch's stacked recurrent weights and ONNX's. PyTorch stacks LSTM gates
 * i, f, g, o and GRU gates r, z, n; ONNX stacks LSTM i, o, f, c and GRU z, r, h. Each entry is the
 * PyTorch block that goes to that ONNX position; the map is its own inverse for GRU, not for LSTM.
 */
export type RecurrentOp = 'RNN' | 'LSTM' | 'GRU';

export const ONNX_FROM_TORCH: Record<RecurrentOp, readonly number[]> = { RNN: [0], LSTM: [0, 3, 1, 2], GRU: [1, 0, 2] };
export const TORCH_FROM_ONNX: Record<RecurrentOp, readonly number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };

/** Rearranges the gate blocks (each `blockSize` values) of `source` into `out` at `outOffset`:
 * block k of the result is block order[k] of the source. */
export function reorderBlocks(
  source: ArrayLike<number>, sourceOffset: number, order: readonly number[], blockSize: number, out: Float32Array | Float64Array, outOffset: number,
): void {
  order.forEach((from, to) => {
    for (let i = 0; i < blockSize; i++) out[outOffset + to * blockSize + i] = source[sourceOffset + from * blockSize + i]!;
  });
}

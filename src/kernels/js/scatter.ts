// Reference scatter of rows (Kernels.scatterAddRows) and the id check both backends make before
// writing: an id outside dst would otherwise write outside it (in wasm, anywhere in linear memory).
import type { FloatArray } from '../contract.js';

/** The check scatterAddRows makes in every backend before it writes: ids index rows of dst, or are -1. */
export function checkScatterIds(ids: Int32Array, rows: number, dstRows: number): void {
  if (ids.length < rows) throw new RangeError(`scatterAddRows: ids must have at least ${rows} entries (one per row), got ${ids.length}`);
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    if (id < -1 || id >= dstRows) throw new RangeError(`scatterAddRows: ids[${r}] must be -1 or a row of dst in [0, ${dstRows}), got ${id}`);
  }
}

export function scatterAddRows(
  rows: number, cols: number, ids: Int32Array, src: FloatArray, srcOffset: number, dst: FloatArray, dstOffset: number, dstRows: number,
): void {
  checkScatterIds(ids, rows, dstRows);
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    if (id < 0) continue;
    const from = srcOffset + r * cols, to = dstOffset + id * cols;
    for (let j = 0; j < cols; j++) dst[to + j]! += src[from + j]!;
  }
}

/**
 * A recurrent layer's weights quantized to int8 once (src/kernels/quantize.ts) and laid out for
 * assembly/quantized-step.ts: a header of addresses (QSTEP_*), then each gate block of W_ih and W_hh
 * cut into groups of 8 rows stored interleaved by 8 columns, two rows to an i16 (256 w_a + w_b:
 * rows 2q and 2q + 1 of the group; zero-padded to whole groups and whole 8-column steps), their row
 * scales, and the float32 biases and peepholes. With one-hot inputs
 * W_ih stays float32, transposed ([input, G * hidden]), as in the float layout.
 */
import { gatesOf, type FloatArray, type SequenceKind } from '../contract.js';
import { quantizeRows, type QuantizedRows } from '../quantize.js';
import {
  QSTEP_B_HH, QSTEP_B_IH, QSTEP_HEADER_SLOTS, QSTEP_PEEP, QSTEP_S_HH, QSTEP_S_IH, QSTEP_W_HH, QSTEP_W_IH,
} from './assembly-constants.generated.js';
import { alignUp, type LinearMemory } from './memory.js';
import { WasmStepBlock } from './prepared-step.js';

/** Columns padded to whole steps of 8 i16 lanes (assembly/quantized-step.ts paddedColumns). */
export const paddedColumns = (k: number): number => Math.ceil(k / 8) * 8;

/** The quantized layout: the block starts with the header of addresses (QSTEP_*) the kernel reads. */
export class WasmQuantizedStep extends WasmStepBlock {}

/** Bytes of a quantized matrix's gate blocks in the grouped i8 layout. */
const groupedBytes = (gates: number, hidden: number, k: number): number => gates * Math.ceil(hidden / 8) * 8 * paddedColumns(k);

/** Writes q [gates * hidden, k] grouped at i16 index `at` of `dst` (already zeroed): in each group's
 * 8-column step, row pair r >> 1 takes 8 lanes, 256 times row r's weight plus row r + 1's. */
function writeGrouped(dst: Int16Array, at: number, q: QuantizedRows, gates: number, hidden: number): void {
  const k = q.cols, kp = paddedColumns(k), groups = Math.ceil(hidden / 8);
  for (let g = 0; g < gates; g++) {
    for (let u = 0; u < hidden; u++) {
      const src = (g * hidden + u) * k;
      const base = at + (g * groups + (u >> 3)) * kp * 4 + ((u & 7) >> 1) * 8;
      const weight = u & 1 ? 1 : 256;
      for (let p = 0; p < k; p++) {
        const i = base + (p >> 3) * 32 + (p & 7);
        dst[i] = dst[i]! + weight * q.values[src + p]!;
      }
    }
  }
}

/** Quantizes the weights of one direction and copies them into a fresh block of `heap`. */
export function prepareQuantizedStep(
  heap: LinearMemory, cell: SequenceKind, input: number, hidden: number, wIh: FloatArray, wHh: FloatArray,
  bIh: FloatArray | null, bHh: FloatArray | null, peep: FloatArray | null, tokens: boolean,
): WasmQuantizedStep {
  const gates = gatesOf(cell);
  const G = gates * hidden;
  if (wIh.length !== G * input || wHh.length !== G * hidden || (bIh && bIh.length !== G) || (bHh && bHh.length !== G)) {
    throw new Error(`prepareQuantizedStep: weights must be [${G}, ${input}], [${G}, ${hidden}] and biases [${G}]`);
  }
  if (peep && (cell !== 2 || peep.length !== 3 * hidden)) throw new Error(`prepareQuantizedStep: peephole weights are an LSTM's [${3 * hidden}]`);
  // Everything is read into plain arrays before the block is allocated: the allocation may grow the
  // memory, which detaches views of it (the layer's weights may be such views).
  const qIh = tokens ? null : quantizeRows('W_ih', wIh, G, input);
  const qHh = quantizeRows('W_hh', wHh, G, hidden);
  const floats = (v: FloatArray | null): Float32Array | null => (v ? Float32Array.from(v) : null);
  const ihT = tokens ? new Float32Array(input * G) : null;
  if (ihT) for (let row = 0; row < G; row++) for (let t = 0; t < input; t++) ihT[t * G + row] = wIh[row * input + t]!;
  const parts: [number, number][] = []; // [slot, bytes]
  const layout = (slot: number, bytes: number): void => void (bytes > 0 && parts.push([slot, bytes]));
  layout(QSTEP_W_IH, tokens ? input * G * 4 : groupedBytes(gates, hidden, input));
  layout(QSTEP_S_IH, qIh ? G * 4 : 0);
  layout(QSTEP_W_HH, groupedBytes(gates, hidden, hidden));
  layout(QSTEP_S_HH, G * 4);
  layout(QSTEP_B_IH, bIh ? G * 4 : 0);
  layout(QSTEP_B_HH, bHh ? G * 4 : 0);
  layout(QSTEP_PEEP, peep ? 3 * hidden * 4 : 0);
  const header = alignUp(QSTEP_HEADER_SLOTS * 4);
  const bytes = parts.reduce((sum, [, n]) => sum + alignUp(n), header);
  const values = { ih: floats(bIh), hh: floats(bHh), peep: floats(peep) };
  const ptr = heap.alloc(bytes);
  const buffer = heap.memory.buffer;
  new Uint8Array(buffer, ptr, bytes).fill(0);
  const i32 = new Int32Array(buffer, ptr, QSTEP_HEADER_SLOTS);
  let at = ptr + header;
  for (const [slot, n] of parts) {
    i32[slot] = at;
    at += alignUp(n);
  }
  const f32At = (slot: number): number => i32[slot]! >>> 2;
  const f32 = new Float32Array(buffer);
  const i16 = new Int16Array(buffer);
  if (ihT) f32.set(ihT, f32At(QSTEP_W_IH));
  if (qIh) {
    writeGrouped(i16, i32[QSTEP_W_IH]! >>> 1, qIh, gates, hidden);
    f32.set(qIh.scales, f32At(QSTEP_S_IH));
  }
  writeGrouped(i16, i32[QSTEP_W_HH]! >>> 1, qHh, gates, hidden);
  f32.set(qHh.scales, f32At(QSTEP_S_HH));
  if (values.ih) f32.set(values.ih, f32At(QSTEP_B_IH));
  if (values.hh) f32.set(values.hh, f32At(QSTEP_B_HH));
  if (values.peep) f32.set(values.peep, f32At(QSTEP_PEEP));
  return new WasmQuantizedStep(cell, input, hidden, tokens, ptr, bytes);
}

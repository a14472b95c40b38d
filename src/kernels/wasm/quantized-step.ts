/**
 * A recurrent layer's weights quantized to int8 once (src/kernels/quantize.ts) and laid out for
 * assembly/quantized-step.ts: a header of addresses (QSTEP_*), then each gate block of W_ih and W_hh
 * cut into groups of 8 rows stored interleaved by 16 columns as i8 (zero-padded to whole groups and
 * whole 16-column steps; within a row's 16 bytes, column i then column 8 + i, for i = 0..7), their
 * row scales, and the float32 biases and peepholes. With one-hot inputs
 * W_ih stays float32, transposed ([input, G * hidden]), as in the float layout.
 */
import { gatesOf, type FloatArray, type SequenceKind } from '../contract.js';
import { quantizeRows, type QuantizedRows } from '../quantize.js';
import {
  QSTEP_B_HH, QSTEP_B_IH, QSTEP_HEADER_SLOTS, QSTEP_PEEP, QSTEP_S_HH, QSTEP_S_IH, QSTEP_W_HH, QSTEP_W_IH,
} from './assembly-constants.generated.js';
import { alignUp, type LinearMemory } from './memory.js';
import { WasmStepBlock } from './prepared-step.js';

/** Columns padded to whole 16-column steps (assembly/quantized-step.ts paddedColumns). */
export const paddedColumns = (k: number): number => Math.ceil(k / 16) * 16;

/** The quantized layout: the block starts with the header of addresses (QSTEP_*) the kernel reads. */
export class WasmQuantizedStep extends WasmStepBlock {}

/** Bytes of a quantized matrix's gate blocks in the grouped i8 layout. */
const groupedBytes = (gates: number, hidden: number, k: number): number => gates * Math.ceil(hidden / 8) * 8 * paddedColumns(k);

/** Writes q [gates * hidden, k] grouped at byte `at` of `dst` (already zeroed). */
function writeGrouped(dst: Int8Array, at: number, q: QuantizedRows, gates: number, hidden: number): void {
  const k = q.cols, kp = paddedColumns(k), groups = Math.ceil(hidden / 8);
  for (let g = 0; g < gates; g++) {
    for (let u = 0; u < hidden; u++) {
      const src = (g * hidden + u) * k;
      const base = at + (g * groups + (u >> 3)) * kp * 8 + (u & 7) * 16;
      for (let p = 0; p < k; p++) {
        const c = p & 15;
        dst[base + (p >> 4) * 128 + (c < 8 ? 2 * c : 2 * (c - 8) + 1)] = q.values[src + p]!;
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
  const i8 = new Int8Array(buffer);
  if (ihT) f32.set(ihT, f32At(QSTEP_W_IH));
  if (qIh) {
    writeGrouped(i8, i32[QSTEP_W_IH]!, qIh, gates, hidden);
    f32.set(qIh.scales, f32At(QSTEP_S_IH));
  }
  writeGrouped(i8, i32[QSTEP_W_HH]!, qHh, gates, hidden);
  f32.set(qHh.scales, f32At(QSTEP_S_HH));
  if (values.ih) f32.set(values.ih, f32At(QSTEP_B_IH));
  if (values.hh) f32.set(values.hh, f32At(QSTEP_B_HH));
  if (values.peep) f32.set(values.peep, f32At(QSTEP_PEEP));
  return new WasmQuantizedStep(cell, input, hidden, tokens, ptr, bytes);
}

/**
 * A recurrent layer's weights copied once into the layout of assembly/prepared-step.ts
 * (generation: one token at a time reads every weight once per token, so the layout that streams
 * fastest pays for its copy after a few tokens). Each gate block of a [4 * hidden, k] matrix is cut
 * into groups of 8 rows stored interleaved by 4 columns, zero-padded to whole groups and whole
 * 4-column steps; with one-hot inputs W_ih is stored transposed instead, one contiguous column per
 * token.
 */
import { gatesOf, type FloatArray, type PreparedStep, type SequenceKind } from '../contract.js';
import type { LinearMemory } from './memory.js';
import { PREPARE_STEP } from './kernel-args.js';
import type { Staging } from './staging.js';

/** Floats of one gate block of `hidden` rows by k columns in the grouped layout. */
const blockFloats = (hidden: number, k: number): number => Math.ceil(hidden / 8) * 8 * (Math.ceil(k / 4) * 4);

/** Gate blocks per cell (SequenceKind: tanh RNN, ReLU RNN, LSTM, GRU, sigmoid RNN). */
/** A direction's weights copied into one block of linear memory for single steps. */
export class WasmStepBlock implements PreparedStep {
  constructor(
    readonly cell: SequenceKind,
    readonly input: number,
    readonly hidden: number,
    readonly tokens: boolean,
    /** The one block holding the step's weights (byte address and size). */
    readonly ptr: number,
    readonly bytes: number,
  ) {}
}

/** The float layout: addresses of its parts inside the block. */
export class WasmPreparedStep extends WasmStepBlock {
  constructor(
    cell: SequenceKind, input: number, hidden: number, tokens: boolean, ptr: number, bytes: number,
    readonly wIh: number,
    readonly wHh: number,
    readonly bIh: number,
    readonly bHh: number,
    readonly peep: number,
  ) {
    super(cell, input, hidden, tokens, ptr, bytes);
  }
}

/** Writes W [G * hidden, k] (row-major) grouped at float index `at` of `dst` (already zeroed). */
function writeGrouped(dst: Float32Array, at: number, w: FloatArray, G: number, hidden: number, k: number): void {
  const kp = Math.ceil(k / 4) * 4;
  const groups = Math.ceil(hidden / 8);
  for (let g = 0; g < G; g++) {
    for (let u = 0; u < hidden; u++) {
      const src = (g * hidden + u) * k;
      const base = at + (g * groups + (u >> 3)) * 8 * kp + (u & 7) * 4;
      for (let p = 0; p < k; p++) dst[base + (p >> 2) * 32 + (p & 3)] = w[src + p]!;
    }
  }
}

/** Copies the weights of one direction into a fresh block of `heap` (zero padding included). */
export function prepareStep(
  heap: LinearMemory, stage: Staging, cell: SequenceKind, input: number, hidden: number, wIh: FloatArray, wHh: FloatArray,
  bIh: FloatArray | null, bHh: FloatArray | null, peep: FloatArray | null, tokens: boolean,
): WasmPreparedStep {
  const gates = gatesOf(cell);
  const G = gates * hidden;
  if (wIh.length !== G * input || wHh.length !== G * hidden || (bIh && bIh.length !== G) || (bHh && bHh.length !== G)) {
    throw new Error(`prepareStep: weights must be [${G}, ${input}], [${G}, ${hidden}] and biases [${G}]`);
  }
  if (peep && (cell !== 2 || peep.length !== 3 * hidden)) throw new Error(`prepareStep: peephole weights are an LSTM's [${3 * hidden}]`);
  const ihFloats = tokens ? input * G : gates * blockFloats(hidden, input);
  const hhFloats = gates * blockFloats(hidden, hidden);
  const floats = ihFloats + hhFloats + (bIh ? G : 0) + (bHh ? G : 0) + (peep ? 3 * hidden : 0);
  const bytes = floats * 4;
  // The sources by address (bind()), then the block: if the allocation grows a plain memory, views of
  // it (a layer's weights) are detached, but their addresses still hold the numbers.
  const p = stage.begin(PREPARE_STEP, G, input, hidden).arg(wIh).arg(wHh).arg(bIh).arg(bHh).arg(peep).bind();
  const ptr = heap.alloc(bytes);
  const f32 = heap.f32();
  const source = (address: number, length: number): Float32Array | null =>
    address ? f32.subarray(address >>> 2, (address >>> 2) + length) : null;
  [wIh, wHh, bIh, bHh, peep] = [source(p[0], G * input)!, source(p[1], G * hidden)!, source(p[2], G), source(p[3], G), source(p[4], 3 * hidden)];
  const at = ptr >>> 2;
  f32.fill(0, at, at + floats);
  if (tokens) {
    for (let row = 0; row < G; row++) for (let t = 0; t < input; t++) f32[at + t * G + row] = wIh[row * input + t]!;
  } else {
    writeGrouped(f32, at, wIh, gates, hidden, input);
  }
  writeGrouped(f32, at + ihFloats, wHh, gates, hidden, hidden);
  let next = at + ihFloats + hhFloats;
  const vector = (v: FloatArray | null): number => {
    if (!v) return 0;
    f32.set(v, next);
    next += v.length;
    return (next - v.length) * 4;
  };
  const bIhPtr = vector(bIh), bHhPtr = vector(bHh), peepPtr = vector(peep);
  stage.finish();
  return new WasmPreparedStep(cell, input, hidden, tokens, ptr, bytes, ptr, ptr + ihFloats * 4, bIhPtr, bHhPtr, peepPtr);
}

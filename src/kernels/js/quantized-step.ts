/**
 * The reference of the quantized step (assembly/quantized-step.ts): the same integers, integer
 * sums and rescaling, written as plain loops over row-major matrices, then the float32 gates of the
 * reference kernels. The pre-activations are the wasm kernel's bits (integer sums are exact in any
 * order, and each float operation is rounded to float32 as there); the nonlinearities are the
 * reference's Math.exp and Math.tanh, so h and c agree with the wasm step to about 1e-7.
 */
import { gatesOf, type FloatArray, type PreparedStep, type RnnActivation, type SequenceKind } from '../contract.js';
import { quantizeRow, quantizeRows, rescaleSum, type QuantizedRows } from '../quantize.js';
import { gruForward } from './gru.js';
import { lstmForward } from './lstm.js';
import { rnnActivation } from './rnn.js';

const LSTM = 2;
const GRU = 3;

export class JsQuantizedStep implements PreparedStep {
  released = false;
  constructor(
    readonly cell: SequenceKind,
    readonly input: number,
    readonly hidden: number,
    readonly tokens: boolean,
    /** Quantized W_ih, or with tokens a float copy (a one-hot product reads one weight exactly). */
    readonly wIh: QuantizedRows | Float32Array, // with tokens: [G * hidden, input], row-major
    readonly wHh: QuantizedRows,
    readonly bIh: Float32Array | null,
    readonly bHh: Float32Array | null,
    readonly peep: Float32Array | null,
  ) {}
}

const copy = (v: FloatArray | null): Float32Array | null => (v ? Float32Array.from(v) : null);

export function prepareQuantizedStep(
  cell: SequenceKind, input: number, hidden: number, wIh: FloatArray, wHh: FloatArray, bIh: FloatArray | null, bHh: FloatArray | null,
  peep: FloatArray | null, tokens: boolean,
): JsQuantizedStep {
  const G = gatesOf(cell) * hidden;
  return new JsQuantizedStep(
    cell, input, hidden, tokens,
    tokens ? Float32Array.from(wIh) : quantizeRows('W_ih', wIh, G, input),
    quantizeRows('W_hh', wHh, G, hidden), copy(bIh), copy(bHh), copy(peep),
  );
}

/** sum over p of a[p] * w[row * k + p]: exact (|sum| < 2^53). */
function integerDot(a: Int8Array, w: Int8Array, row: number, k: number): number {
  let sum = 0;
  for (let p = 0; p < k; p++) sum += a[p]! * w[row * k + p]!;
  return sum;
}

export function stepQuantized(
  step: PreparedStep, batch: number, x: FloatArray | null, tokens: Int32Array | null,
  h: FloatArray, cPrev: FloatArray | null, c: FloatArray | null, hOut: FloatArray,
): void {
  if (!(step instanceof JsQuantizedStep)) throw new Error('stepQuantized: the step was prepared by another backend');
  if (step.released) throw new Error('stepQuantized: this prepared step was released');
  const { cell, input, hidden, wIh, wHh, bIh, bHh } = step;
  if (step.tokens ? !tokens || tokens.length < batch : !x) {
    throw new Error(`stepQuantized: a step prepared ${step.tokens ? 'for tokens takes token indices' : 'for dense inputs takes x'}`);
  }
  const G = gatesOf(cell) * hidden;
  const gates = new Float32Array(batch * G);
  const gh = cell === GRU ? new Float32Array(batch * G) : null;
  const xq = new Int8Array(input), hq = new Int8Array(hidden);
  for (let b = 0; b < batch; b++) {
    const token = step.tokens ? tokens![b]! : -1;
    if (step.tokens && !(token >= 0 && token < input)) throw new RangeError(`stepQuantized: token ${b} must be in [0, ${input}), got ${token}`);
    const sx = step.tokens ? 0 : quantizeRow(x!, b * input, input, xq, 0);
    const sh = quantizeRow(h, b * hidden, hidden, hq, 0);
    for (let row = 0; row < G; row++) {
      let r = wIh instanceof Float32Array ? wIh[row * input + token]! : rescaleSum(integerDot(xq, wIh.values, row, input), wIh.scales[row]!, sx);
      if (bIh) r = Math.fround(r + bIh[row]!);
      if (bHh && cell !== GRU) r = Math.fround(r + bHh[row]!);
      const s = rescaleSum(integerDot(hq, wHh.values, row, hidden), wHh.scales[row]!, sh);
      if (gh) {
        gates[b * G + row] = r;
        gh[b * G + row] = bHh ? s + bHh[row]! : s;
      } else {
        gates[b * G + row] = s + r;
      }
    }
  }
  if (cell === LSTM) {
    lstmForward(batch, hidden, gates, 0, cPrev!, 0, c!, 0, hOut, 0, step.peep, 0);
  } else if (gh) {
    gruForward(batch, hidden, gates, 0, gh, 0, h, 0, hOut, 0);
  } else {
    for (let i = 0; i < batch * hidden; i++) hOut[i] = rnnActivation(gates[i]!, cell as RnnActivation);
  }
}

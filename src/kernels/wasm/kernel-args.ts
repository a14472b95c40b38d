/**
 * Every wasm kernel's arrays, one spec per kernel (staging.ts): in the order of the kernel's
 * parameters, each array's name, how many elements the call may touch (from the call's sizes, named
 * scalars, given to Staging.begin() in the order listed here; booleans travel as 0 and 1) and what
 * the kernel does with it:
 * - read: only read;
 * - write: written, possibly in part (a copy goes in, so that the rest comes back unchanged);
 * - readWrite: read and written in place;
 * - overwrite: every element written before any is read (no copy in), for every call or `when` a
 *   condition on the sizes holds;
 * - scratch: room for the call only, not an argument (allocated after the arrays are bound).
 * The lengths are the spans the contract (../contract.ts) gives each array.
 */
import { kernelArgs, overwrite, read, readWrite, scratch, write, type Sizes } from './staging.js';

/** Elements spanned by a row-major [rows, cols] matrix with row stride ld. */
const span = (rows: number, cols: number, ld: number): number => (rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0);

/** Elements spanned by op(X) = [rows, cols] with row stride ld (X stored [cols, rows] when transposed). */
const operand = (trans: number, rows: number, cols: number, ld: number): number => (trans ? span(cols, rows, ld) : span(rows, cols, ld));

type GemmSizes = Sizes<['m', 'n', 'k', 'alpha']>;
/** Whether a GEMM computes a product at all: if not, it only scales C, and A and B go unread. */
const multiplies = (s: GemmSizes): boolean => s.k > 0 && s.alpha !== 0 && s.m > 0 && s.n > 0;

/** Whether a GEMM writes its whole C span without reading it (beta = 0, rows without gaps), so that a
 * staged C need not be copied in. */
const overwritesC = (s: Sizes<['m', 'n', 'beta', 'ldc']>): boolean => s.beta === 0 && (s.ldc === s.n || s.m === 1);

export const GEMM = kernelArgs('gemm', ['transA', 'transB', 'm', 'n', 'k', 'alpha', 'lda', 'ldb', 'beta', 'ldc'], {
  a: read((s) => (multiplies(s) ? operand(s.transA, s.m, s.k, s.lda) : 0)),
  b: read((s) => (multiplies(s) ? operand(s.transB, s.k, s.n, s.ldb) : 0)),
  c: overwrite((s) => span(s.m, s.n, s.ldc), overwritesC),
});

export const PACK_B = kernelArgs('packB', ['transB', 'k', 'n', 'ldb'], {
  b: read((s) => operand(s.transB, s.k, s.n, s.ldb)),
});

export const GEMM_PACKED = kernelArgs('gemmPacked', ['transA', 'm', 'n', 'k', 'alpha', 'lda', 'beta', 'ldc'], {
  a: read((s) => (multiplies(s) ? operand(s.transA, s.m, s.k, s.lda) : 0)),
  c: overwrite((s) => span(s.m, s.n, s.ldc), overwritesC),
});

export const ADD_ROW_VECTOR = kernelArgs('addRowVector', ['rows', 'cols'], {
  x: readWrite((s) => s.rows * s.cols),
  v: read((s) => (s.rows > 0 ? s.cols : 0)),
});

export const SUM_ROWS = kernelArgs('sumRows', ['rows', 'cols', 'accumulate'], {
  x: read((s) => s.rows * s.cols),
  out: overwrite((s) => s.cols, (s) => !s.accumulate),
});

/** An empty scatter reads and writes nothing (its ids are not even looked at). */
const scatters = (s: Sizes<['rows', 'cols']>): boolean => s.rows > 0 && s.cols > 0;
export const SCATTER_ADD_ROWS = kernelArgs('scatterAddRows', ['rows', 'cols', 'dstRows'], {
  ids: read((s) => (scatters(s) ? s.rows : 0)),
  src: read((s) => (scatters(s) ? s.rows * s.cols : 0)),
  dst: readWrite((s) => (scatters(s) ? s.dstRows * s.cols : 0)),
});

export const AXPY = kernelArgs('axpy', ['n'], { x: read((s) => s.n), y: readWrite((s) => s.n) });
export const SUM_SQUARES = kernelArgs('sumSquares', ['n'], { x: read((s) => s.n) });
export const SCALE = kernelArgs('scale', ['n'], { x: readWrite((s) => s.n) });
export const RNN_FORWARD = kernelArgs('rnnForward', ['n'], { pre: readWrite((s) => s.n) });
export const RNN_BACKWARD = kernelArgs('rnnBackward', ['n'], { h: read((s) => s.n), dh: read((s) => s.n), dPre: write((s) => s.n) });

type StepSizes = Sizes<['batch', 'hidden']>;
/** [batch, hidden]: a state. */
const state = (s: StepSizes): number => s.batch * s.hidden;
/** [3 * hidden]: peephole weights w_ci, w_cf, w_co. */
const peepholes = (s: Sizes<['hidden']>): number => 3 * s.hidden;

export const LSTM_FORWARD = kernelArgs('lstmForward', ['batch', 'hidden'], {
  gates: readWrite((s) => 4 * state(s)),
  cPrev: read(state),
  c: write(state),
  hRaw: write(state),
  peep: read(peepholes),
});

/** The arrays of a step over prepared weights (float or quantized): input, state in, state out. */
type StepArrayNames = ['batch', 'input', 'hidden'];
const preparedStepArrays = {
  x: read<StepArrayNames>((s) => s.batch * s.input),
  tokens: read<StepArrayNames>((s) => s.batch),
  h: read<StepArrayNames>(state),
  cPrev: read<StepArrayNames>(state),
  c: overwrite<StepArrayNames>(state),
  hOut: overwrite<StepArrayNames>(state),
};

/** `gateRows` = gates * hidden; `gru` 1 for a GRU, whose recurrent part has its own scratch. */
export const STEP_PREPARED = kernelArgs('stepPrepared', ['batch', 'input', 'hidden', 'gateRows', 'gru'], {
  ...preparedStepArrays,
  gates: scratch((s) => s.batch * s.gateRows),
  gh: scratch((s) => (s.gru ? s.batch * s.gateRows : 0)),
});

/** STEP_PREPARED's arrays for a quantized step, and its scratch: x and h quantized (i16 rows of
 * `inputPadded` and `hiddenPadded`, two to a float) with their scales. */
export const STEP_QUANTIZED = kernelArgs('stepQuantized', ['batch', 'input', 'hidden', 'gateRows', 'gru', 'inputPadded', 'hiddenPadded'], {
  ...preparedStepArrays,
  xq: scratch((s) => (s.inputPadded * s.batch) / 2),
  xs: scratch((s) => (s.inputPadded ? s.batch : 0)),
  hq: scratch((s) => (s.hiddenPadded * s.batch) / 2),
  hs: scratch((s) => s.batch),
  gates: scratch((s) => s.batch * s.gateRows),
  gh: scratch((s) => (s.gru ? s.batch * s.gateRows : 0)),
});

export const LSTM_BACKWARD = kernelArgs('lstmBackward', ['batch', 'hidden'], {
  gates: read((s) => 4 * state(s)),
  cPrev: read(state),
  c: read(state),
  dhRaw: read(state),
  dc: readWrite(state),
  dGates: write((s) => 4 * state(s)),
  peep: read(peepholes),
  dPeep: readWrite(peepholes),
});

export const GRU_FORWARD = kernelArgs('gruForward', ['batch', 'hidden'], {
  gi: readWrite((s) => 3 * state(s)),
  gh: read((s) => 3 * state(s)),
  hPrev: read(state),
  h: write(state),
});

export const GRU_BACKWARD = kernelArgs('gruBackward', ['batch', 'hidden'], {
  gi: read((s) => 3 * state(s)),
  gh: read((s) => 3 * state(s)),
  hPrev: read(state),
  dh: read(state),
  dGi: write((s) => 3 * state(s)),
  dGh: write((s) => 3 * state(s)),
  dhPrev: write(state),
});

export const GRU_RESET_BEFORE_GATES = kernelArgs('gruResetBeforeGates', ['batch', 'hidden'], {
  gates: readWrite((s) => 3 * state(s)),
  hPrev: read(state),
  rh: overwrite(state),
});

export const GRU_RESET_BEFORE_UPDATE = kernelArgs('gruResetBeforeUpdate', ['batch', 'hidden'], {
  gates: readWrite((s) => 3 * state(s)),
  hPrev: read(state),
  h: overwrite(state),
});

type SequenceSizes = Sizes<['steps', 'batch', 'hidden', 'gateRows', 'stepRows']>;
/** [stepRows, gateRows]: every step's gates (`gateRows` = gates * hidden; `stepRows` = steps * batch,
 * or the active rows of all steps with a layout). */
const allGates = (s: SequenceSizes): number => s.stepRows * s.gateRows;
/** [steps + 1, batch, hidden]: the initial state and every step's. */
const allStates = (s: SequenceSizes): number => (s.steps + 1) * state(s);
/** [steps, 2]: each step's first row and active rows (none without variable lengths). */
const stepLayout = (s: SequenceSizes): number => 2 * s.steps;

export const SEQUENCE_FORWARD = kernelArgs('sequenceForward', ['steps', 'batch', 'hidden', 'gateRows', 'stepRows'], {
  gates: readWrite(allGates),
  gh: overwrite(allGates),
  states: readWrite(allStates),
  cells: readWrite(allStates),
  biasHh: read((s) => s.gateRows),
  peep: read(peepholes),
  layout: read(stepLayout),
});

export const SEQUENCE_BACKWARD = kernelArgs('sequenceBackward', ['steps', 'batch', 'hidden', 'gateRows', 'stepRows'], {
  gates: read(allGates),
  gh: read(allGates),
  states: read(allStates),
  cells: read(allStates),
  dOut: read((s) => s.stepRows * s.hidden),
  dh: readWrite(state),
  dc: readWrite(state),
  dGates: overwrite(allGates),
  dGh: overwrite(allGates),
  dhPrev: overwrite(state),
  peep: read(peepholes),
  dPeep: readWrite(peepholes),
  layout: read(stepLayout),
});

export const SOFTMAX_CROSS_ENTROPY = kernelArgs('softmaxCrossEntropy', ['rows', 'classes'], {
  logits: read((s) => s.rows * s.classes),
  targets: read((s) => s.rows),
  loss: overwrite((s) => s.rows),
  dLogits: overwrite((s) => s.rows * s.classes),
});

export const ADAM_UPDATE = kernelArgs('adamUpdate', ['n'], {
  param: readWrite((s) => s.n),
  grad: read((s) => s.n),
  m: readWrite((s) => s.n),
  v: readWrite((s) => s.n),
});

/** The weights prepareStep copies (`rows` = gates * hidden). */
export const PREPARE_STEP = kernelArgs('prepareStep', ['rows', 'input', 'hidden'], {
  wIh: read((s) => s.rows * s.input),
  wHh: read((s) => s.rows * s.hidden),
  bIh: read((s) => s.rows),
  bHh: read((s) => s.rows),
  peep: read((s) => 3 * s.hidden),
});


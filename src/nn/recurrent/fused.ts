/**
 * One recurrent layer in one direction as ONE autograd node (docs/architecture.md, "One autograd
 * node per layer and direction").
 *
 * Forward: one GEMM projects the inputs of all time steps at once; then per step one GEMM adds the
 * recurrent term and one fused kernel applies the gate nonlinearities and the state update. The
 * recurrent weights are packed once per call (Kernels.packB) for the per-step GEMMs. What the
 * backward needs (gate activations, states) stays in a workspace taken once per call in the
 * kernels' memory. Backward walks time in reverse with the fused gate-gradient kernel and one GEMM per
 * step for the recurrent gradient, then one GEMM each for the input-weight, recurrent-weight and input
 * gradients over all steps (skipping the gradients no input needs).
 *
 * Time runs in "processing order": for the reverse direction the input is copied reversed into the
 * workspace, so the core loop is the same for both directions.
 *
 * Variable lengths (a packed sequence, PyTorch's layout: the batch sorted by length, step t holding
 * batchSizes[t] rows, one step after another): the input stays in that layout, and so do the
 * "step-major" buffers (gates, gh, hRaw and their gradients); a table gives each step of the loop, in
 * processing order, its first row there and its number of active rows, the first rows of the batch.
 * States and cells keep the whole batch per step, and a step leaves its inactive rows alone: a
 * sequence that ended keeps its last state, and for the reverse direction a sequence that has not
 * started yet still holds h0, put there before the loop. Backward, the same rows carry their dh and dc
 * untouched until the steps in which they are active.
 */
import { kernelsFor, sliceBuffer, type DType, type FloatArray, type KernelBuffer, type Kernels, type PackedMatrix, type RnnActivation, type SequenceKind } from '../../kernels/index.js';
import { allocateArray, formatShape, isGradEnabled, record, Tensor } from '../../tensor/index.js';
import { gatherColumns, gatherNeedsScratch, oneHotRows, transposeInto } from './one-hot.js';
import { resetBeforeForward } from './gru-reset-before.js';
import { checkBatchSizes } from './packed.js';
import { packedStepWeights, PREPARED_STEP_MAX_BATCH, preparedStep, releasePreparedWeights } from './prepared-weights.js';
import { disposeGraphs, graphBackpropagated, trackGraph } from './saved-graphs.js';
import { flushSpareBuffers, workspaceFor, type Workspace } from './workspace.js';

/** Parity note: 'rnn_sigmoid' is our extension (PyTorch's RNN offers tanh and relu only). */
export type CellKind = 'rnn_tanh' | 'rnn_relu' | 'rnn_sigmoid' | 'lstm' | 'gru';

/** Number of gate blocks of `hidden` rows in the stacked weights. */
export const gateCount = (kind: CellKind): number => (kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1);

export interface DirectionWeights {
  weightIh: Tensor; // [G*H, I]
  weightHh: Tensor; // [G*H, P]
  biasIh: Tensor | null; // [G*H]
  biasHh: Tensor | null; // [G*H]
  weightHr: Tensor | null; // [P, H] (LSTM projection)
  peephole: [Tensor, Tensor, Tensor] | null; // w_ci, w_cf, w_co, each [H]
}

export interface DirectionResult {
  output: Tensor; // [T, B, P], in time order (packed: [N, P], the input's layout)
  h: Tensor; // [B, P]
  c: Tensor | null; // [B, H]
}

export interface Geometry {
  kind: CellKind;
  T: number;
  B: number;
  I: number;
  H: number;
  P: number;
  G: number;
  reverse: boolean;
  /** Rows of the step-major buffers: T * B, or the packed sequence's N. */
  rows: number;
  /** Per step in processing order: its first row in the step-major buffers and its active rows. */
  layout: Int32Array;
  /** Variable lengths: `layout` is passed to the kernels and nothing is copied reversed. */
  packed: boolean;
}

/** The layout of a step-major buffer in processing order: dense (reversed inputs are copied into
 * processing order), or from a packed sequence's batch sizes (read in place, in time order). */
export function stepLayout(T: number, B: number, reverse: boolean, batchSizes: Int32Array | null): Int32Array {
  const layout = new Int32Array(2 * T);
  const firstRow = new Int32Array(T);
  for (let t = 1; t < T; t++) firstRow[t] = firstRow[t - 1]! + (batchSizes ? batchSizes[t - 1]! : B);
  for (let s = 0; s < T; s++) {
    const t = reverse && batchSizes ? T - 1 - s : s;
    layout[2 * s] = firstRow[t]!;
    layout[2 * s + 1] = batchSizes ? batchSizes[t]! : B;
  }
  return layout;
}

/** Buffers the forward fills and the backward reads; all in processing order. */
interface Saved {
  x: KernelBuffer; // [rows, I] (step-major)
  gates: KernelBuffer; // [rows, G*H]: activations after the forward
  gh: KernelBuffer | null; // GRU: [rows, 3H] = h W_hh^T + b_hh
  states: KernelBuffer; // [T+1, B, P]: h0, h1, ...
  cells: KernelBuffer | null; // LSTM: [T+1, B, H]
  hRaw: KernelBuffer | null; // LSTM with projection: [rows, H] before W_hr
  peep: KernelBuffer | null; // peephole weights gathered contiguously: [w_ci | w_cf | w_co]
  /** One-hot input rows: their columns, and room for W_ih^T (forward) and dW_ih^T (backward). */
  oneHot: { ids: Int32Array; scratch: KernelBuffer } | null;
}

const timeOf = (g: Geometry, s: number): number => (g.reverse ? g.T - 1 - s : s);

const SEQUENCE_KINDS: Record<CellKind, SequenceKind> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3, rnn_sigmoid: 4 };
export const sequenceKind = (kind: CellKind): SequenceKind => SEQUENCE_KINDS[kind];
/** An RNN's activation for the kernels: its sequence kind (0 tanh, 1 relu, 4 sigmoid). */
const rnnActivation = (kind: CellKind): RnnActivation => SEQUENCE_KINDS[kind] as RnnActivation;

/** Copies [T, B, width] rows between time order and processing order (a packed layout needs no reversing). */
export function copyTimeMajor(g: Geometry, width: number, src: FloatArray, dst: FloatArray, toProcessing: boolean): void {
  const block = g.B * width;
  if (!g.reverse || g.packed) {
    dst.set(src.subarray(0, g.rows * width));
    return;
  }
  for (let s = 0; s < g.T; s++) {
    const t = timeOf(g, s);
    const [from, to] = toProcessing ? [t, s] : [s, t];
    dst.set(src.subarray(from * block, (from + 1) * block), to * block);
  }
}

/**
 * The recurrent weights in the form the per-step GEMMs take: with more than one step, packed (kept
 * across calls while the weights are unchanged, prepared-weights.ts); packing allocates kernel
 * memory, so this runs before any view is taken.
 */
export function stepWeights(g: Geometry, k: Kernels, w: DirectionWeights, transposed: boolean): StepWeights {
  return g.T < 2 ? { hh: null, hr: null } : packedStepWeights(k, w, transposed);
}

export interface StepWeights {
  hh: PackedMatrix | null;
  hr: PackedMatrix | null;
}

/** C[m, n] = A[m, kk] op(W) + beta C with W packed when the call has one, else straight from W. */
function stepGemm(
  k: Kernels, packed: PackedMatrix | null, transB: boolean, m: number, n: number, kk: number,
  a: FloatArray, aOffset: number, wData: FloatArray, beta: number, c: FloatArray, cOffset: number,
): void {
  if (packed) k.gemmPacked(false, m, n, kk, 1, a, aOffset, kk, packed, beta, c, cOffset, n);
  else k.gemm(false, transB, m, n, kk, 1, a, aOffset, kk, wData, 0, transB ? kk : n, beta, c, cOffset, n);
}

/**
 * Rows per chunk of the products over many rows (input projections, weight, bias and input
 * gradients): a fixed function of the batch, never of the call's length or of checkpointEvery, so
 * the plain path and the checkpointed one (checkpointed.ts) issue the same products over the same
 * rows in the same order, and their results agree bit for bit. A sum over rows (dW = dGates^T x)
 * accumulates chunk after chunk, the last chunk first, the order in which a checkpointed backward
 * finishes them. A call of at most this many rows is one chunk.
 */
export const CHUNK_ROWS = 4096;

/** Time steps per chunk for a batch of B rows (whole steps, so a chunk never splits a step). */
export const chunkSteps = (B: number): number => Math.max(1, Math.floor(CHUNK_ROWS / B));

/** The input projections of `count` step-major rows: gates = x W_ih^T + b_ih, and b_hh with
 * `foldBiasHh` (every cell but PyTorch's GRU, whose b_hn the reset gate scales), or for one-hot rows
 * the columns of W_ih. Row-local, so chunks are independent. */
export function projectRows(
  k: Kernels, foldBiasHh: boolean, w: DirectionWeights, I: number, GH: number, count: number,
  x: FloatArray, gates: FloatArray, ids: Int32Array | null, scratch: FloatArray | null,
): void {
  const wIh = w.weightIh.data;
  const biases = [w.biasIh?.data ?? null, foldBiasHh ? (w.biasHh?.data ?? null) : null];
  if (ids) {
    gatherColumns(ids, wIh, GH, I, gates, gatherNeedsScratch(count, I) ? scratch : null, biases);
    return;
  }
  k.gemm(false, true, count, GH, I, 1, x, 0, I, wIh, 0, I, 0, gates, 0, GH);
  for (const bias of biases) if (bias) k.addRowVector(count, GH, gates, 0, bias, 0);
}

/** The arrays one run of forward steps works on, each starting at the run's first step. */
export interface StepArrays {
  gates: FloatArray; // [steps*B, G*H]: projections in, activations out
  gh: FloatArray | null; // GRU
  states: FloatArray; // [steps+1, B, P]: the starting state in, the following ones out
  cells: FloatArray | null; // LSTM, like states
  hRaw: FloatArray | null; // LSTM with projection
  peep: FloatArray | null;
}

/** The forward time loop over g.T steps (whole-loop kernel where the backend has one). */
export function forwardSteps(g: Geometry, k: Kernels, w: DirectionWeights, sw: StepWeights, a: StepArrays): void {
  const { T, B, H, P, G, kind, layout } = g;
  const GH = G * H;
  const { gates, gh, states, cells, hRaw, peep } = a;
  const wHh = w.weightHh.data, wHr = w.weightHr?.data ?? null, bHh = w.biasHh?.data ?? null;
  const table = g.packed ? layout : null;
  if (sw.hh && !wHr && k.sequenceForward?.(sequenceKind(kind), T, B, H, sw.hh, gates, gh, states, cells, kind === 'gru' ? bHh : null, peep, table)) return;
  for (let s = 0; s < T; s++) {
    // m active rows: the first of the batch, from row `row` of the step-major buffers.
    const row = layout[2 * s]!, m = layout[2 * s + 1]!;
    const gOff = row * GH, hPrev = s * B * P, hNext = (s + 1) * B * P;
    if (kind === 'gru') {
      stepGemm(k, sw.hh, true, m, GH, P, states, hPrev, wHh, 0, gh!, gOff);
      if (bHh) k.addRowVector(m, GH, gh!, gOff, bHh, 0);
      k.gruForward(m, H, gates, gOff, gh!, gOff, states, hPrev, states, hNext);
      continue;
    }
    stepGemm(k, sw.hh, true, m, GH, P, states, hPrev, wHh, 1, gates, gOff);
    if (kind === 'lstm') {
      const raw = hRaw ?? states;
      const rawOff = hRaw ? row * H : hNext;
      k.lstmForward(m, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, raw, rawOff, peep, 0);
      if (hRaw) stepGemm(k, sw.hr, true, m, P, H, hRaw, rawOff, wHr!, 0, states, hNext);
    } else {
      k.rnnForward(m * H, rnnActivation(kind), gates, gOff);
      states.set(gates.subarray(gOff, gOff + m * H), hNext);
    }
  }
}

function runForward(g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved): void {
  const { I, H, G, kind, rows } = g;
  const GH = G * H;
  const sw = stepWeights(g, k, w, true);
  const x = saved.x.view(), gates = saved.gates.view();
  const ids = saved.oneHot?.ids ?? null, scratch = saved.oneHot?.scratch.view() ?? null;
  const chunk = chunkSteps(g.B) * g.B;
  for (let r = 0; r < rows; r += chunk) {
    const count = Math.min(chunk, rows - r);
    projectRows(k, kind !== 'gru', w, I, GH, count, x.subarray(r * I), gates.subarray(r * GH), ids?.subarray(r, r + count) ?? null, scratch);
  }
  forwardSteps(g, k, w, sw, {
    gates, gh: saved.gh?.view() ?? null, states: saved.states.view(), cells: saved.cells?.view() ?? null,
    hRaw: saved.hRaw?.view() ?? null, peep: saved.peep?.view() ?? null,
  });
}

/** Which gradients the graph wants (inputs that do not require one are skipped). */
export interface Needs {
  x: boolean;
  weightIh: boolean;
  weightHh: boolean;
  biasIh: boolean;
  biasHh: boolean;
  weightHr: boolean;
}

/** Gradients by input; null where not needed or absent. Weight gradients stay in the call's workspace
 * (borrowed until the node's afterBackward); x, h0 and c0 get arrays of their own. */
export interface Gradients {
  x: FloatArray | null;
  h0: FloatArray;
  c0: FloatArray | null;
  weightIh: KernelBuffer | null;
  weightHh: KernelBuffer | null;
  biasIh: KernelBuffer | null;
  biasHh: KernelBuffer | null;
  weightHr: KernelBuffer | null;
  peephole: KernelBuffer | null;
}

/** The arrays one run of backward steps works on, each starting at the run's first step; dh, dc and
 * dPeep carry from the run after it (in time) to the run before. */
export interface BackStepArrays extends StepArrays {
  dOut: FloatArray; // [steps*B, P]
  dh: FloatArray;
  dc: FloatArray | null;
  dGates: FloatArray;
  dGh: FloatArray | null;
  dhPrev: FloatArray | null; // GRU scratch
  dhRaw: FloatArray | null; // LSTM with projection: scratch
  dhAll: FloatArray | null; // LSTM with projection: each step's dh, for dW_hr
  dPeep: FloatArray | null;
}

/** The backward time loop over g.T steps, last step first (whole-loop kernel where it applies). */
export function backwardSteps(g: Geometry, k: Kernels, w: DirectionWeights, sw: StepWeights, a: BackStepArrays): void {
  const { T, B, H, P, G, kind, layout } = g;
  const GH = G * H;
  const { gates, gh, states, cells, peep, dOut, dh, dc, dGates, dGh, dhPrev, dhRaw, dhAll, dPeep } = a;
  const wHh = w.weightHh.data, wHr = w.weightHr?.data ?? null;
  const whole = sw.hh !== null && !dhRaw && k.sequenceBackward?.(
    sequenceKind(kind), T, B, H, sw.hh, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep, g.packed ? layout : null,
  );
  for (let s = whole ? -1 : T - 1; s >= 0; s--) {
    const row = layout[2 * s]!, m = layout[2 * s + 1]!;
    const gOff = row * GH, hPrev = s * B * P;
    k.axpy(m * P, 1, dOut, row * P, dh, 0);
    if (kind === 'lstm') {
      let dRaw = dh;
      if (dhRaw && dhAll) {
        dhAll.set(dh.subarray(0, m * P), row * P);
        stepGemm(k, sw.hr, false, m, H, P, dh, 0, wHr!, 0, dhRaw, 0);
        dRaw = dhRaw;
      }
      k.lstmBackward(m, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, dRaw, 0, dc!, 0, dGates, gOff, peep, 0, dPeep, 0);
      stepGemm(k, sw.hh, false, m, P, GH, dGates, gOff, wHh, 0, dh, 0);
    } else if (kind === 'gru') {
      k.gruBackward(m, H, gates, gOff, gh!, gOff, states, hPrev, dh, 0, dGates, gOff, dGh!, gOff, dhPrev!, 0);
      dh.set(dhPrev!.subarray(0, m * H));
      stepGemm(k, sw.hh, false, m, P, GH, dGh!, gOff, wHh, 1, dh, 0);
    } else {
      k.rnnBackward(m * H, rnnActivation(kind), states, (s + 1) * B * P, dh, 0, dGates, gOff);
      stepGemm(k, sw.hh, false, m, P, GH, dGates, gOff, wHh, 0, dh, 0);
    }
  }
}

/** Where the weight and bias gradients are summed (views; null where not wanted). */
export interface WeightGradients {
  dWih: FloatArray | null;
  dWhh: FloatArray | null;
  dBih: FloatArray | null;
  dBhh: FloatArray | null;
  dWhr: FloatArray | null;
  /** One-hot input: dW_ih^T is summed here (zeroed before the first chunk), dWih gets its transpose. */
  oneHotScratch: FloatArray | null;
}

/** The rows of one chunk (arrays starting at its first row) that the weight gradients sum over. */
export interface ChunkRows {
  count: number;
  dGates: FloatArray;
  dGh: FloatArray | null;
  x: FloatArray;
  ids: Int32Array | null;
  hPrev: FloatArray; // each row's previous state
  dhAll: FloatArray | null;
  hRaw: FloatArray | null;
}

/** Adds one chunk's rows into the weight and bias gradients (the first chunk summed writes them). */
export function addChunkGradients(k: Kernels, g: Geometry, out: WeightGradients, c: ChunkRows, first: boolean): void {
  const { I, H, P, G } = g;
  const GH = G * H, beta = first ? 0 : 1;
  const dHhGates = c.dGh ?? c.dGates;
  if (out.dWih && out.oneHotScratch && c.ids) k.scatterAddRows(c.count, GH, c.ids, c.dGates, 0, out.oneHotScratch, 0, I);
  else if (out.dWih) k.gemm(true, false, GH, I, c.count, 1, c.dGates, 0, GH, c.x, 0, I, beta, out.dWih, 0, I);
  if (out.dWhh) k.gemm(true, false, GH, P, c.count, 1, dHhGates, 0, GH, c.hPrev, 0, P, beta, out.dWhh, 0, P);
  if (out.dBih) k.sumRows(c.count, GH, c.dGates, 0, out.dBih, 0, !first);
  // Except for GRU, b_hh enters exactly where b_ih does: the same sum, copied at the end (finish).
  if (out.dBhh && !(out.dBih && !c.dGh)) k.sumRows(c.count, GH, dHhGates, 0, out.dBhh, 0, !first);
  if (out.dWhr && c.dhAll && c.hRaw) k.gemm(true, false, P, H, c.count, 1, c.dhAll, 0, P, c.hRaw, 0, H, beta, out.dWhr, 0, H);
}

/** After the last chunk: the one-hot dW_ih out of its transposed sum, b_hh's copy of b_ih's sum. */
export function finishGradients(g: Geometry, out: WeightGradients): void {
  if (out.dWih && out.oneHotScratch) transposeInto(out.oneHotScratch, g.I, g.G * g.H, out.dWih);
  if (out.dBhh && out.dBih && g.kind !== 'gru') out.dBhh.set(out.dBih);
}

function runBackward(
  g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved, ws: Workspace, dtype: DType, need: Needs,
  dOutput: FloatArray | null, dHn: FloatArray | null, dCn: FloatArray | null,
): Gradients {
  const { T, B, I, H, P, G, kind, rows, layout } = g;
  const GH = G * H;
  // Allocate everything first (packing included): views taken afterwards stay valid through the loop.
  // `false`: written in full before being read, so not zero-filled.
  const sw = stepWeights(g, k, w, false);
  const dGatesBuf = ws.take(rows * GH, false);
  const dGhBuf = kind === 'gru' ? ws.take(rows * GH, false) : null;
  const dOutBuf = ws.take(rows * P, dOutput === null);
  const dhBuf = ws.take(B * P, dHn === null);
  const dcBuf = kind === 'lstm' ? ws.take(B * H, dCn === null) : null;
  const dhRawBuf = w.weightHr ? ws.take(B * H, false) : null;
  const dhAllBuf = w.weightHr ? ws.take(rows * P, false) : null;
  const dhPrevBuf = kind === 'gru' ? ws.take(B * H, false) : null;
  const dPeepBuf = w.peephole ? ws.take(3 * H) : null;
  const dxBuf = need.x ? ws.take(rows * I, false) : null;
  // Weight gradients are computed in the workspace too: no kernel call here touches memory outside
  // the backend's, so no call can grow memory under the views taken below.
  const dWihBuf = need.weightIh ? ws.take(GH * I, false) : null, dWhhBuf = need.weightHh ? ws.take(GH * P, false) : null;
  const dBihBuf = w.biasIh && need.biasIh ? ws.take(GH, false) : null, dBhhBuf = w.biasHh && need.biasHh ? ws.take(GH, false) : null;
  const dWhrBuf = w.weightHr && need.weightHr ? ws.take(P * H, false) : null;
  // Packed: each step's previous states of its active rows, one step after another, for dW_hh's GEMM.
  const hPrevBuf = g.packed && dWhhBuf ? ws.take(rows * P, false) : null;

  const x = saved.x.view(), states = saved.states.view();
  const dGates = dGatesBuf.view(), dGh = dGhBuf?.view() ?? null, dOut = dOutBuf.view();
  const dh = dhBuf.view(), dc = dcBuf?.view() ?? null, dhAll = dhAllBuf?.view() ?? null;
  const hRaw = saved.hRaw?.view() ?? null;

  if (dOutput) copyTimeMajor(g, P, dOutput, dOut, true);
  if (dHn) dh.set(dHn);
  if (dc && dCn) dc.set(dCn);

  backwardSteps(g, k, w, sw, {
    gates: saved.gates.view(), gh: saved.gh?.view() ?? null, states, cells: saved.cells?.view() ?? null, hRaw,
    peep: saved.peep?.view() ?? null, dOut, dh, dc, dGates, dGh, dhPrev: dhPrevBuf?.view() ?? null,
    dhRaw: dhRawBuf?.view() ?? null, dhAll, dPeep: dPeepBuf?.view() ?? null,
  });
  // Packed: the previous states of each step's active rows, in the step-major layout of dGates.
  const hPrevRows = hPrevBuf?.view() ?? states;
  if (hPrevBuf) {
    for (let s = 0; s < T; s++) {
      const row = layout[2 * s]!, m = layout[2 * s + 1]!;
      hPrevRows.set(states.subarray(s * B * P, (s * B + m) * P), row * P);
    }
  }

  const out: WeightGradients = {
    dWih: dWihBuf?.view() ?? null, dWhh: dWhhBuf?.view() ?? null, dBih: dBihBuf?.view() ?? null, dBhh: dBhhBuf?.view() ?? null,
    dWhr: dWhrBuf?.view() ?? null, oneHotScratch: dWihBuf && saved.oneHot ? saved.oneHot.scratch.view() : null,
  };
  out.oneHotScratch?.fill(0);
  const dxp = dxBuf?.view() ?? null, wIh = w.weightIh.data;
  // Whole-sequence products, chunk by chunk from the last: dW_ih = dGates^T x,
  // dW_hh = dGates'^T [h0..h_{T-1}], dx = dGates W_ih.
  const chunk = chunkSteps(B) * B;
  const ids = saved.oneHot?.ids ?? null;
  for (let r = Math.floor((rows - 1) / chunk) * chunk; r >= 0; r -= chunk) {
    const count = Math.min(chunk, rows - r);
    addChunkGradients(k, g, out, {
      count, dGates: dGates.subarray(r * GH), dGh: dGh?.subarray(r * GH) ?? null, x: x.subarray(r * I),
      ids: ids?.subarray(r, r + count) ?? null, hPrev: hPrevRows.subarray(r * P), dhAll: dhAll?.subarray(r * P) ?? null,
      hRaw: hRaw?.subarray(r * H) ?? null,
    }, r + count === rows);
    if (dxp) k.gemm(false, false, count, I, GH, 1, dGates, r * GH, GH, wIh, 0, I, 0, dxp, r * I, I);
  }
  finishGradients(g, out);
  let gx: FloatArray | null = null;
  if (dxp) {
    gx = allocateArray(rows * I, dtype);
    copyTimeMajor(g, I, dxp, gx, false);
  }
  return {
    x: gx,
    h0: dh.slice(),
    c0: dc ? dc.slice() : null,
    weightIh: dWihBuf, weightHh: dWhhBuf, biasIh: dBihBuf, biasHh: dBhhBuf, weightHr: dWhrBuf, peephole: dPeepBuf,
  };
}

/**
 * One step (T = 1) with nothing to record: one kernel call over weights prepared once and kept while
 * they are unchanged (prepared-weights.ts), straight from the caller's arrays, with no workspace. The
 * same arithmetic as runForward's, bit for bit.
 */
function preparedForward(k: Kernels, g: Geometry, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights): DirectionResult {
  const { kind, B, I, H } = g;
  const ids = oneHotRows(x.data, B, I);
  const tokens = ids !== null && ids.every((id) => id >= 0);
  // Preparing may allocate kernel memory: every view is taken after it.
  const step = preparedStep(k, kind, w, tokens);
  const output = allocateArray(B * H, 'float32');
  const c = kind === 'lstm' ? allocateArray(B * H, 'float32') : null;
  const cPrev = c === null ? null : c0 ? c0.data : allocateArray(B * H, 'float32');
  k.stepPrepared!(step, B, tokens ? null : x.data, tokens ? ids : null, h0.data, cPrev, c, output);
  return { output: new Tensor(output, [1, B, H]), h: new Tensor(output.slice(), [B, H]), c: c && new Tensor(c, [B, H]) };
}

/**
 * Runs one direction of one layer over x [T, B, I] from h0 [B, P] (and c0 [B, H] for LSTM), recording
 * one autograd node when gradients are needed. With `batchSizes` (a packed sequence: non-increasing,
 * batchSizes[0] = B), x is the packed data [N, I] and the output is [N, P] in the same layout; h and
 * c are each row's state after its own last step (the reverse direction: after time 0).
 * A GRU with `linearBeforeReset` false (gru-reset-before.ts) runs forward only: it records no node,
 * and a call that would need one is an error.
 */
export function recurrentDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, reverse: boolean,
  batchSizes: Int32Array | null = null, linearBeforeReset = true,
): DirectionResult {
  const packed = batchSizes !== null;
  // The kernels trust the layout: a bad one would write outside the call's buffers.
  if (packed) {
    if (x.shape.length !== 2) throw new Error(`recurrentDirection: packed input must be [N, input], got ${formatShape(x.shape)}`);
    checkBatchSizes('recurrentDirection', batchSizes, x.shape[0]!);
    if (h0.shape[0] !== batchSizes[0]) throw new Error(`recurrentDirection: h0 must have ${batchSizes[0]} rows (batchSizes[0]), got ${formatShape(h0.shape)}`);
  }
  const [T, B, I] = packed ? [batchSizes.length, batchSizes[0]!, x.shape[1]!] : (x.shape as [number, number, number]);
  const rows = packed ? x.shape[0]! : T * B;
  const G = gateCount(kind);
  const H = w.weightIh.shape[0]! / G;
  const P = w.weightHr ? w.weightHr.shape[0]! : H;
  const layout = stepLayout(T, B, reverse, batchSizes);
  const g: Geometry = { kind, T, B, I, H, P, G, reverse, rows, layout, packed };
  const dtype = x.dtype;
  const k = kernelsFor(dtype);
  const inputs = directionInputs(x, h0, c0, w);
  // Under noGrad (generation: one call per token) or with no input needing a gradient, no node.
  const records = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const resetBefore = kind === 'gru' && !linearBeforeReset;
  if (resetBefore && records) {
    throw new Error('recurrentDirection: a GRU with linearBeforeReset: false has no fused backward; run it under noGrad, or through the op-by-op reference to train it');
  }
  if (T === 1 && !packed && !records && !resetBefore && dtype === 'float32' && B <= PREPARED_STEP_MAX_BATCH && !w.weightHr && k.prepareStep && k.stepPrepared) {
    return preparedForward(k, g, x, h0, c0, w);
  }
  const ws = workspaceFor(k, dtype);
  // Every buffer is written in full before it is read (c0 absent: the first cell state is zeroed;
  // packed, the rows of states a step leaves alone are never read).
  const saved: Saved = {
    x: ws.take(rows * I, false),
    gates: ws.take(rows * G * H, false),
    // linearBeforeReset false: one step's r * h in place of gh.
    gh: kind === 'gru' ? ws.take(resetBefore ? B * H : rows * G * H, false) : null,
    states: ws.take((T + 1) * B * P, false),
    cells: kind === 'lstm' ? ws.take((T + 1) * B * H, false) : null,
    hRaw: w.weightHr ? ws.take(rows * H, false) : null,
    peep: w.peephole ? ws.take(3 * H, false) : null,
    oneHot: null,
  };
  if (saved.peep) w.peephole!.forEach((p, i) => saved.peep!.view().set(p.data, i * H));
  copyTimeMajor(g, I, x.data, saved.x.view(), true);
  const ids = oneHotRows(saved.x.view(), rows, I);
  if (ids) saved.oneHot = { ids, scratch: ws.take(I * G * H, false) };
  saved.states.view().set(h0.data);
  if (saved.cells) {
    if (c0) saved.cells.view().set(c0.data);
    else saved.cells.view().fill(0, 0, B * H);
  }
  if (packed && reverse) {
    holdInitialRows(g, P, saved.states.view());
    if (saved.cells) holdInitialRows(g, H, saved.cells.view());
  }
  if (resetBefore) resetBeforeForward(g, k, w, { x: saved.x, gates: saved.gates, states: saved.states, rh: saved.gh!, oneHot: saved.oneHot });
  else runForward(g, k, w, saved);

  const statesView = saved.states.view();
  let output: Tensor, h: Tensor, c: Tensor | null;
  if (packed) {
    output = new Tensor(allocateArray(rows * P, dtype), [rows, P]);
    for (let s = 0; s < T; s++) {
      const row = layout[2 * s]!, m = layout[2 * s + 1]!;
      output.data.set(statesView.subarray((s + 1) * B * P, ((s + 1) * B + m) * P), row * P);
    }
    h = new Tensor(lastStates(g, P, statesView, dtype), [B, P]);
    c = saved.cells ? new Tensor(lastStates(g, H, saved.cells.view(), dtype), [B, H]) : null;
  } else {
    output = new Tensor(allocateArray(T * B * P, dtype), [T, B, P]);
    copyTimeMajor(g, P, statesView.subarray(B * P), output.data, false);
    h = new Tensor(statesView.slice(T * B * P, (T + 1) * B * P), [B, P]);
    c = saved.cells ? new Tensor(saved.cells.view().slice(T * B * H, (T + 1) * B * H), [B, H]) : null;
  }

  if (!records) {
    ws.release();
    return { output, h, c };
  }

  // The backward reads x through its copy in the workspace, but the weights in place.
  return recordDirection(kind, x, h0, c0, w, { output, h, c }, ws, (need, temp, dOutput, dHn, dCn) =>
    runBackward(g, k, w, saved, temp, dtype, need, dOutput, dHn, dCn));
}

/** Everything a direction call reads: x, h0, c0 and the weights present, in the node's input order. */
export function directionInputs(x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights): Tensor[] {
  const weights = [w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);
  return [x, h0, ...(c0 ? [c0] : []), ...weights];
}

/**
 * Records a direction call's one autograd node over its outputs: `backward` computes the gradients
 * the graph needs from the outputs' gradients, its temporaries in `temp` (a workspace of its own, so
 * a retained graph keeps only what the forward saved in `saved`), released once autograd has taken
 * the gradients.
 */
export function recordDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, outputs: DirectionResult, saved: Workspace,
  backward: (need: Needs, temp: Workspace, dOutput: FloatArray | null, dHn: FloatArray | null, dCn: FloatArray | null) => Gradients,
): DirectionResult {
  const dtype = x.dtype;
  const inputs = directionInputs(x, h0, c0, w);
  const H = w.weightIh.shape[0]! / gateCount(kind);
  // The three outputs share one node: each records the same backward, which fires once with the
  // gradients of all outputs gathered (see wireOutputs).
  const name = kind.toUpperCase();
  const backwardAll = (grads: (Tensor | null)[]): (Tensor | null)[] => {
    graph.checkUsable();
    const need: Needs = {
      x: x.requiresGrad, weightIh: w.weightIh.requiresGrad, weightHh: w.weightHh.requiresGrad,
      biasIh: w.biasIh?.requiresGrad ?? false, biasHh: w.biasHh?.requiresGrad ?? false, weightHr: w.weightHr?.requiresGrad ?? false,
    };
    const temp = workspaceFor(kernelsFor(dtype), dtype);
    backwardTemps = temp;
    const r = backward(need, temp, grads[0]?.data ?? null, grads[1]?.data ?? null, grads[2]?.data ?? null);
    const grad = (data: FloatArray | null, like: Tensor): Tensor | null => (data ? new Tensor(data, like.shape) : null);
    // Autograd adds a leaf's gradient in before afterBackward releases the workspace; anything else
    // may wait for other contributions, so it gets a copy.
    const weightGrad = (buffer: KernelBuffer | null, like: Tensor): Tensor | null =>
      !buffer ? null : like.isLeaf ? new Tensor(buffer, like.shape) : new Tensor(buffer.view().slice(), like.shape);
    return [
      grad(r.x, x), grad(r.h0, h0), ...(c0 ? [grad(r.c0, c0)] : []),
      weightGrad(r.weightIh, w.weightIh), weightGrad(r.weightHh, w.weightHh),
      ...(w.biasIh ? [weightGrad(r.biasIh, w.biasIh)] : []), ...(w.biasHh ? [weightGrad(r.biasHh, w.biasHh)] : []),
      ...(w.weightHr ? [weightGrad(r.weightHr, w.weightHr)] : []),
      ...(w.peephole ? w.peephole.map((p, i) => weightGrad(sliceBuffer(r.peephole!, i * H, H), p)) : []),
    ];
  };
  let backwardTemps: Workspace | null = null;
  const afterBackward = (retained: boolean): void => {
    backwardTemps?.release();
    backwardTemps = null;
    graphBackpropagated(graph, retained);
  };
  const { output, h, c } = outputs;
  const savedTensors = inputs.filter((t) => t !== h0 && t !== c0);
  const { result, joint } = wireOutputs(name, [output, h, ...(c ? [c] : [])], inputs, savedTensors, backwardAll, afterBackward, dtype);
  const graph = trackGraph(name, w.weightIh, saved, joint, c0 ? [x, h0, c0] : [x, h0]);
  return result;
}

/**
 * Packed, reverse direction: a row starts at the step of its last time, so until then its state must
 * be its initial one. Copies rows of the initial state ([B, width] at step 0) to every later step at
 * which the row has not been active yet.
 */
function holdInitialRows(g: Geometry, width: number, states: FloatArray): void {
  const { T, B, layout } = g;
  for (let s = 1; s <= T; s++) {
    const started = layout[2 * s - 1]!;
    if (started < B) states.copyWithin(s * B * width + started * width, started * width, B * width);
  }
}

/** Packed: each row's state after its last active step (the row is left alone after it). */
function lastStates(g: Geometry, width: number, states: FloatArray, dtype: DType): FloatArray {
  const { T, B, layout } = g;
  const out = allocateArray(B * width, dtype);
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let s = 0; s < T; s++) if (layout[2 * s + 1]! > b) last = s + 1;
    out.set(states.subarray((last * B + b) * width, (last * B + b + 1) * width), b * width);
  }
  return out;
}

/**
 * dispose() of a layer or cell: the saved graphs and prepared weights of its directions (each named
 * by its W_ih tensor) go back now, and the pooled workspace buffers with them.
 */
export function releaseDirections(owners: readonly Tensor[]): void {
  disposeGraphs(owners);
  releasePreparedWeights(owners);
  flushSpareBuffers();
}

/**
 * Autograd sees single-output nodes. A recurrent call has up to three outputs (output, h, c), so we
 * record one node on a hidden, empty "joint" tensor and give each output a node that leaves its
 * gradient with the joint node (and passes on an empty one); autograd runs those first, since they
 * were computed from the joint tensor, and then the joint node runs the fused backward once with the
 * gradients gathered (null for an output that got none). Nothing of the outputs' size is allocated.
 */
export function wireOutputs(
  name: string, outputs: Tensor[], inputs: Tensor[], saved: Tensor[], backwardAll: (grads: (Tensor | null)[]) => (Tensor | null)[],
  afterBackward: (retained: boolean) => void, dtype: DType,
): { result: DirectionResult; joint: Tensor } {
  const gathered: (Tensor | null)[] = outputs.map(() => null);
  const empty = (): Tensor => new Tensor(allocateArray(0, dtype), [0]);
  const joint = record(empty(), {
    name, inputs,
    backward: () => {
      const grads = gathered.slice();
      gathered.fill(null);
      return backwardAll(grads);
    },
    afterBackward,
  }, saved);
  const wired = outputs.map((t, i) =>
    record(t, {
      name: `${name}[${i}]`, inputs: [joint],
      backward: (g) => {
        gathered[i] = g;
        return [empty()];
      },
    }),
  );
  return { result: { output: wired[0]!, h: wired[1]!, c: wired[2] ?? null }, joint };
}

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
 */
import { kernelsFor, sliceBuffer, type DType, type FloatArray, type KernelBuffer, type Kernels, type PackedMatrix, type SequenceKind } from '../../kernels/index.js';
import { allocateArray, isGradEnabled, record, Tensor } from '../../tensor/index.js';
import { gatherColumns, gatherNeedsScratch, oneHotRows, scatterColumns } from './one-hot.js';
import { packedStepWeights, PREPARED_STEP_MAX_BATCH, preparedStep, releasePreparedWeights } from './prepared-weights.js';
import { disposeGraphs, graphBackpropagated, trackGraph } from './saved-graphs.js';
import { flushSpareBuffers, workspaceFor, type Workspace } from './workspace.js';

export type CellKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

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
  output: Tensor; // [T, B, P], in time order
  h: Tensor; // [B, P]
  c: Tensor | null; // [B, H]
}

interface Geometry {
  kind: CellKind;
  T: number;
  B: number;
  I: number;
  H: number;
  P: number;
  G: number;
  reverse: boolean;
}

/** Buffers the forward fills and the backward reads; all in processing order. */
interface Saved {
  x: KernelBuffer; // [T, B, I]
  gates: KernelBuffer; // [T, B, G*H]: activations after the forward
  gh: KernelBuffer | null; // GRU: [T, B, 3H] = h W_hh^T + b_hh
  states: KernelBuffer; // [T+1, B, P]: h0, h1, ...
  cells: KernelBuffer | null; // LSTM: [T+1, B, H]
  hRaw: KernelBuffer | null; // LSTM with projection: [T, B, H] before W_hr
  peep: KernelBuffer | null; // peephole weights gathered contiguously: [w_ci | w_cf | w_co]
  /** One-hot input rows: their columns, and room for W_ih^T (forward) and dW_ih^T (backward). */
  oneHot: { ids: Int32Array; scratch: KernelBuffer } | null;
}

const timeOf = (g: Geometry, s: number): number => (g.reverse ? g.T - 1 - s : s);

export const sequenceKind = (kind: CellKind): SequenceKind => (kind === 'rnn_tanh' ? 0 : kind === 'rnn_relu' ? 1 : kind === 'lstm' ? 2 : 3);

/** Copies [T, B, width] rows between time order and processing order. */
function copyTimeMajor(g: Geometry, width: number, src: FloatArray, dst: FloatArray, toProcessing: boolean): void {
  const block = g.B * width;
  if (!g.reverse) {
    dst.set(src.subarray(0, g.T * block));
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
function stepWeights(g: Geometry, k: Kernels, w: DirectionWeights, transposed: boolean): { hh: PackedMatrix | null; hr: PackedMatrix | null } {
  return g.T < 2 ? { hh: null, hr: null } : packedStepWeights(k, w, transposed);
}

/** C[m, n] = A[m, kk] op(W) + beta C with W packed when the call has one, else straight from W. */
function stepGemm(
  k: Kernels, packed: PackedMatrix | null, transB: boolean, m: number, n: number, kk: number,
  a: FloatArray, aOffset: number, wData: FloatArray, beta: number, c: FloatArray, cOffset: number,
): void {
  if (packed) k.gemmPacked(false, m, n, kk, 1, a, aOffset, kk, packed, beta, c, cOffset, n);
  else k.gemm(false, transB, m, n, kk, 1, a, aOffset, kk, wData, 0, transB ? kk : n, beta, c, cOffset, n);
}

function runForward(g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved): void {
  const { T, B, I, H, P, G, kind } = g;
  const GH = G * H;
  const sw = stepWeights(g, k, w, true);
  const x = saved.x.view(), gates = saved.gates.view(), states = saved.states.view();
  const cells = saved.cells?.view() ?? null;
  const hRaw = saved.hRaw?.view() ?? null;
  const gh = saved.gh?.view() ?? null;
  const wIh = w.weightIh.data, wHh = w.weightHh.data;
  // All input projections in one GEMM: gates[T*B, GH] = x W_ih^T + biases; for one-hot rows,
  // columns of W_ih, biases added in the same pass. b_hh folds into the projection except for GRU,
  // whose n gate needs it inside r * (W_hn h + b_hn).
  const biases = [w.biasIh?.data ?? null, kind !== 'gru' ? (w.biasHh?.data ?? null) : null];
  if (saved.oneHot) {
    const { ids, scratch } = saved.oneHot;
    gatherColumns(ids, wIh, GH, I, gates, gatherNeedsScratch(T * B, I) ? scratch.view() : null, biases);
  } else {
    k.gemm(false, true, T * B, GH, I, 1, x, 0, I, wIh, 0, I, 0, gates, 0, GH);
    for (const bias of biases) if (bias) k.addRowVector(T * B, GH, gates, 0, bias, 0);
  }
  const peep = saved.peep?.view() ?? null;
  const wHr = w.weightHr?.data ?? null;
  const bHh = w.biasHh?.data ?? null;
  if (sw.hh && !wHr && k.sequenceForward?.(sequenceKind(kind), T, B, H, sw.hh, gates, gh, states, cells, kind === 'gru' ? bHh : null, peep)) return;
  for (let s = 0; s < T; s++) {
    const gOff = s * B * GH, hPrev = s * B * P, hNext = (s + 1) * B * P;
    if (kind === 'gru') {
      stepGemm(k, sw.hh, true, B, GH, P, states, hPrev, wHh, 0, gh!, gOff);
      if (bHh) k.addRowVector(B, GH, gh!, gOff, bHh, 0);
      k.gruForward(B, H, gates, gOff, gh!, gOff, states, hPrev, states, hNext);
      continue;
    }
    stepGemm(k, sw.hh, true, B, GH, P, states, hPrev, wHh, 1, gates, gOff);
    if (kind === 'lstm') {
      const raw = hRaw ?? states;
      const rawOff = hRaw ? s * B * H : hNext;
      k.lstmForward(B, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, raw, rawOff, peep, 0);
      if (hRaw) stepGemm(k, sw.hr, true, B, P, H, hRaw, rawOff, wHr!, 0, states, hNext);
    } else {
      k.rnnForward(B * H, kind === 'rnn_relu' ? 1 : 0, gates, gOff);
      states.set(gates.subarray(gOff, gOff + B * H), hNext);
    }
  }
}

/** Which gradients the graph wants (inputs that do not require one are skipped). */
interface Needs {
  x: boolean;
  weightIh: boolean;
  weightHh: boolean;
  biasIh: boolean;
  biasHh: boolean;
  weightHr: boolean;
}

/** Gradients by input; null where not needed or absent. Weight gradients stay in the call's workspace
 * (borrowed until the node's afterBackward); x, h0 and c0 get arrays of their own. */
interface Gradients {
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

function runBackward(
  g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved, ws: Workspace, dtype: DType, need: Needs,
  dOutput: FloatArray | null, dHn: FloatArray | null, dCn: FloatArray | null,
): Gradients {
  const { T, B, I, H, P, G, kind } = g;
  const GH = G * H;
  const rows = T * B;
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

  const x = saved.x.view(), gates = saved.gates.view(), states = saved.states.view();
  const cells = saved.cells?.view() ?? null, hRaw = saved.hRaw?.view() ?? null, gh = saved.gh?.view() ?? null;
  const dGates = dGatesBuf.view(), dGh = dGhBuf?.view() ?? null, dOut = dOutBuf.view();
  const dh = dhBuf.view(), dc = dcBuf?.view() ?? null, dhRaw = dhRawBuf?.view() ?? null;
  const dhAll = dhAllBuf?.view() ?? null, dhPrev = dhPrevBuf?.view() ?? null, dPeep = dPeepBuf?.view() ?? null;
  const wIh = w.weightIh.data, wHh = w.weightHh.data, wHr = w.weightHr?.data ?? null, peep = saved.peep?.view() ?? null;

  if (dOutput) copyTimeMajor(g, P, dOutput, dOut, true);
  if (dHn) dh.set(dHn);
  if (dc && dCn) dc.set(dCn);

  const whole = sw.hh !== null && !dhRaw && k.sequenceBackward?.(
    sequenceKind(kind), T, B, H, sw.hh, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep,
  );
  for (let s = whole ? -1 : T - 1; s >= 0; s--) {
    const gOff = s * B * GH, hPrev = s * B * P;
    k.axpy(B * P, 1, dOut, s * B * P, dh, 0);
    if (kind === 'lstm') {
      let dRaw = dh;
      if (dhRaw && dhAll) {
        dhAll.set(dh, s * B * P);
        stepGemm(k, sw.hr, false, B, H, P, dh, 0, wHr!, 0, dhRaw, 0);
        dRaw = dhRaw;
      }
      k.lstmBackward(B, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, dRaw, 0, dc!, 0, dGates, gOff, peep, 0, dPeep, 0);
      stepGemm(k, sw.hh, false, B, P, GH, dGates, gOff, wHh, 0, dh, 0);
    } else if (kind === 'gru') {
      k.gruBackward(B, H, gates, gOff, gh!, gOff, states, hPrev, dh, 0, dGates, gOff, dGh!, gOff, dhPrev!, 0);
      dh.set(dhPrev!);
      stepGemm(k, sw.hh, false, B, P, GH, dGh!, gOff, wHh, 1, dh, 0);
    } else {
      k.rnnBackward(B * H, kind === 'rnn_relu' ? 1 : 0, states, (s + 1) * B * P, dh, 0, dGates, gOff);
      stepGemm(k, sw.hh, false, B, P, GH, dGates, gOff, wHh, 0, dh, 0);
    }
  }

  const dHhGates = dGh ?? dGates;
  const dWih = dWihBuf?.view() ?? null, dWhh = dWhhBuf?.view() ?? null;
  const dBih = dBihBuf?.view() ?? null, dBhh = dBhhBuf?.view() ?? null;
  const dWhr = dWhrBuf?.view() ?? null, dxp = dxBuf?.view() ?? null;
  // Whole-sequence GEMMs: dW_ih = dGates^T x, dW_hh = dGates'^T [h0..h_{T-1}], dx = dGates W_ih.
  if (dWih && saved.oneHot) {
    const scratch = saved.oneHot.scratch.view();
    scratch.fill(0);
    scatterColumns(k, saved.oneHot.ids, dGates, GH, I, dWih, scratch);
  } else if (dWih) k.gemm(true, false, GH, I, rows, 1, dGates, 0, GH, x, 0, I, 0, dWih, 0, I);
  if (dWhh) k.gemm(true, false, GH, P, rows, 1, dHhGates, 0, GH, states, 0, P, 0, dWhh, 0, P);
  if (dBih) k.sumRows(rows, GH, dGates, 0, dBih, 0, false);
  // Except for GRU, b_hh enters exactly where b_ih does: the same sum, copied rather than redone.
  if (dBhh && dBih && dHhGates === dGates) dBhh.set(dBih);
  else if (dBhh) k.sumRows(rows, GH, dHhGates, 0, dBhh, 0, false);
  if (dWhr && dhAll && hRaw) k.gemm(true, false, P, H, rows, 1, dhAll, 0, P, hRaw, 0, H, 0, dWhr, 0, H);
  if (dxp) k.gemm(false, false, rows, I, GH, 1, dGates, 0, GH, wIh, 0, I, 0, dxp, 0, I);
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
 * one autograd node when gradients are needed.
 */
export function recurrentDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, reverse: boolean,
): DirectionResult {
  const [T, B, I] = x.shape as [number, number, number];
  const G = gateCount(kind);
  const H = w.weightIh.shape[0]! / G;
  const P = w.weightHr ? w.weightHr.shape[0]! : H;
  const g: Geometry = { kind, T, B, I, H, P, G, reverse };
  const dtype = x.dtype;
  const k = kernelsFor(dtype);
  const weightList = [w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);
  const inputs = [x, h0, ...(c0 ? [c0] : []), ...weightList];
  // Under noGrad (generation: one call per token) or with no input needing a gradient, no node.
  const records = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (T === 1 && !records && dtype === 'float32' && B <= PREPARED_STEP_MAX_BATCH && !w.weightHr && k.prepareStep && k.stepPrepared) {
    return preparedForward(k, g, x, h0, c0, w);
  }
  const ws = workspaceFor(k, dtype);
  // Every buffer is written in full before it is read (c0 absent: the first cell state is zeroed).
  const saved: Saved = {
    x: ws.take(T * B * I, false),
    gates: ws.take(T * B * G * H, false),
    gh: kind === 'gru' ? ws.take(T * B * G * H, false) : null,
    states: ws.take((T + 1) * B * P, false),
    cells: kind === 'lstm' ? ws.take((T + 1) * B * H, false) : null,
    hRaw: w.weightHr ? ws.take(T * B * H, false) : null,
    peep: w.peephole ? ws.take(3 * H, false) : null,
    oneHot: null,
  };
  if (saved.peep) w.peephole!.forEach((p, i) => saved.peep!.view().set(p.data, i * H));
  copyTimeMajor(g, I, x.data, saved.x.view(), true);
  const ids = oneHotRows(saved.x.view(), T * B, I);
  if (ids) saved.oneHot = { ids, scratch: ws.take(I * G * H, false) };
  saved.states.view().set(h0.data);
  if (saved.cells) {
    if (c0) saved.cells.view().set(c0.data);
    else saved.cells.view().fill(0, 0, B * H);
  }
  runForward(g, k, w, saved);

  const output = new Tensor(allocateArray(T * B * P, dtype), [T, B, P]);
  const statesView = saved.states.view();
  copyTimeMajor(g, P, statesView.subarray(B * P), output.data, false);
  const h = new Tensor(statesView.slice(T * B * P, (T + 1) * B * P), [B, P]);
  const c = saved.cells ? new Tensor(saved.cells.view().slice(T * B * H, (T + 1) * B * H), [B, H]) : null;

  if (!records) {
    ws.release();
    return { output, h, c };
  }

  // The three outputs share one node: each records the same backward, which fires once with the
  // gradients of all outputs gathered (see wireOutputs).
  const name = kind.toUpperCase();
  const backwardAll = (grads: (Tensor | null)[]): (Tensor | null)[] => {
    graph.checkUsable();
    const need: Needs = {
      x: x.requiresGrad, weightIh: w.weightIh.requiresGrad, weightHh: w.weightHh.requiresGrad,
      biasIh: w.biasIh?.requiresGrad ?? false, biasHh: w.biasHh?.requiresGrad ?? false, weightHr: w.weightHr?.requiresGrad ?? false,
    };
    // Backward temporaries come from a workspace of their own, so a retained graph keeps only what
    // its forward saved.
    const temp = workspaceFor(k, dtype);
    backwardTemps = temp;
    const r = runBackward(g, k, w, saved, temp, dtype, need, grads[0]?.data ?? null, grads[1]?.data ?? null, grads[2]?.data ?? null);
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
  // The backward reads x through its copy in the workspace, but the weights in place.
  const savedTensors = [x, ...weightList];
  const { result, joint } = wireOutputs(name, [output, h, ...(c ? [c] : [])], inputs, savedTensors, backwardAll, afterBackward, dtype);
  const graph = trackGraph(name, w.weightIh, ws, joint, c0 ? [x, h0, c0] : [x, h0]);
  return result;
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
function wireOutputs(
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

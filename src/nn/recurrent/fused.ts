/**
 * One recurrent layer in one direction as ONE autograd node (DESIGN decision 2).
 *
 * Forward: one GEMM projects the inputs of all time steps at once; then per step one GEMM adds the
 * recurrent term and one fused kernel applies the gate nonlinearities and the state update. What the
 * backward needs (gate activations, states) stays in a workspace allocated once per call in the
 * kernels' memory. Backward walks time in reverse with the fused gate-gradient kernel and one GEMM per
 * step for the recurrent gradient, then one GEMM each for the input-weight, recurrent-weight and input
 * gradients over all steps.
 *
 * Time runs in "processing order": for the reverse direction the input is copied reversed into the
 * workspace, so the core loop is the same for both directions.
 */
import { kernelsFor, type DType, type FloatArray, type KernelBuffer, type Kernels } from '../../kernels/index.js';
import { allocateArray, isGradEnabled, record, Tensor } from '../../tensor/index.js';

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
}

const timeOf = (g: Geometry, s: number): number => (g.reverse ? g.T - 1 - s : s);

/** Copies [T, B, width] rows between time order and processing order. */
function copyTimeMajor(g: Geometry, width: number, src: FloatArray, dst: FloatArray, toProcessing: boolean): void {
  const block = g.B * width;
  for (let s = 0; s < g.T; s++) {
    const t = timeOf(g, s);
    const [from, to] = toProcessing ? [t, s] : [s, t];
    dst.set(src.subarray(from * block, (from + 1) * block), to * block);
  }
}

class Workspace {
  private readonly buffers: KernelBuffer[] = [];
  constructor(private readonly kernels: Kernels, private readonly dtype: DType) {}
  take(length: number): KernelBuffer {
    const b = this.kernels.allocate(length, this.dtype);
    this.buffers.push(b);
    return b;
  }
  release(): void {
    for (const b of this.buffers.splice(0)) this.kernels.release(b);
  }
}

// Workspaces of graphs that are dropped without a backward pass are returned when collected.
const orphanedWorkspaces = new FinalizationRegistry<Workspace>((ws) => ws.release());

function runForward(g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved): void {
  const { T, B, I, H, P, G, kind } = g;
  const GH = G * H;
  const x = saved.x.view(), gates = saved.gates.view(), states = saved.states.view();
  const cells = saved.cells?.view() ?? null;
  const hRaw = saved.hRaw?.view() ?? null;
  const gh = saved.gh?.view() ?? null;
  const wIh = w.weightIh.data, wHh = w.weightHh.data;
  // All input projections in one GEMM: gates[T*B, GH] = x W_ih^T (+ biases).
  k.gemm(false, true, T * B, GH, I, 1, x, 0, I, wIh, 0, I, 0, gates, 0, GH);
  if (w.biasIh) k.addRowVector(T * B, GH, gates, 0, w.biasIh.data, 0);
  // b_hh folds into the projection except for GRU, whose n gate needs it inside r * (W_hn h + b_hn).
  if (w.biasHh && kind !== 'gru') k.addRowVector(T * B, GH, gates, 0, w.biasHh.data, 0);
  const peep = saved.peep?.view() ?? null;
  const wHr = w.weightHr?.data ?? null;
  const bHh = w.biasHh?.data ?? null;
  for (let s = 0; s < T; s++) {
    const gOff = s * B * GH, hPrev = s * B * P, hNext = (s + 1) * B * P;
    if (kind === 'gru') {
      k.gemm(false, true, B, GH, P, 1, states, hPrev, P, wHh, 0, P, 0, gh!, gOff, GH);
      if (bHh) k.addRowVector(B, GH, gh!, gOff, bHh, 0);
      k.gruForward(B, H, gates, gOff, gh!, gOff, states, hPrev, states, hNext);
      continue;
    }
    k.gemm(false, true, B, GH, P, 1, states, hPrev, P, wHh, 0, P, 1, gates, gOff, GH);
    if (kind === 'lstm') {
      const raw = hRaw ?? states;
      const rawOff = hRaw ? s * B * H : hNext;
      k.lstmForward(B, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, raw, rawOff, peep, 0);
      if (hRaw) k.gemm(false, true, B, P, H, 1, hRaw, rawOff, H, wHr!, 0, H, 0, states, hNext, P);
    } else {
      k.rnnForward(B * H, kind === 'rnn_relu' ? 1 : 0, gates, gOff);
      states.set(gates.subarray(gOff, gOff + B * H), hNext);
    }
  }
}

interface Gradients {
  x: FloatArray;
  h0: FloatArray;
  c0: FloatArray | null;
  weightIh: FloatArray;
  weightHh: FloatArray;
  biasIh: FloatArray | null;
  biasHh: FloatArray | null;
  weightHr: FloatArray | null;
  peephole: FloatArray | null;
}

function runBackward(
  g: Geometry, k: Kernels, w: DirectionWeights, saved: Saved, ws: Workspace, dtype: DType,
  dOutput: FloatArray | null, dHn: FloatArray | null, dCn: FloatArray | null,
): Gradients {
  const { T, B, I, H, P, G, kind } = g;
  const GH = G * H;
  const rows = T * B;
  // Allocate everything first: views taken afterwards stay valid through the loop.
  const dGatesBuf = ws.take(rows * GH);
  const dGhBuf = kind === 'gru' ? ws.take(rows * GH) : null;
  const dOutBuf = ws.take(rows * P);
  const dhBuf = ws.take(B * P);
  const dcBuf = kind === 'lstm' ? ws.take(B * H) : null;
  const dhRawBuf = w.weightHr ? ws.take(B * H) : null;
  const dhAllBuf = w.weightHr ? ws.take(rows * P) : null;
  const dhPrevBuf = kind === 'gru' ? ws.take(B * H) : null;
  const dPeepBuf = w.peephole ? ws.take(3 * H) : null;
  const dxBuf = ws.take(rows * I);
  // Weight gradients are computed in the workspace too: no kernel call here touches memory outside
  // the backend's, so no call can grow memory under the views taken below.
  const dWihBuf = ws.take(GH * I), dWhhBuf = ws.take(GH * P);
  const dBihBuf = w.biasIh ? ws.take(GH) : null, dBhhBuf = w.biasHh ? ws.take(GH) : null;
  const dWhrBuf = w.weightHr ? ws.take(P * H) : null;

  const x = saved.x.view(), gates = saved.gates.view(), states = saved.states.view();
  const cells = saved.cells?.view() ?? null, hRaw = saved.hRaw?.view() ?? null, gh = saved.gh?.view() ?? null;
  const dGates = dGatesBuf.view(), dGh = dGhBuf?.view() ?? null, dOut = dOutBuf.view();
  const dh = dhBuf.view(), dc = dcBuf?.view() ?? null, dhRaw = dhRawBuf?.view() ?? null;
  const dhAll = dhAllBuf?.view() ?? null, dhPrev = dhPrevBuf?.view() ?? null, dPeep = dPeepBuf?.view() ?? null;
  const wIh = w.weightIh.data, wHh = w.weightHh.data, wHr = w.weightHr?.data ?? null, peep = saved.peep?.view() ?? null;

  if (dOutput) copyTimeMajor(g, P, dOutput, dOut, true);
  if (dHn) dh.set(dHn);
  if (dc && dCn) dc.set(dCn);

  for (let s = T - 1; s >= 0; s--) {
    const gOff = s * B * GH, hPrev = s * B * P;
    k.axpy(B * P, 1, dOut, s * B * P, dh, 0);
    if (kind === 'lstm') {
      let dRaw = dh;
      if (dhRaw && dhAll) {
        dhAll.set(dh, s * B * P);
        k.gemm(false, false, B, H, P, 1, dh, 0, P, wHr!, 0, H, 0, dhRaw, 0, H);
        dRaw = dhRaw;
      }
      k.lstmBackward(B, H, gates, gOff, cells!, s * B * H, cells!, (s + 1) * B * H, dRaw, 0, dc!, 0, dGates, gOff, peep, 0, dPeep, 0);
      k.gemm(false, false, B, P, GH, 1, dGates, gOff, GH, wHh, 0, P, 0, dh, 0, P);
    } else if (kind === 'gru') {
      k.gruBackward(B, H, gates, gOff, gh!, gOff, states, hPrev, dh, 0, dGates, gOff, dGh!, gOff, dhPrev!, 0);
      dh.set(dhPrev!);
      k.gemm(false, false, B, P, GH, 1, dGh!, gOff, GH, wHh, 0, P, 1, dh, 0, P);
    } else {
      k.rnnBackward(B * H, kind === 'rnn_relu' ? 1 : 0, states, (s + 1) * B * P, dh, 0, dGates, gOff);
      k.gemm(false, false, B, P, GH, 1, dGates, gOff, GH, wHh, 0, P, 0, dh, 0, P);
    }
  }

  const dHhGates = dGh ?? dGates;
  const dWih = dWihBuf.view(), dWhh = dWhhBuf.view(), dBih = dBihBuf?.view() ?? null, dBhh = dBhhBuf?.view() ?? null;
  const dWhr = dWhrBuf?.view() ?? null, dxp = dxBuf.view();
  // Whole-sequence GEMMs: dW_ih = dGates^T x, dW_hh = dGates'^T [h0..h_{T-1}], dx = dGates W_ih.
  k.gemm(true, false, GH, I, rows, 1, dGates, 0, GH, x, 0, I, 0, dWih, 0, I);
  k.gemm(true, false, GH, P, rows, 1, dHhGates, 0, GH, states, 0, P, 0, dWhh, 0, P);
  if (dBih) k.sumRows(rows, GH, dGates, 0, dBih, 0, false);
  if (dBhh) k.sumRows(rows, GH, dHhGates, 0, dBhh, 0, false);
  if (dWhr && dhAll && hRaw) k.gemm(true, false, P, H, rows, 1, dhAll, 0, P, hRaw, 0, H, 0, dWhr, 0, H);
  k.gemm(false, false, rows, I, GH, 1, dGates, 0, GH, wIh, 0, I, 0, dxp, 0, I);
  const out: Gradients = {
    x: allocateArray(rows * I, dtype),
    h0: dh.slice(),
    c0: dc ? dc.slice() : null,
    weightIh: dWih.slice(),
    weightHh: dWhh.slice(),
    biasIh: dBih ? dBih.slice() : null,
    biasHh: dBhh ? dBhh.slice() : null,
    weightHr: dWhr ? dWhr.slice() : null,
    peephole: dPeep ? dPeep.slice() : null,
  };
  copyTimeMajor(g, I, dxp, out.x, false);
  return out;
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
  const ws = new Workspace(k, dtype);
  const saved: Saved = {
    x: ws.take(T * B * I),
    gates: ws.take(T * B * G * H),
    gh: kind === 'gru' ? ws.take(T * B * G * H) : null,
    states: ws.take((T + 1) * B * P),
    cells: kind === 'lstm' ? ws.take((T + 1) * B * H) : null,
    hRaw: w.weightHr ? ws.take(T * B * H) : null,
    peep: w.peephole ? ws.take(3 * H) : null,
  };
  if (saved.peep) w.peephole!.forEach((p, i) => saved.peep!.view().set(p.data, i * H));
  copyTimeMajor(g, I, x.data, saved.x.view(), true);
  saved.states.view().set(h0.data);
  if (saved.cells && c0) saved.cells.view().set(c0.data);
  runForward(g, k, w, saved);

  const output = new Tensor(allocateArray(T * B * P, dtype), [T, B, P]);
  const statesView = saved.states.view();
  copyTimeMajor(g, P, statesView.subarray(B * P), output.data, false);
  const h = new Tensor(statesView.slice(T * B * P, (T + 1) * B * P), [B, P]);
  const c = saved.cells ? new Tensor(saved.cells.view().slice(T * B * H, (T + 1) * B * H), [B, H]) : null;

  const weightList = [w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);
  const inputs = [x, h0, ...(c0 ? [c0] : []), ...weightList];
  const needsGrad = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (!needsGrad) {
    ws.release();
    return { output, h, c };
  }

  // The three outputs share one node: each records the same backward, which fires once with the
  // gradients of all outputs gathered (see the collector below).
  const token = {};
  let done = false;
  const backwardAll = (grads: (Tensor | null)[]): (Tensor | null)[] => {
    if (done) throw new Error(`${kind.toUpperCase()}: backward through the same recurrent call twice is not supported (its saved activations were freed)`);
    done = true;
    const r = runBackward(g, k, w, saved, ws, dtype, grads[0]?.data ?? null, grads[1]?.data ?? null, grads[2]?.data ?? null);
    orphanedWorkspaces.unregister(token);
    ws.release();
    const gradsByInput = [
      new Tensor(r.x, x.shape), new Tensor(r.h0, h0.shape), ...(c0 ? [new Tensor(r.c0!, c0.shape)] : []),
      new Tensor(r.weightIh, w.weightIh.shape), new Tensor(r.weightHh, w.weightHh.shape),
      ...(w.biasIh ? [new Tensor(r.biasIh!, w.biasIh.shape)] : []), ...(w.biasHh ? [new Tensor(r.biasHh!, w.biasHh.shape)] : []),
      ...(w.weightHr ? [new Tensor(r.weightHr!, w.weightHr.shape)] : []), ...(w.peephole ? w.peephole.map((p, i) => new Tensor(r.peephole!.slice(i * H, (i + 1) * H), p.shape)) : []),
    ];
    return gradsByInput;
  };
  const { result, joint } = wireOutputs(kind.toUpperCase(), [output, h, ...(c ? [c] : [])], inputs, backwardAll);
  // The joint tensor lives exactly as long as the graph that can still run this backward.
  orphanedWorkspaces.register(joint, ws, token);
  return result;
}

/**
 * Autograd sees single-output nodes. A recurrent call has up to three outputs (output, h, c), so we
 * record one node on a hidden "joint" tensor and give each output a cheap node that forwards its
 * gradient into the joint one; the joint node then runs the fused backward once with all of them.
 */
function wireOutputs(
  name: string, outputs: Tensor[], inputs: Tensor[], backwardAll: (grads: (Tensor | null)[]) => (Tensor | null)[],
): { result: DirectionResult; joint: Tensor } {
  const sizes = outputs.map((t) => t.size);
  const total = sizes.reduce((p, q) => p + q, 0);
  const dtype = outputs[0]!.dtype;
  const joint = record(new Tensor(allocateArray(total, dtype), [total]), {
    name, inputs,
    backward: (gJoint) => {
      let offset = 0;
      const grads = sizes.map((n, i) => {
        const part = new Tensor(gJoint.data.subarray(offset, offset + n), outputs[i]!.shape);
        offset += n;
        return part;
      });
      return backwardAll(grads);
    },
  });
  let offset = 0;
  const wired = outputs.map((t, i) => {
    const start = offset;
    offset += sizes[i]!;
    return record(t, {
      name: `${name}[${i}]`, inputs: [joint],
      backward: (g) => {
        const full = new Tensor(allocateArray(total, dtype), [total]);
        full.data.set(g.data, start);
        return [full];
      },
    });
  });
  return { result: { output: wired[0]!, h: wired[1]!, c: wired[2] ?? null }, joint };
}

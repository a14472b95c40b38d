/**
 * The recurrent cells written op by op from src/ops: the readable statement of the equations, the
 * reference the fused kernels are tested against (values and gradients), and a way to look at the
 * gates of each step.
 */
import { add, cat, linear, mul, narrow, relu, reshape, sigmoid, stack, sub, tanh } from '../../ops/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { CellKind, DirectionWeights } from './fused.js';

const gateSlice = (t: Tensor, index: number, hidden: number): Tensor => narrow(t, 1, index * hidden, hidden);

/** x W_ih^T + b_ih and h W_hh^T + b_hh. */
function projections(x: Tensor, h: Tensor, w: DirectionWeights): [Tensor, Tensor] {
  return [linear(x, w.weightIh, w.biasIh), linear(h, w.weightHh, w.biasHh)];
}

/** An RNN's nonlinearities. Parity note: tanh and relu are PyTorch's; sigmoid is our extension. */
export const RNN_NONLINEARITIES = ['tanh', 'relu', 'sigmoid'] as const;
export type RnnNonlinearity = (typeof RNN_NONLINEARITIES)[number];

export function rnnStep(x: Tensor, h: Tensor, w: DirectionWeights, activation: RnnNonlinearity): Tensor {
  const [gi, gh] = projections(x, h, w);
  const pre = add(gi, gh);
  return activation === 'tanh' ? tanh(pre) : activation === 'sigmoid' ? sigmoid(pre) : relu(pre);
}

/** The nonlinearity of an RNN cell kind. */
export const rnnNonlinearity = (kind: CellKind): RnnNonlinearity => (kind === 'rnn_relu' ? 'relu' : kind === 'rnn_sigmoid' ? 'sigmoid' : 'tanh');

export interface LstmGates {
  i: Tensor;
  f: Tensor;
  g: Tensor;
  o: Tensor;
}

export function lstmStep(x: Tensor, h: Tensor, c: Tensor, w: DirectionWeights): { h: Tensor; c: Tensor; gates: LstmGates } {
  const H = c.shape[1]!;
  const [gi, gh] = projections(x, h, w);
  const pre = add(gi, gh);
  const [wci, wcf, wco] = w.peephole ?? [null, null, null];
  const i = sigmoid(wci ? add(gateSlice(pre, 0, H), mul(c, wci)) : gateSlice(pre, 0, H));
  const f = sigmoid(wcf ? add(gateSlice(pre, 1, H), mul(c, wcf)) : gateSlice(pre, 1, H));
  const g = tanh(gateSlice(pre, 2, H));
  const cNext = add(mul(f, c), mul(i, g));
  const o = sigmoid(wco ? add(gateSlice(pre, 3, H), mul(cNext, wco)) : gateSlice(pre, 3, H));
  let hNext = mul(o, tanh(cNext));
  if (w.weightHr) hNext = linear(hNext, w.weightHr);
  return { h: hNext, c: cNext, gates: { i, f, g, o } };
}

export interface GruGates {
  r: Tensor;
  z: Tensor;
  n: Tensor;
}

/**
 * `linearBeforeReset` true is PyTorch's n = tanh(W_in x + b_in + r (W_hn h + b_hn)); false applies
 * the reset gate before the recurrent product, n = tanh(W_in x + b_in + W_hn (r h) + b_hn), the
 * default of ONNX (linear_before_reset = 0), TensorFlow and Keras (reset_after = False).
 */
export function gruStep(x: Tensor, h: Tensor, w: DirectionWeights, linearBeforeReset = true): { h: Tensor; gates: GruGates } {
  const H = h.shape[1]!;
  const [gi, gh] = projections(x, h, w);
  const r = sigmoid(add(gateSlice(gi, 0, H), gateSlice(gh, 0, H)));
  const z = sigmoid(add(gateSlice(gi, 1, H), gateSlice(gh, 1, H)));
  const recurrent = linearBeforeReset
    ? mul(r, gateSlice(gh, 2, H))
    : linear(mul(r, h), narrow(w.weightHh, 0, 2 * H, H), w.biasHh && narrow(w.biasHh, 0, 2 * H, H));
  const n = tanh(add(gateSlice(gi, 2, H), recurrent));
  // h' = (1 - z) * n + z * h  =  n + z * (h - n)
  return { h: add(n, mul(z, sub(h, n))), gates: { r, z, n } };
}

/**
 * One direction over x [T, B, I]; the same contract as the fused recurrentDirection. With
 * `batchSizes` (a packed sequence), x is the packed data [N, I]: each step updates only its first
 * batchSizes[t] rows of the state and leaves the others as they are.
 */
export function runDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, reverse: boolean,
  batchSizes: Int32Array | null = null, linearBeforeReset = true,
): { output: Tensor; h: Tensor; c: Tensor | null } {
  const T = batchSizes ? batchSizes.length : x.shape[0]!;
  const B = batchSizes ? batchSizes[0]! : x.shape[1]!;
  const I = x.shape[x.shape.length - 1]!;
  const firstRow = (t: number): number => (batchSizes ? batchSizes.subarray(0, t).reduce((a, n) => a + n, 0) : t * B);
  let h = h0, c = c0;
  const outputs = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const m = batchSizes ? batchSizes[t]! : B;
    const xt = batchSizes ? narrow(x, 0, firstRow(t), m) : reshape(narrow(x, 0, t, 1), [B, I]);
    // Rows m.. are not running at this step: they keep their state.
    const active = (state: Tensor): Tensor => (m === B ? state : narrow(state, 0, 0, m));
    const merge = (next: Tensor, state: Tensor): Tensor => (m === B ? next : cat([next, narrow(state, 0, m, B - m)], 0));
    let hNext: Tensor;
    if (kind === 'lstm') {
      const r = lstmStep(xt, active(h), active(c!), w);
      hNext = r.h;
      c = merge(r.c, c!);
    } else if (kind === 'gru') hNext = gruStep(xt, active(h), w, linearBeforeReset).h;
    else hNext = rnnStep(xt, active(h), w, rnnNonlinearity(kind));
    h = merge(hNext, h);
    outputs[t] = hNext;
  }
  return { output: batchSizes ? cat(outputs, 0) : stack(outputs, 0), h, c };
}

/**
 * The recurrent cells written op by op from src/ops: the readable statement of the equations, the
 * reference the fused kernels are tested against (values and gradients), and a way to look at the
 * gates of each step.
 */
import { add, linear, mul, narrow, relu, reshape, sigmoid, stack, sub, tanh } from '../../ops/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { CellKind, DirectionWeights } from './fused.js';

const gateSlice = (t: Tensor, index: number, hidden: number): Tensor => narrow(t, 1, index * hidden, hidden);

/** x W_ih^T + b_ih and h W_hh^T + b_hh. */
function projections(x: Tensor, h: Tensor, w: DirectionWeights): [Tensor, Tensor] {
  return [linear(x, w.weightIh, w.biasIh), linear(h, w.weightHh, w.biasHh)];
}

export function rnnStep(x: Tensor, h: Tensor, w: DirectionWeights, activation: 'tanh' | 'relu'): Tensor {
  const [gi, gh] = projections(x, h, w);
  const pre = add(gi, gh);
  return activation === 'tanh' ? tanh(pre) : relu(pre);
}

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

/** One direction over x [T, B, I]; the same contract as the fused recurrentDirection. */
export function runDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, reverse: boolean, linearBeforeReset = true,
): { output: Tensor; h: Tensor; c: Tensor | null } {
  const T = x.shape[0]!, B = x.shape[1]!, I = x.shape[2]!;
  let h = h0, c = c0;
  const outputs = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const xt = reshape(narrow(x, 0, t, 1), [B, I]);
    if (kind === 'lstm') {
      const r = lstmStep(xt, h, c!, w);
      h = r.h;
      c = r.c;
    } else if (kind === 'gru') h = gruStep(xt, h, w, linearBeforeReset).h;
    else h = rnnStep(xt, h, w, kind === 'rnn_relu' ? 'relu' : 'tanh');
    outputs[t] = h;
  }
  return { output: stack(outputs, 0), h, c };
}


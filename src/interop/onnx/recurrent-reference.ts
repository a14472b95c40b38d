/**
 * ONNX's RNN, LSTM and GRU equations for one direction, in float64, with everything the operators
 * allow that our fused kernels do not: any activation list, clip, input_forget, GRU with
 * linear_before_reset = 0, and per-sequence lengths (sequence_lens). Imported graphs run here only
 * when they use one of those; the ONNX conformance tests exercise both paths.
 *
 * Gates are in ONNX's order (LSTM i, o, f, c; GRU z, r, h). Past a sequence's length its outputs are
 * zero and its final state is the state at its last step.
 */
import type { Activation } from './activations.js';
import type { RecurrentOp } from './gates.js';

export interface ReferenceDirection {
  op: RecurrentOp;
  T: number;
  B: number;
  I: number;
  H: number;
  /** Time-major input [T, B, I]. */
  x: ArrayLike<number>;
  w: ArrayLike<number>; // [G*H, I]
  r: ArrayLike<number>; // [G*H, H]
  wb: ArrayLike<number> | null; // [G*H]
  rb: ArrayLike<number> | null; // [G*H]
  p: ArrayLike<number> | null; // [3H]: i, o, f
  h0: ArrayLike<number> | null; // [B, H]
  c0: ArrayLike<number> | null; // [B, H]
  lengths: readonly number[] | null;
  reverse: boolean;
  activations: Activation[];
  clip: number | undefined;
  inputForget: boolean;
  linearBeforeReset: boolean;
}

export function referenceDirection(a: ReferenceDirection): { y: Float64Array; h: Float64Array; c: Float64Array | null } {
  const { T, B, I, H, x, w, r } = a;
  const G = a.op === 'LSTM' ? 4 : a.op === 'GRU' ? 3 : 1;
  const y = new Float64Array(T * B * H);
  const h = new Float64Array(B * H);
  const c = a.op === 'LSTM' ? new Float64Array(B * H) : null;
  if (a.h0) h.set(Array.from(a.h0));
  if (c && a.c0) c.set(Array.from(a.c0));
  const clip = a.clip === undefined ? (v: number) => v : (v: number) => Math.min(Math.max(v, -a.clip!), a.clip!);
  const [f, g, hAct] = a.activations as [Activation, Activation, Activation];
  const gx = new Float64Array(G * H), gh = new Float64Array(G * H), next = new Float64Array(H), gated = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const length = a.lengths ? a.lengths[b]! : T;
    const hb = h.subarray(b * H, (b + 1) * H);
    const cb = c ? c.subarray(b * H, (b + 1) * H) : null;
    for (let s = 0; s < length; s++) {
      const t = a.reverse ? length - 1 - s : s;
      const xo = (t * B + b) * I;
      // The GRU's candidate with linear_before_reset = 0 needs r first: its recurrent row waits.
      const deferred = a.op === 'GRU' && !a.linearBeforeReset ? 2 : G;
      for (let row = 0; row < G * H; row++) {
        let sx = a.wb ? a.wb[row]! : 0;
        for (let k = 0; k < I; k++) sx += w[row * I + k]! * x[xo + k]!;
        gx[row] = sx;
        let sh = a.rb ? a.rb[row]! : 0;
        if (row < deferred * H) for (let k = 0; k < H; k++) sh += r[row * H + k]! * hb[k]!;
        gh[row] = sh;
      }
      if (a.op === 'RNN') {
        for (let j = 0; j < H; j++) next[j] = f(clip(gx[j]! + gh[j]!));
        hb.set(next);
      } else if (a.op === 'LSTM') {
        const p = a.p;
        for (let j = 0; j < H; j++) {
          const cPrev = cb![j]!;
          const i = f(clip(gx[j]! + gh[j]! + (p ? p[j]! * cPrev : 0)));
          const forget = a.inputForget ? 1 - i : f(clip(gx[2 * H + j]! + gh[2 * H + j]! + (p ? p[2 * H + j]! * cPrev : 0)));
          const candidate = g(clip(gx[3 * H + j]! + gh[3 * H + j]!));
          const cell = forget * cPrev + i * candidate;
          const o = f(clip(gx[H + j]! + gh[H + j]! + (p ? p[H + j]! * cell : 0)));
          cb![j] = cell;
          next[j] = o * hAct(cell);
        }
        hb.set(next);
      } else {
        for (let j = 0; j < H; j++) gated[j] = f(clip(gx[H + j]! + gh[H + j]!)); // r
        for (let j = 0; j < H; j++) {
          const z = f(clip(gx[j]! + gh[j]!));
          let recurrent: number;
          if (a.linearBeforeReset) recurrent = gated[j]! * gh[2 * H + j]!;
          else {
            recurrent = gh[2 * H + j]!;
            for (let k = 0; k < H; k++) recurrent += r[(2 * H + j) * H + k]! * gated[k]! * hb[k]!;
          }
          const candidate = g(clip(gx[2 * H + j]! + recurrent));
          next[j] = (1 - z) * candidate + z * hb[j]!;
        }
        hb.set(next);
      }
      y.set(hb, (t * B + b) * H);
    }
  }
  return { y, h, c };
}

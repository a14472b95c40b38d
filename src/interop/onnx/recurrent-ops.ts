/**
 * ONNX's RNN, LSTM and GRU operators. What our layers compute (PyTorch's activations, no clip, no
 * coupled gates, GRU with either linear_before_reset; whole sequences, or sequence_lens packed as
 * PyTorch packs variable lengths) runs on the fused kernels, one recurrentDirection call per
 * direction with the weights rearranged into PyTorch's gate order once per model; everything else
 * ONNX allows runs on the float64 reference (recurrent-reference.ts), and the README says why.
 */
import { recurrentDirection, type CellKind, type DirectionWeights } from '../../nn/index.js';
import { formatShape, noGrad, Tensor } from '../../tensor/index.js';
import { resolveActivations, type ResolvedActivation } from './activations.js';
import type { Attributes } from './attributes.js';
import { TORCH_FROM_ONNX, reorderBlocks, type RecurrentOp } from './gates.js';
import { required, transposeValue, type OpContext, type Operator } from './glue-ops.js';
import { referenceDirection } from './recurrent-reference.js';
import { isFloat, makeValue, type Value } from './values.js';

const GATES: Record<RecurrentOp, number> = { RNN: 1, LSTM: 4, GRU: 3 };
const DEFAULT_ACTIVATIONS: Record<RecurrentOp, string[]> = { RNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };
const INPUT_NAMES = ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'];

/** PyTorch-order weights of each direction, made once per set of weight tensors. */
const prepared = new WeakMap<Value, { key: (Value | null)[]; weights: DirectionWeights[] }>();

interface Parsed {
  op: RecurrentOp;
  T: number; B: number; I: number; H: number; D: number;
  layout: number;
  direction: string;
  x: Value; // time-major [T, B, I]
  w: Value; r: Value; bias: Value | null; p: Value | null;
  h0: Value | null; c0: Value | null; // [D, B, H]
  lengths: number[] | null;
  activations: ResolvedActivation[][]; // per direction
  clip: number | undefined;
  inputForget: boolean;
  linearBeforeReset: boolean;
}

function checkShapeOf(v: Value | null, want: number[], name: string, ctx: OpContext): void {
  if (v && (v.shape.length !== want.length || v.shape.some((d, i) => d !== want[i]))) {
    throw new Error(`${ctx.where}: ${name} must be ${formatShape(want)}, got ${formatShape(v.shape)}`);
  }
}

function parse(op: RecurrentOp, inputs: (Value | null)[], attrs: Attributes, ctx: OpContext): Parsed {
  const x0 = required(inputs, 0, ctx, 'X'), w = required(inputs, 1, ctx, 'W'), r = required(inputs, 2, ctx, 'R');
  inputs.forEach((v, i) => {
    if (v && i !== 4 && !isFloat(v.type)) throw new Error(`${ctx.where}: ${INPUT_NAMES[i]} must be a float tensor, got ${v.type}`);
    if (v && i !== 4 && v.type !== x0.type) throw new Error(`${ctx.where}: ${INPUT_NAMES[i]} is ${v.type} but X is ${x0.type}; they must match`);
  });
  const direction = attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) throw new Error(`${ctx.where}: direction must be forward, reverse or bidirectional, got '${direction}'`);
  const D = direction === 'bidirectional' ? 2 : 1;
  const layout = attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new Error(`${ctx.where}: layout must be 0 or 1, got ${layout}`);
  if (x0.shape.length !== 3) throw new Error(`${ctx.where}: X must be 3-D, got ${formatShape(x0.shape)}`);
  const [T, B, I] = (layout === 0 ? x0.shape : [x0.shape[1], x0.shape[0], x0.shape[2]]) as [number, number, number];
  const G = GATES[op];
  if (r.shape.length !== 3) throw new Error(`${ctx.where}: R must be 3-D [directions, ${G}*hidden, hidden], got ${formatShape(r.shape)}`);
  const H = attrs.has('hidden_size') ? attrs.int('hidden_size', 0) : r.shape[2]!;
  if (!(H > 0)) throw new Error(`${ctx.where}: hidden_size must be positive, got ${H}`);
  checkShapeOf(w, [D, G * H, I], 'W', ctx);
  checkShapeOf(r, [D, G * H, H], 'R', ctx);
  checkShapeOf(inputs[3] ?? null, [D, 2 * G * H], 'B', ctx);
  const stateShape = layout === 0 ? [D, B, H] : [B, D, H];
  checkShapeOf(inputs[5] ?? null, stateShape, 'initial_h', ctx);
  checkShapeOf(inputs[6] ?? null, stateShape, 'initial_c', ctx);
  checkShapeOf(inputs[7] ?? null, [D, 3 * H], 'P', ctx);
  let lengths: number[] | null = null;
  const seqLens = inputs[4];
  if (seqLens) {
    if (isFloat(seqLens.type)) throw new Error(`${ctx.where}: sequence_lens must be integers, got ${seqLens.type}`);
    checkShapeOf(seqLens, [B], 'sequence_lens', ctx);
    lengths = Array.from(seqLens.data);
    const bad = lengths.find((n) => !Number.isInteger(n) || n < 0 || n > T);
    if (bad !== undefined) throw new Error(`${ctx.where}: sequence_lens holds ${bad}, outside 0..${T} (the sequence length)`);
  }
  const perDirection = DEFAULT_ACTIVATIONS[op].length;
  let names = attrs.strings('activations') ?? DEFAULT_ACTIVATIONS[op];
  if (names.length === perDirection && D === 2) names = [...names, ...names];
  if (names.length !== perDirection * D) {
    throw new Error(`${ctx.where}: activations must list ${perDirection * D} functions (${perDirection} per direction), got ${names.length}`);
  }
  const resolved = resolveActivations(names, attrs.floats('activation_alpha') ?? [], attrs.floats('activation_beta') ?? [], ctx.where);
  const clip = attrs.float('clip');
  if (clip !== undefined && !(clip > 0)) throw new Error(`${ctx.where}: clip must be positive, got ${clip}`);
  const inputForget = op === 'LSTM' ? attrs.int('input_forget', 0) : 0;
  const linearBeforeReset = op === 'GRU' ? attrs.int('linear_before_reset', 0) : 1;
  for (const [name, v] of [['input_forget', inputForget], ['linear_before_reset', linearBeforeReset]] as const) {
    if (v !== 0 && v !== 1) throw new Error(`${ctx.where}: ${name} must be 0 or 1, got ${v}`);
  }
  const toTimeMajor = (v: Value | null): Value | null => (v && layout === 1 ? transposeValue(v, [1, 0, 2], ctx) : v);
  return {
    op, T, B, I, H, D, layout, direction,
    x: toTimeMajor(x0)!, w, r, bias: inputs[3] ?? null, p: inputs[7] ?? null,
    h0: toTimeMajor(inputs[5] ?? null), c0: toTimeMajor(inputs[6] ?? null),
    lengths,
    activations: [0, 1].slice(0, D).map((d) => resolved.slice(d * perDirection, (d + 1) * perDirection)),
    clip, inputForget: inputForget === 1, linearBeforeReset: linearBeforeReset === 1,
  };
}

/**
 * The fused kernel computing direction d of this node, or null when it needs the reference: the
 * kernels apply fixed nonlinearities inside the gate kernels, so `clip` (a clamp before every
 * activation, inside them), `input_forget` (a coupled forget gate) and the alpha/beta activations
 * are the reference's (README, "ONNX").
 */
function fusedKind(a: Parsed, d: number): CellKind | null {
  if (a.clip !== undefined || a.inputForget) return null;
  // Per-sequence lengths run packed, as PyTorch's packed sequences do; a batch where every length is
  // 0 has nothing to run.
  if (a.lengths && a.lengths.every((n) => n === 0)) return null;
  const list = a.activations[d]!;
  if (list.some((f) => f.parameterised)) return null;
  // Each direction is a call of its own, so a bidirectional node may mix activations.
  const names = list.map((f) => f.name).join(',');
  if (a.op === 'LSTM') return names === 'sigmoid,tanh,tanh' ? 'lstm' : null;
  if (a.op === 'GRU') return names === 'sigmoid,tanh' ? 'gru' : null;
  return names === 'tanh' ? 'rnn_tanh' : names === 'relu' ? 'rnn_relu' : names === 'sigmoid' ? 'rnn_sigmoid' : null;
}

function pytorchWeights(a: Parsed): DirectionWeights[] {
  const key = [a.r, a.bias, a.p];
  const kept = prepared.get(a.w);
  if (kept && kept.key.every((v, i) => v === key[i])) return kept.weights;
  const order = TORCH_FROM_ONNX[a.op];
  const G = order.length, H = a.H, I = a.I;
  const make = (length: number): Float32Array | Float64Array => (a.x.type === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const blocks = (source: Value, offset: number, rows: number, cols: number): Tensor => {
    const out = make(G * rows * cols);
    reorderBlocks(source.data, offset, order, rows * cols, out, 0);
    return new Tensor(out, cols === 1 ? [G * rows] : [G * rows, cols]);
  };
  const vector = (source: Value, offset: number): Tensor => new Tensor(source.data.slice(offset, offset + H), [H]);
  const weights = Array.from({ length: a.D }, (_, d): DirectionWeights => ({
    weightIh: blocks(a.w, d * G * H * I, H, I),
    weightHh: blocks(a.r, d * G * H * H, H, H),
    biasIh: a.bias ? blocks(a.bias, d * 2 * G * H, H, 1) : null,
    biasHh: a.bias ? blocks(a.bias, d * 2 * G * H + G * H, H, 1) : null,
    weightHr: null,
    // ONNX's P is i, o, f; our peephole weights are ci, cf, co.
    peephole: a.p ? [vector(a.p, d * 3 * H), vector(a.p, d * 3 * H + 2 * H), vector(a.p, d * 3 * H + H)] : null,
  }));
  prepared.set(a.w, { key, weights });
  return weights;
}

/** Drops the PyTorch-order copy made from these weights (OnnxModel.dispose). */
export function forgetPreparedWeights(w: Value): void {
  prepared.delete(w);
}

interface DirectionOutput { y: ArrayLike<number>; h: ArrayLike<number>; c: ArrayLike<number> | null }

function runDirection(a: Parsed, d: number, kind: CellKind | null): DirectionOutput {
  const { T, B, I, H } = a;
  const reverse = a.direction === 'reverse' || d === 1;
  const state = (v: Value | null): ArrayLike<number> | null => (v ? v.data.subarray(d * B * H, (d + 1) * B * H) : null);
  // No step or no sequence: nothing runs, the states stay the initial ones. (X [1e9, 0, I] holds no
  // data, so its length must not size a loop or a buffer.)
  if (T === 0 || B === 0) {
    const initial = (v: Value | null): ArrayLike<number> => state(v) ?? makeValue(a.x.type, [B, H]).data;
    return { y: [], h: initial(a.h0), c: a.op === 'LSTM' ? initial(a.c0) : null };
  }
  if (kind && a.lengths && a.lengths.some((n) => n !== a.T)) return packedDirection(a, d, kind, reverse);
  if (kind) {
    const w = pytorchWeights(a)[d]!;
    const stateTensor = (v: Value | null): Tensor => new Tensor(v ? v.data.slice(d * B * H, (d + 1) * B * H) : makeValue(a.x.type, [B, H]).data, [B, H]);
    const r = noGrad(() => recurrentDirection(kind, new Tensor(a.x.data, [T, B, I]), stateTensor(a.h0), kind === 'lstm' ? stateTensor(a.c0) : null, w, reverse, null, a.linearBeforeReset));
    return { y: r.output.data, h: r.h.data, c: r.c?.data ?? null };
  }
  const G = GATES[a.op];
  const bias = a.bias?.data.subarray(d * 2 * G * H, (d + 1) * 2 * G * H) ?? null;
  return referenceDirection({
    op: a.op, T, B, I, H, x: a.x.data,
    w: a.w.data.subarray(d * G * H * I, (d + 1) * G * H * I),
    r: a.r.data.subarray(d * G * H * H, (d + 1) * G * H * H),
    wb: bias ? bias.subarray(0, G * H) : null,
    rb: bias ? bias.subarray(G * H) : null,
    p: a.p ? a.p.data.subarray(d * 3 * H, (d + 1) * 3 * H) : null,
    h0: state(a.h0), c0: state(a.c0),
    lengths: a.lengths, reverse,
    activations: a.activations[d]!.map((f) => f.fn),
    clip: a.clip, inputForget: a.inputForget, linearBeforeReset: a.linearBeforeReset,
  });
}

/**
 * sequence_lens on the fused kernels: the batch sorted by length (longest first, ties in batch order)
 * and packed time step by time step, as PyTorch packs it; what the kernels return is scattered back
 * to the caller's rows. Past its length a sequence's outputs stay zero and its state is the one at
 * its last step (for reverse, at its first), ONNX's semantics; a length-0 sequence keeps its
 * initial state.
 */
function packedDirection(a: Parsed, d: number, kind: CellKind, reverse: boolean): DirectionOutput {
  const { T, B, I, H } = a;
  const lengths = a.lengths!;
  const order = Array.from({ length: B }, (_, b) => b).sort((p, q) => lengths[q]! - lengths[p]! || p - q);
  const running = order.filter((b) => lengths[b]! > 0);
  const steps = lengths[order[0]!]!;
  const batchSizes = Int32Array.from({ length: steps }, (_, t) => running.filter((b) => lengths[b]! > t).length);
  const rows = batchSizes.reduce((sum, n) => sum + n, 0);
  const type = a.x.type;
  const x = makeValue(type, [rows, I]).data;
  for (let t = 0, at = 0; t < steps; at += batchSizes[t]!, t++) {
    for (let k = 0; k < batchSizes[t]!; k++) x.set(a.x.data.subarray((t * B + running[k]!) * I, (t * B + running[k]! + 1) * I), (at + k) * I);
  }
  const sortedState = (v: Value | null): Tensor => {
    const out = makeValue(type, [running.length, H]).data;
    if (v) running.forEach((b, k) => out.set(v.data.subarray((d * B + b) * H, (d * B + b + 1) * H), k * H));
    return new Tensor(out, [running.length, H]);
  };
  const w = pytorchWeights(a)[d]!;
  const r = noGrad(() => recurrentDirection(kind, new Tensor(x, [rows, I]), sortedState(a.h0), kind === 'lstm' ? sortedState(a.c0) : null, w, reverse, batchSizes, a.linearBeforeReset));
  const y = makeValue(type, [T, B, H]).data;
  const out = r.output.data;
  for (let t = 0, at = 0; t < steps; at += batchSizes[t]!, t++) {
    for (let k = 0; k < batchSizes[t]!; k++) y.set(out.subarray((at + k) * H, (at + k + 1) * H), (t * B + running[k]!) * H);
  }
  // Final states in the caller's order; a length-0 sequence's is its initial state (zeros if none).
  const final = (result: Tensor | null, initial: Value | null): ArrayLike<number> => {
    const state = makeValue(type, [B, H]).data;
    if (initial) state.set(initial.data.subarray(d * B * H, (d + 1) * B * H));
    if (result) running.forEach((b, k) => state.set(result.data.subarray(k * H, (k + 1) * H), b * H));
    return state;
  };
  return { y, h: final(r.h, a.h0), c: kind === 'lstm' ? final(r.c, a.c0) : null };
}

function recurrentOperator(op: RecurrentOp): Operator {
  const extra = op === 'LSTM' ? ['input_forget'] : op === 'GRU' ? ['linear_before_reset'] : [];
  return {
    attributes: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout', ...extra],
    maxInputs: op === 'LSTM' ? 8 : 6,
    run(inputs, attrs, ctx) {
      const a = parse(op, inputs, attrs, ctx);
      const { T, B, H, D } = a;
      const results = Array.from({ length: D }, (_, d) => runDirection(a, d, fusedKind(a, d)));
      const type = a.x.type;
      // Y: [T, D, B, H] (layout 1: [B, T, D, H]); Y_h, Y_c: [D, B, H] (layout 1: [B, D, H]).
      const y = makeValue(type, a.layout === 0 ? [T, D, B, H] : [B, T, D, H]);
      const yh = makeValue(type, a.layout === 0 ? [D, B, H] : [B, D, H]);
      const yc = op === 'LSTM' ? makeValue(type, [...yh.shape]) : null;
      results.forEach((res, d) => {
        for (let t = 0; B > 0 && t < T; t++) {
          for (let b = 0; b < B; b++) {
            const at = a.layout === 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
            for (let j = 0; j < H; j++) y.data[at + j] = res.y[(t * B + b) * H + j]!;
          }
        }
        for (let b = 0; b < B; b++) {
          const at = a.layout === 0 ? (d * B + b) * H : (b * D + d) * H;
          for (let j = 0; j < H; j++) {
            yh.data[at + j] = res.h[b * H + j]!;
            if (yc) yc.data[at + j] = res.c![b * H + j]!;
          }
        }
      });
      return yc ? [y, yh, yc] : [y, yh];
    },
  };
}

export const RECURRENT_OPERATORS: Record<string, Operator> = {
  RNN: recurrentOperator('RNN'),
  LSTM: recurrentOperator('LSTM'),
  GRU: recurrentOperator('GRU'),
};

/**
 * Every gate and state of a recurrent layer over one sequence, step by step: the layer's own weights
 * run through the op-by-op reference cells (reference.ts), which hand back each gate. This is what
 * `recurrent inspect gates` draws and what the playground's cell view shows; both read it from here.
 * It is for looking, not training: weights are detached and the batch is one sequence.
 */
import { add, cat, mul, narrow, reshape } from '../../ops/index.js';
import { formatShape, noGrad, zeros, type Tensor } from '../../tensor/index.js';
import type { DirectionWeights } from './fused.js';
import { directionWeights } from './layout.js';
import { GRU, LSTM, RNN } from './layers.js';
import * as reference from './reference.js';

import type { RnnNonlinearity } from './reference.js';

export interface TraceOptions {
  nonlinearity?: RnnNonlinearity;
  /** GRU: PyTorch's candidate (true, the default) or ONNX's and Keras' other one. */
  linearBeforeReset?: boolean;
  /** Run from the last step to the first (a bidirectional layer's reverse direction). */
  reverse?: boolean;
  /**
   * Added to each step's h before the next step reads it: zero leaves that require gradients turn
   * their gradients into dLoss/dh_t (the playground's gradient-through-time view).
   */
  perturb?: readonly Tensor[];
}

/** One direction's signals per step, in time order: `signals.get('i')[t]` is i_t, [1, units]. */
export interface DirectionSteps {
  h: Tensor[];
  signals: Map<string, Tensor[]>;
}

/**
 * Runs one direction over `inputs` (one [1, features] tensor per step) from zero states. Signals:
 * LSTM i, f, g, o, c, h and, with peepholes, the terms they add to the gates' pre-activations
 * (peephole_i = w_ci ⊙ c_{t-1}, peephole_f = w_cf ⊙ c_{t-1}, peephole_o = w_co ⊙ c_t); GRU r, z, n, h;
 * RNN h. With a projection (projSize) h is the projected state.
 */
export function traceDirection(kind: 'rnn' | 'lstm' | 'gru', w: DirectionWeights, inputs: readonly Tensor[], options: TraceOptions = {}): DirectionSteps {
  const T = inputs.length;
  const hidden = w.weightHh.shape[0]! / (kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1);
  const outputSize = w.weightHh.shape[1]!;
  const dtype = w.weightHh.dtype;
  let h = zeros([1, outputSize], { dtype });
  let c = zeros([1, hidden], { dtype });
  const steps: DirectionSteps = { h: new Array<Tensor>(T), signals: new Map() };
  const record = (name: string, t: number, value: Tensor): void => {
    let list = steps.signals.get(name);
    if (!list) steps.signals.set(name, (list = new Array<Tensor>(T)));
    list[t] = value;
  };
  for (let s = 0; s < T; s++) {
    const t = options.reverse ? T - 1 - s : s;
    const x = inputs[t]!;
    if (kind === 'lstm') {
      const next = reference.lstmStep(x, h, c, w);
      for (const [name, gate] of Object.entries(next.gates)) record(name, t, gate);
      record('c', t, next.c);
      if (w.peephole) {
        const [wci, wcf, wco] = w.peephole;
        record('peephole_i', t, mul(c, wci));
        record('peephole_f', t, mul(c, wcf));
        record('peephole_o', t, mul(next.c, wco));
      }
      h = next.h;
      c = next.c;
    } else if (kind === 'gru') {
      const next = reference.gruStep(x, h, w, options.linearBeforeReset ?? true);
      for (const [name, gate] of Object.entries(next.gates)) record(name, t, gate);
      h = next.h;
    } else {
      h = reference.rnnStep(x, h, w, options.nonlinearity ?? 'tanh');
    }
    if (options.perturb) h = add(h, options.perturb[t]!);
    record('h', t, h);
    steps.h[t] = h;
  }
  return steps;
}

/** One signal of one layer and direction over time: `values[u * steps + t]` is unit u at step t. */
export interface GateSignal {
  name: string;
  units: number;
  steps: number;
  values: Float32Array;
  /** The range the nonlinearity confines it to (sigmoid [0, 1], tanh [-1, 1]); null when unbounded. */
  range: [number, number] | null;
}

export interface LayerGateTrace {
  layer: number;
  direction: 'forward' | 'reverse';
  signals: GateSignal[];
}

const SIGMOID: [number, number] = [0, 1];
const RNN_RANGES: Record<RnnNonlinearity, [number, number] | null> = { tanh: [-1, 1], sigmoid: SIGMOID, relu: null };
const TANH: [number, number] = [-1, 1];
const GATE_RANGES: Record<string, [number, number]> = { i: SIGMOID, f: SIGMOID, o: SIGMOID, r: SIGMOID, z: SIGMOID, g: TANH, n: TANH };

/** Rows = units, columns = time, from one [1, units] tensor per step. */
function unitsByTime(name: string, steps: readonly Tensor[], range: [number, number] | null): GateSignal {
  const T = steps.length;
  const units = steps[0]!.shape[1]!;
  const values = new Float32Array(units * T);
  steps.forEach((value, t) => {
    const d = value.data;
    for (let u = 0; u < units; u++) values[u * T + t] = d[u]!;
  });
  return { name, units, steps: T, values, range };
}

function kindOf(layer: RNN | LSTM | GRU): { kind: 'rnn' | 'lstm' | 'gru'; options: TraceOptions } {
  if (layer instanceof LSTM) return { kind: 'lstm', options: {} };
  if (layer instanceof GRU) return { kind: 'gru', options: { linearBeforeReset: layer.linearBeforeReset } };
  return { kind: 'rnn', options: { nonlinearity: layer.nonlinearity } };
}

/**
 * Every gate and state of every layer and direction of `layer` over `input` [steps, inputSize] (one
 * sequence, time first), from zero initial states, in evaluation mode (no dropout between layers).
 */
export function gateTrace(layer: RNN | LSTM | GRU, input: Tensor): LayerGateTrace[] {
  const name = layer.layerName;
  if (input.shape.length !== 2 || input.shape[1] !== layer.inputSize) {
    throw new Error(`gateTrace: input must be [steps, ${layer.inputSize}] (one sequence of ${name}'s inputs), got ${formatShape(input.shape)}`);
  }
  const T = input.shape[0]!;
  if (T === 0) throw new Error('gateTrace: input has no time steps');
  const { kind, options } = kindOf(layer);
  return noGrad(() => {
    const params = new Map([...layer.namedParameters()].map(([key, p]) => [key, p.detach()]));
    let inputs = Array.from({ length: T }, (_, t) => reshape(narrow(input, 0, t, 1), [1, layer.inputSize]));
    const traces: LayerGateTrace[] = [];
    const directions = layer.bidirectional ? 2 : 1;
    for (let l = 0; l < layer.numLayers; l++) {
      const outputs: DirectionSteps[] = [];
      for (let d = 0; d < directions; d++) {
        const w = directionWeights(params, `_l${l}${d === 1 ? '_reverse' : ''}`);
        const steps = traceDirection(kind, w, inputs, { ...options, reverse: d === 1 });
        outputs.push(steps);
        const signals = [...steps.signals].map(([signal, values]) => {
          const hRange = signal !== 'h' ? null : layer instanceof RNN ? RNN_RANGES[layer.nonlinearity] : kind === 'lstm' && !w.weightHr ? TANH : null;
          return unitsByTime(signal, values, GATE_RANGES[signal] ?? hRange);
        });
        traces.push({ layer: l, direction: d === 1 ? 'reverse' : 'forward', signals });
      }
      inputs = directions === 1
        ? outputs[0]!.h
        : outputs[0]!.h.map((h, t) => cat([h, outputs[1]!.h[t]!], 1));
    }
    return traces;
  });
}

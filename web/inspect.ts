/**
 * Looking inside a trained model: the recurrent stack re-run step by step through the op-by-op
 * reference cells (src/nn/recurrent/reference.ts), which hand back every gate, on the model's own
 * weights. Nothing here trains; it reads a SequenceModel from src/tasks.
 */
import '../src/ops/index.js';
import { linear, mul } from '../src/ops/index.js';
import { reference, type DirectionWeights } from '../src/nn/index.js';
import { directionWeights } from '../src/nn/recurrent/layout.js';
import { fromArray, noGrad, zeros, type Tensor } from '../src/tensor/index.js';
import type { SequenceModel } from '../src/tasks/index.js';
import type { Panel } from './protocol.js';

/** The weights of one layer (forward direction), detached so inspection never touches training gradients. */
function layerWeights(model: SequenceModel, layer: number): DirectionWeights {
  const detached = new Map([...model.rnn.namedParameters()].map(([name, param]) => [name, param.detach()]));
  return directionWeights(detached, `_l${layer}`);
}

/** Per time step of one layer: its output h, and (by name) every gate and state worth a heatmap. */
interface LayerTrace {
  h: Tensor[];
  signals: Map<string, Tensor[]>;
}

const SIGMOID = [0, 1] as [number, number];
const TANH = [-1, 1] as [number, number];
const RANGES: Record<string, [number, number] | null> = { i: SIGMOID, f: SIGMOID, o: SIGMOID, r: SIGMOID, z: SIGMOID, g: TANH, n: TANH, c: null, h: null };

/**
 * Runs one layer over `inputs` ([1, features] per step) from a zero state. `perturb`, when given,
 * is added to each step's h: a zero leaf whose gradient is then dLoss/dh_t.
 */
function traceLayer(model: SequenceModel, layer: number, inputs: Tensor[], perturb?: Tensor[]): LayerTrace {
  const w = layerWeights(model, layer);
  const hidden = model.config.hiddenSize;
  const cell = model.config.cell;
  let h = zeros([1, hidden]);
  let c = zeros([1, hidden]);
  const trace: LayerTrace = { h: [], signals: new Map() };
  const record = (name: string, value: Tensor): void => {
    const list = trace.signals.get(name) ?? [];
    list.push(value);
    trace.signals.set(name, list);
  };
  inputs.forEach((x, t) => {
    if (cell === 'lstm' || cell === 'peephole') {
      const next = reference.lstmStep(x, h, c, w);
      for (const [name, gate] of Object.entries(next.gates)) record(name, gate);
      record('c', next.c);
      if (w.peephole) {
        // What each peephole adds to its gate's pre-activation: i and f see c_{t-1}, o sees c_t.
        const [wci, wcf, wco] = w.peephole;
        record('pi', mul(c, wci));
        record('pf', mul(c, wcf));
        record('po', mul(next.c, wco));
      }
      h = next.h;
      c = next.c;
    } else if (cell === 'gru') {
      const next = reference.gruStep(x, h, w);
      for (const [name, gate] of Object.entries(next.gates)) record(name, gate);
      h = next.h;
    } else {
      h = reference.rnnStep(x, h, w, model.config.nonlinearity ?? 'tanh');
    }
    if (perturb) h = h.add(perturb[t]!);
    record('h', h);
    trace.h.push(h);
  });
  return trace;
}

/** The inputs of a dense single-feature model, one [1, 1] tensor per step. */
function stepInputs(values: ArrayLike<number>): Tensor[] {
  return Array.from({ length: values.length }, (_, t) => fromArray(Float32Array.of(values[t]!), [1, 1]));
}

/** Rows = units, columns = time, from one [1, hidden] tensor per step. */
function unitsByTime(steps: Tensor[], hidden: number): number[] {
  const out = new Array<number>(hidden * steps.length);
  steps.forEach((value, t) => {
    const d = value.data;
    for (let u = 0; u < hidden; u++) out[u * steps.length + t] = d[u]!;
  });
  return out;
}

export interface CellView {
  panels: Panel[];
  /** Largest |h| difference between these cells and the model's own (fused) forward, last layer. */
  referenceError: number;
}

/** Heatmaps of every gate and state of `layer` over a window of (z-scaled) inputs. */
export function cellView(model: SequenceModel, values: Float32Array, layer: number): CellView {
  const { hiddenSize, numLayers } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) throw new Error(`layer must be in [0, ${numLayers - 1}], received ${layer}`);
  model.eval();
  return noGrad(() => {
    let inputs = stepInputs(values);
    let shown: LayerTrace | null = null;
    let last: LayerTrace | null = null;
    for (let l = 0; l < numLayers; l++) {
      last = traceLayer(model, l, inputs);
      if (l === layer) shown = last;
      inputs = last.h;
    }
    const fused = model.features({ data: values, steps: values.length, batch: 1 }).features.data;
    let referenceError = 0;
    last!.h.forEach((h, t) => {
      const d = h.data;
      for (let u = 0; u < hiddenSize; u++) referenceError = Math.max(referenceError, Math.abs(d[u]! - fused[t * hiddenSize + u]!));
    });
    const panels = [...shown!.signals].map(([name, steps]) => ({ name, values: unitsByTime(steps, hiddenSize), range: RANGES[name] ?? null }));
    return { panels, referenceError };
  });
}

/**
 * ‖dLoss/dh_t‖ for every step t and layer, where the loss is the squared error of the prediction
 * after the last step (`target`, z-scale): how far back the last prediction still feels each state.
 * Returns one array of norms per layer.
 */
export function gradientNorms(model: SequenceModel, values: Float32Array, target: number): number[][] {
  const { hiddenSize, numLayers } = model.config;
  if (model.config.bidirectional) throw new Error('gradients through time: bidirectional models are not shown');
  let inputs = stepInputs(values);
  const leaves: Tensor[][] = [];
  for (let l = 0; l < numLayers; l++) {
    const perturb = inputs.map(() => zeros([1, hiddenSize], { requiresGrad: true }));
    leaves.push(perturb);
    inputs = traceLayer(model, l, inputs, perturb).h;
  }
  const last = inputs[inputs.length - 1]!;
  const prediction = linear(last, model.head.weight.detach(), model.head.bias?.detach() ?? null);
  const error = prediction.sub(fromArray(Float32Array.of(target), [1, 1]));
  error.mul(error).sum().backward();
  return leaves.map((perturb) =>
    perturb.map((leaf) => {
      const g = leaf.grad?.data;
      if (!g) return 0;
      let sum = 0;
      for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
      return Math.sqrt(sum);
    }),
  );
}

/**
 * The model's prediction of the next value after each step of `z` (z-scale), reading it from a zero
 * state as the cell view does: its output, plus the input for a model that predicts the change.
 */
export function nextValuePredictions(model: SequenceModel, z: Float32Array, target: 'level' | 'delta'): Float32Array {
  model.eval();
  const output = noGrad(() => model.forward({ data: z, steps: z.length, batch: 1 }).output.data);
  return Float32Array.from(z, (value, t) => output[t]! + (target === 'delta' ? value : 0));
}

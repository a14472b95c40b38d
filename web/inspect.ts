/**
 * Looking inside a trained model: the library's gate trace (src/nn/recurrent/gate-trace.ts, the
 * function `recurrent inspect gates` draws from) re-runs the recurrent stack step by step on the
 * model's own weights. Nothing here trains; it reads a SequenceModel from src/tasks.
 */
import '../src/ops/index.js';
import { linear } from '../src/ops/index.js';
import { gateTrace, traceDirection, type DirectionWeights } from '../src/nn/index.js';
import { directionWeights } from '../src/nn/recurrent/layout.js';
import { fromArray, noGrad, zeros, type Tensor } from '../src/tensor/index.js';
import type { SequenceModel } from '../src/tasks/index.js';
import type { Panel } from './protocol.js';

/** The weights of one layer (forward direction), detached so inspection never touches training gradients. */
function layerWeights(model: SequenceModel, layer: number): DirectionWeights {
  const detached = new Map([...model.rnn.namedParameters()].map(([name, param]) => [name, param.detach()]));
  return directionWeights(detached, `_l${layer}`);
}

/** The inputs of a dense single-feature model, one [1, 1] tensor per step. */
function stepInputs(values: ArrayLike<number>): Tensor[] {
  return Array.from({ length: values.length }, (_, t) => fromArray(Float32Array.of(values[t]!), [1, 1]));
}

const cellKind = (model: SequenceModel): 'rnn' | 'lstm' | 'gru' => (model.config.cell === 'peephole' ? 'lstm' : model.config.cell);

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
    const traces = gateTrace(model.rnn, fromArray(Float32Array.from(values), [values.length, 1]));
    const shown = traces.find((t) => t.layer === layer && t.direction === 'forward')!;
    const lastH = traces.find((t) => t.layer === numLayers - 1 && t.direction === 'forward')!.signals.find((s) => s.name === 'h')!;
    const fused = model.features({ data: values, steps: values.length, batch: 1 }).features.data;
    let referenceError = 0;
    for (let t = 0; t < values.length; t++) {
      for (let u = 0; u < hiddenSize; u++) referenceError = Math.max(referenceError, Math.abs(lastH.values[u * values.length + t]! - fused[t * hiddenSize + u]!));
    }
    const panels = shown.signals.map((s) => ({ name: s.name, values: Array.from(s.values), range: s.range }));
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
    inputs = traceDirection(cellKind(model), layerWeights(model, l), inputs, { perturb, nonlinearity: model.config.nonlinearity ?? 'tanh' }).h;
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

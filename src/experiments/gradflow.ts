/**
 * `recurrent experiment gradflow`: the norm of dLoss/dh_t at every step t of one long adding-problem
 * sequence, the loss being read at the last step only, for RNN, LSTM and GRU at initialisation and
 * after training. How fast it falls with the distance T - t is the vanishing gradient.
 *
 * The layer runs one step per call with the state carried (the same fused kernel, one autograd node
 * per step), because the whole-sequence node computes dLoss/dh_t internally but does not expose it;
 * each step's h passes through a gradient tap.
 */
import { mseLoss } from '../nn/index.js';
import { narrow, reshape } from '../ops/index.js';
import { Generator, type Tensor } from '../tensor/index.js';
import { addingBatch } from './adding-data.js';
import { runAddingModel, type AddingOptions } from './adding.js';
import { checkInteger, withDefaults } from './options.js';
import { gradientNormTap } from './gradient-tap.js';
import { LastStepRegressor, hiddenForBudget, type ExperimentCell, type RecurrentState } from './models.js';
import { deriveSeed } from './seeds.js';

export interface GradflowOptions {
  cells?: readonly ExperimentCell[];
  /** Length of the measured sequence (default 1000). */
  length?: number;
  /** Sequences averaged in the measurement. */
  batch?: number;
  seed?: number;
  parameters?: number;
  /** Training before the second measurement: the adding problem at this length for this many steps (0: none). */
  trainLength?: number;
  trainSteps?: number;
  lr?: number;
}

export const GRADFLOW_DEFAULTS = {
  cells: ['rnn', 'lstm', 'gru'] as readonly ExperimentCell[],
  length: 1000,
  batch: 16,
  seed: 0,
  parameters: 4500,
  trainLength: 100,
  trainSteps: 2000,
  lr: 0.01,
};

export interface GradflowCurve {
  cell: string;
  stage: 'initialisation' | 'trained';
  /** norms[t] = ‖dLoss/dh_t‖ over the batch (Frobenius), t = 0 .. length-1; the loss reads h at length-1. */
  norms: number[];
  /** log10(norm at the last step / norm at the first step): how many orders of magnitude are lost. */
  decadesLost: number;
  /** Validation MSE of the trained model on the adding problem (trained stage only). */
  trainedMse?: number;
}

export interface GradflowResult {
  options: Required<GradflowOptions>;
  curves: GradflowCurve[];
}

/** ‖dLoss/dh_t‖ for every t of `inputs` [length, batch, 2], the loss being the MSE at the last step. */
export function gradientNorms(model: LastStepRegressor, inputs: Tensor, targets: Tensor): number[] {
  const [length, batch] = inputs.shape as [number, number, number];
  const norms = new Array<number>(length).fill(0);
  let state: RecurrentState | undefined;
  let h: Tensor | null = null;
  for (let t = 0; t < length; t++) {
    const [, next] = model.step(narrow(inputs, 0, t, 1), state);
    const step = t;
    const tap = (x: Tensor) => gradientNormTap(x, (norm) => { norms[step] = norm; });
    if (Array.isArray(next)) {
      h = tap(next[0]);
      state = [h, next[1]];
    } else {
      h = tap(next);
      state = h;
    }
  }
  const prediction = model.head.forward(reshape(h!, [batch, model.hiddenSize]));
  mseLoss(prediction, targets).backward();
  model.zeroGrad();
  return norms;
}

function decadesLost(norms: readonly number[]): number {
  const first = norms[0]!;
  const last = norms[norms.length - 1]!;
  // A gradient that underflowed to zero has lost more than float32 can show.
  return first > 0 ? Math.log10(last / first) : Math.log10(last / 1e-45);
}

export function gradflowExperiment(options: GradflowOptions = {}): GradflowResult {
  const o = withDefaults(GRADFLOW_DEFAULTS, options) as Required<GradflowOptions>;
  const where = 'experiment gradflow';
  checkInteger(where, 'length', o.length, 2);
  checkInteger(where, 'batch', o.batch);
  checkInteger(where, 'seed', o.seed, 0);
  checkInteger(where, 'parameters', o.parameters);
  checkInteger(where, 'trainLength', o.trainLength, 2);
  checkInteger(where, 'trainSteps', o.trainSteps, 0);
  const probe = addingBatch(o.length, o.batch, new Generator(deriveSeed(o.seed, 'gradflow-probe')));
  const curves: GradflowCurve[] = [];
  for (const cell of o.cells) {
    const hidden = hiddenForBudget(cell, 2, 1, o.parameters);
    const model = new LastStepRegressor(cell, 2, hidden, 1, new Generator(deriveSeed(o.seed, 'weights')));
    try {
      const initial = gradientNorms(model, probe.inputs, probe.targets);
      curves.push({ cell, stage: 'initialisation', norms: initial, decadesLost: decadesLost(initial) });
      if (o.trainSteps > 0) {
        const adding: AddingOptions = { steps: o.trainSteps, lr: o.lr, seed: o.seed };
        const run = runAddingModel(model, o.trainLength, o.seed, adding);
        const trained = gradientNorms(model, probe.inputs, probe.targets);
        curves.push({ cell, stage: 'trained', norms: trained, decadesLost: decadesLost(trained), trainedMse: run.testMse });
      }
    } finally {
      model.dispose();
    }
  }
  return { options: o, curves };
}

/**
 * The models the experiments compare: one recurrent layer read at its last step by a linear head,
 * sized so that every kind has about the same number of parameters (the claims are about the cell,
 * not about one cell getting more weights).
 */
import { GRU, LSTM, Linear, Module, RNN } from '../nn/index.js';
import { reshape } from '../ops/index.js';
import type { Generator, Tensor } from '../tensor/index.js';

export type RecurrentState = Tensor | [Tensor, Tensor];

/** rnn is the tanh RNN; rnn-sigmoid uses our extension of PyTorch's nonlinearities. */
export const EXPERIMENT_CELLS = ['rnn', 'rnn-relu', 'rnn-sigmoid', 'lstm', 'gru', 'peephole'] as const;
export type ExperimentCell = (typeof EXPERIMENT_CELLS)[number];

/** Weight blocks per hidden unit: one for an RNN, three for a GRU, four for an LSTM. */
function gateBlocks(cell: ExperimentCell): number {
  return cell === 'lstm' || cell === 'peephole' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Parameters of the recurrent layer (PyTorch's two biases per block) plus the head. */
export function parameterCount(cell: ExperimentCell, inputSize: number, hidden: number, outputSize: number): number {
  const layer = gateBlocks(cell) * hidden * (inputSize + hidden + 2) + (cell === 'peephole' ? 3 * hidden : 0);
  return layer + (hidden + 1) * outputSize;
}

/** The hidden size whose parameter count comes closest to `budget`. */
export function hiddenForBudget(cell: ExperimentCell, inputSize: number, outputSize: number, budget: number): number {
  let best = 1;
  for (let h = 1; parameterCount(cell, inputSize, h, outputSize) <= 4 * budget; h++) {
    const gap = Math.abs(parameterCount(cell, inputSize, h, outputSize) - budget);
    if (gap < Math.abs(parameterCount(cell, inputSize, best, outputSize) - budget)) best = h;
  }
  return best;
}

export function makeLayer(cell: ExperimentCell, inputSize: number, hiddenSize: number, generator: Generator): RNN | LSTM | GRU {
  const options = { inputSize, hiddenSize, generator };
  switch (cell) {
    case 'rnn': return new RNN({ ...options, nonlinearity: 'tanh' });
    case 'rnn-relu': return new RNN({ ...options, nonlinearity: 'relu' });
    case 'rnn-sigmoid': return new RNN({ ...options, nonlinearity: 'sigmoid' });
    case 'gru': return new GRU(options);
    case 'lstm': return new LSTM(options);
    case 'peephole': return new LSTM({ ...options, peephole: true });
  }
}

/** What the training loop needs of a model: a prediction per sequence from [steps, batch, input]. */
export interface SequenceRegressor extends Module {
  readonly cell: string;
  readonly hiddenSize: number;
  predict(inputs: Tensor): Tensor;
}

/** A recurrent layer whose last hidden state feeds a linear head: [steps, batch, in] → [batch, out]. */
export class LastStepRegressor extends Module implements SequenceRegressor {
  readonly layer: RNN | LSTM | GRU;
  readonly head: Linear;

  constructor(readonly cell: ExperimentCell, inputSize: number, readonly hiddenSize: number, outputSize: number, generator: Generator) {
    super();
    this.layer = this.registerModule('rnn', makeLayer(cell, inputSize, hiddenSize, generator));
    this.head = this.registerModule('head', new Linear(hiddenSize, outputSize, { generator }));
  }

  predict(inputs: Tensor): Tensor {
    const [, state] = this.step(inputs);
    const h = Array.isArray(state) ? state[0] : state;
    return this.head.forward(reshape(h, [h.shape[1]!, this.hiddenSize]));
  }

  /** The layer on [steps, batch, in] from a state (zeros when absent): its outputs and final state. */
  step(inputs: Tensor, state?: RecurrentState): [Tensor, RecurrentState] {
    // The three layers' overloads differ only in the state's type, which RecurrentState covers.
    const forward = this.layer.forward.bind(this.layer) as (x: Tensor, s?: RecurrentState) => [Tensor, RecurrentState];
    return forward(inputs, state);
  }
}

/** The same layer and head read at every step: [steps, batch, in] → [steps, batch, out]. */
export class EveryStepRegressor extends LastStepRegressor {
  override predict(inputs: Tensor): Tensor {
    const [outputs] = this.step(inputs);
    return this.head.forward(outputs);
  }
}

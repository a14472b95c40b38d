/**
 * The RNN against the LSTM on a long-lag task: both with the same parameter budget, measured and
 * trained by `recurrent experiment gradflow`'s own code (src/experiments), at sizes the page runs in
 * some seconds. The curves are ‖dLoss/dh_t‖ over one long adding-problem sequence, the loss read at
 * its last step, at initialisation and after training on shorter sequences.
 */
import { gradflowExperiment, hiddenForBudget, parameterCount, type GradflowCurve } from '../src/experiments/index.js';

export const COMPARISON = {
  cells: ['rnn', 'lstm'] as const,
  /** The measured sequence, the training sequences, training steps and the shared parameter budget. */
  length: 200,
  batch: 8,
  trainLength: 50,
  /** At most: training stops once the adding problem is solved (src/experiments' criterion). */
  trainSteps: 1000,
  parameters: 2000,
  seed: 0,
};

export interface ComparedCell {
  cell: string;
  hidden: number;
  parameters: number;
  curves: GradflowCurve[];
}

/** One cell's two curves (the adding problem's inputs are 2 wide, its output 1). */
export function compareCell(cell: (typeof COMPARISON.cells)[number]): ComparedCell {
  const { length, batch, trainLength, trainSteps, parameters, seed } = COMPARISON;
  const hidden = hiddenForBudget(cell, 2, 1, parameters);
  const { curves } = gradflowExperiment({ cells: [cell], length, batch, trainLength, trainSteps, parameters, seed });
  return { cell, hidden, parameters: parameterCount(cell, 2, hidden, 1), curves };
}

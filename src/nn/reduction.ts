/** What every loss shares: PyTorch's reductions and the same-shape check of input and target. */
import { mean, sum } from '../ops/index.js';
import { formatShape, type Tensor } from '../tensor/index.js';
import { checkTensorInput, oneOf } from './checks.js';

export type Reduction = 'mean' | 'sum' | 'none';
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  oneOf('loss', 'reduction', reduction, REDUCTIONS);
  return reduction === 'mean' ? mean(loss) : reduction === 'sum' ? sum(loss) : loss;
}

export function checkSameShape(where: string, input: Tensor, target: Tensor): void {
  checkTensorInput(where, input, 'of any shape');
  checkTensorInput(where, target, `of the input's shape ${formatShape(input.shape)}`, 'target');
  if (input.shape.length !== target.shape.length || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`${where}: target must have the input's shape ${formatShape(input.shape)}, got ${formatShape(target.shape)}`);
  }
}

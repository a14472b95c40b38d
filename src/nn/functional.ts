/** PyTorch's torch.nn.functional names that an RNN program uses, in one namespace (`nn.functional.relu`). */
import { embedding as lookUp } from '../ops/index.js';
import { knownOptions, Tensor } from '../tensor/index.js';
import { checkTensorInput, paddingRow } from './checks.js';

export { relu, tanh, sigmoid, softmax, logSoftmax, linear } from '../ops/index.js';
export { dropout } from './layers.js';
export { mseLoss, l1Loss, huberLoss, klDiv, crossEntropy, nllLoss, bceWithLogits, binaryCrossEntropy } from './losses.js';

/**
 * PyTorch's F.embedding(input, weight, padding_idx): the indices first, then the table [num, dim];
 * the result is [...input's shape, dim], and the row at paddingIdx (negative counts from the end)
 * gets no gradient.
 */
export function embedding(input: Tensor | Int32Array | readonly number[], weight: Tensor, options: { paddingIdx?: number | null } = {}): Tensor {
  const { paddingIdx = null } = knownOptions('embedding', options, ['paddingIdx']);
  checkTensorInput('embedding', weight, '[num, dim]', 'weight');
  if (weight.shape.length !== 2) throw new Error(`embedding: weight must be [num, dim] (input comes first, as in PyTorch), got a weight of rank ${weight.shape.length}`);
  const shape = input instanceof Tensor ? input.shape : [input.length];
  return lookUp(weight, input, shape, paddingRow('embedding', paddingIdx, weight.shape[0]!));
}

/** PyTorch's torch.nn.functional names that an RNN program uses, in one namespace (`nn.functional.relu`). */
export { relu, tanh, sigmoid, softmax, logSoftmax, linear, embedding } from '../ops/index.js';
export { dropout } from './layers.js';
export { mseLoss, l1Loss, huberLoss, klDiv, crossEntropy, nllLoss, bceWithLogits, binaryCrossEntropy } from './losses.js';

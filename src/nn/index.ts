export { Module, Parameter } from './module.js';
export { ModuleList, ModuleDict } from './containers.js';
export { Linear, Embedding, Dropout, Sequential, dropout, type LinearOptions, type EmbeddingOptions, type DropoutOptions } from './layers.js';
export {
  mseLoss, l1Loss, huberLoss, klDiv, crossEntropy, nllLoss, bceWithLogits, binaryCrossEntropy,
  type Reduction, type BceWithLogitsOptions, type BinaryCrossEntropyOptions, type KLReduction, type ClassLossOptions, type CrossEntropyOptions,
} from './losses.js';
export { MSELoss, L1Loss, BCEWithLogitsLoss, BCELoss, HuberLoss, KLDivLoss, CrossEntropyLoss, NLLLoss } from './loss-modules.js';
export { Tanh, Sigmoid, ReLU, Softmax, LogSoftmax } from './activations.js';
export * as init from './init.js';
export * as utils from './utils.js';
export * from './recurrent/index.js';
export * as functional from './functional.js';

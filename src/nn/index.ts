export { Module, Parameter } from './module.js';
export { Linear, Embedding, Dropout, Sequential, dropout, type LinearOptions, type EmbeddingOptions, type DropoutOptions } from './layers.js';
export { mseLoss, crossEntropy, nllLoss, bceWithLogits, type Reduction, type ClassLossOptions } from './losses.js';
export * as init from './init.js';
export * from './recurrent/index.js';

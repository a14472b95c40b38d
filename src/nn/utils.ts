/** nn.utils as in PyTorch: `nn.utils.rnn` for variable-length batches. */
export * as rnn from './recurrent/packed.js';

import type { RnnActivation } from '../contract.js';

/** An RNN's nonlinearity (numbered as its SequenceKind: 0 tanh, 1 relu, 4 sigmoid) of one value. */
export function rnnActivation(v: number, activation: RnnActivation): number {
  return activation === 0 ? Math.tanh(v) : activation === 4 ? 1 / (1 + Math.exp(-v)) : v > 0 ? v : 0;
}

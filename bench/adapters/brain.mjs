// brain.js 2.0 (beta) where it can express the workload. It trains one sequence at a time with its own
// update (RMSprop-style with per-element clipping) and has no batches, no Adam/SGD choice and no
// tanh RNN, so its figures are equivalents: a step's worth of sequences (batch × one sequence), timed
// one sequence per unit. What differs from the workload is said in each cell's note.
import { createRequire } from 'node:module';
import { generator, makeBatch } from '../data.mjs';
import { WORKLOADS } from '../workloads.mjs';

const require = createRequire(import.meta.url);
const brain = require('brain.js');

export async function info() {
  return { backend: 'js', version: require('brain.js/package.json').version };
}

/** Cycles through the batch's sequences, one per call. */
function cycle(items, fn) {
  let i = 0;
  return () => fn(items[i++ % items.length]);
}

/** x[t, b, :] of a time-major batch as one Float32Array per time step of sequence b. */
const sequence = (data, T, B, F, b) => Array.from({ length: T }, (_, t) => data.slice((t * B + b) * F, (t * B + b + 1) * F));

/**
 * One training pass of a time-step net on separate inputs and targets (its trainPattern takes the
 * next input as the target, which needs inputSize = outputSize): the same equations trainPattern
 * runs, forward on every step, backpropagation through time, then its weight update.
 */
function trainSequence(net, xs, ys) {
  const { equations } = net.model;
  while (equations.length < xs.length) net.bindEquation();
  for (let t = 0; t < xs.length; t++) equations[t].predictTarget(xs[t], ys[t]);
  net.backpropagate();
  net.adjustWeights();
}

export async function setup(id) {
  const w = WORKLOADS[id];
  switch (id) {
    case 'W1': {
      const { inputIds } = makeBatch(id);
      const net = new brain.recurrent.LSTM({ inputSize: w.vocab, inputRange: w.vocab, hiddenLayers: Array(w.layers).fill(w.hidden), outputSize: w.vocab });
      net.initialize();
      const streams = Array.from({ length: w.batch }, (_, b) => Array.from({ length: w.seq }, (_, t) => inputIds[t * w.batch + b]));
      return {
        unit: cycle(streams, (s) => net.trainPattern(s)), unitsPerStep: w.batch,
        note: 'one sequence at a time, its own update; 65-wide input embedding instead of one-hot',
      };
    }
    case 'W2': {
      const { wave } = makeBatch(id);
      const net = new brain.recurrent.RNNTimeStep({ inputSize: 1, hiddenLayers: [w.hidden], outputSize: 1 });
      net.initialize();
      const input = Array.from(wave, (v) => Float32Array.of(v));
      return { unit: () => net.trainPattern(input), note: 'ReLU RNN (no tanh option), its own update' };
    }
    case 'W3':
    case 'W5': {
      const { x, y } = makeBatch(id);
      const gru = id === 'W3';
      const Net = gru ? brain.recurrent.GRUTimeStep : brain.recurrent.LSTMTimeStep;
      // W5 has no output layer; brain.js needs one, so it gets the smallest (1 unit).
      const net = new Net({ inputSize: w.input, hiddenLayers: [w.hidden], outputSize: 1 });
      net.initialize();
      const targetWidth = gru ? 1 : w.hidden;
      const pairs = Array.from({ length: w.batch }, (_, b) => ({
        xs: sequence(x, w.seq, w.batch, w.input, b),
        ys: sequence(y, w.seq, w.batch, targetWidth, b).map((v) => v.subarray(0, 1)),
      }));
      return {
        unit: cycle(pairs, ({ xs, ys }) => trainSequence(net, xs, ys)), unitsPerStep: w.batch,
        note: gru ? 'one sequence at a time, its own update' : 'one sequence at a time, its own update, a 1-unit output layer',
      };
    }
    case 'W4': {
      const net = new brain.recurrent.LSTM({ inputSize: w.vocab, inputRange: w.vocab, hiddenLayers: Array(w.layers).fill(w.hidden), outputSize: w.vocab });
      net.initialize();
      const { model } = net;
      let position = 0;
      // net.run() stops at its end token; this is its loop without the stop, so every run is 1000 tokens.
      // Index 0 is brain.js's start/end token, so token k is row k + 1.
      return {
        unit: generator((token, fresh) => {
          if (fresh) position = 0;
          while (model.equations.length <= position) net.bindEquation();
          const out = model.equations[position].runIndex(position === 0 ? 0 : token + 1);
          position++;
          return out.weights.subarray(1);
        }),
        note: 'net.run()\'s loop without its end-token stop; 65-wide input embedding instead of one-hot',
      };
    }
    default:
      throw new Error(`brain.js adapter: unknown workload ${id}`);
  }
}

// The reference workloads, shared by every library's adapter, the runner and the report, so that
// a shape or a FLOP count is written once. One "step" = forward + backward + optimizer update on one
// batch; W4 counts generated tokens instead. Sequences are time-major [seq, batch, features] here
// (PyTorch's default); adapters of batch-major libraries transpose once at set-up, never per step.

export const WORKLOADS = {
  W1: {
    title: 'char-rnn training',
    what: 'LSTM(65 one-hot, 256, 2 layers) + Linear(256→65) + cross-entropy, batch 32, seq 64, Adam, clipGradNorm 5',
    vocab: 65, hidden: 256, layers: 2, batch: 32, seq: 64, lr: 0.002, clip: 5,
    unit: 'tok/s', perStep: 32 * 64, // tokens per step
  },
  W2: {
    title: 'sine training',
    what: 'RNN(1, 32, tanh) + Linear(32→1) on every step, MSE, batch 1, seq 20, Adam lr 0.01',
    input: 1, hidden: 32, batch: 1, seq: 20, lr: 0.01,
    unit: 'steps/s', perStep: 1,
  },
  W3: {
    title: 'GRU training',
    what: 'GRU(32, 128) + Linear(128→1) on every step, MSE, batch 64, seq 100, SGD',
    input: 32, hidden: 128, batch: 64, seq: 100, lr: 0.01,
    unit: 'steps/s', perStep: 1,
  },
  W4: {
    title: 'generation',
    what: 'LSTM(65 one-hot, 512, 2 layers) + Linear(512→65) + softmax + sampling, batch 1, 1000 tokens carrying the state, no gradients',
    vocab: 65, hidden: 512, layers: 2, tokens: 1000,
    unit: 'tok/s', perStep: 1, // the measured unit is one token
  },
  W5: {
    title: 'large LSTM',
    what: 'LSTM(256, 512), batch 64, seq 50, MSE against a random target, one SGD step',
    input: 256, hidden: 512, batch: 64, seq: 50, lr: 0.01,
    unit: 'steps/s', perStep: 1,
  },
  W6: {
    title: 'char-rnn training, variable lengths',
    what: "W1's network and step on a packed batch (packPaddedSequence, enforceSorted false) of 32 sequences whose lengths are spread evenly over 16..64 in shuffled order, the loss over real tokens only; tok/s counts real tokens",
    vocab: 65, hidden: 256, layers: 2, batch: 32, seq: 64, lr: 0.002, clip: 5,
    unit: 'tok/s', perStep: w6Lengths().reduce((a, n) => a + n, 0), // real tokens per step
  },
};

/** W6's sequence lengths: 16..64 evenly spread over the batch of 32, in a fixed shuffled order
 * (bench/pytorch.py computes the same). */
export function w6Lengths() {
  return Array.from({ length: 32 }, (_, b) => 16 + Math.round((48 * ((b * 13) % 32)) / 31));
}

export const WORKLOAD_IDS = Object.keys(WORKLOADS);

/**
 * Rows of this library alone, run only when named (`npm run bench -- --only C1`), by their own script;
 * no peer has the feature they measure.
 */
export const OWN_WORKLOADS = {
  C1: {
    title: 'gradient checkpointing',
    what: 'GRU(1, 32) + Linear(32→1) on every step, MSE, batch 1, SGD, one long sequence: plain against checkpointEvery ≈ √T at T = 100,000, and checkpointed at T = 1,000,000 (bench/checkpoint.mjs)',
    hidden: 32, lr: 0.01,
    rows: {
      plain: { T: 100_000, steps: 3 },
      'ckpt-short': { T: 100_000, every: 316, steps: 3 },
      'ckpt-long': { T: 1_000_000, every: 1000, steps: 2 },
    },
  },
};

/** FLOPs of one W5 step: forward 2·B·T·4H·(I+H), backward twice that (the convention). */
export function w5FlopsPerStep() {
  const { batch: B, seq: T, hidden: H, input: I } = WORKLOADS.W5;
  return 3 * 2 * B * T * 4 * H * (I + H);
}

/**
 * What one W4 token costs at batch 1: every weight is read once and used for one multiply-add, so
 * flops = 2 × the weights multiplied (layer 0's one-hot input is a column gather, not a product), and
 * the bytes streamed are those weights in float32. bench/gemm.mjs has a row of exactly these weights
 * as one GEMV, which measures how fast they stream.
 */
export function w4TokenCost() {
  const { vocab: V, hidden: H, layers: L } = WORKLOADS.W4;
  const weightRows = 4 * H * (2 * L - 1) + V; // W_hh of every layer, W_ih of the layers above the first, the head
  return { flops: 2 * weightRows * H, bytes: 4 * weightRows * H, weightRows };
}

/** bench/gemm.mjs's row label for W4's weights as one GEMV (the report finds the row by it). */
export const W4_STREAM_LABEL = `W4 token's weights as one GEMV [1x${WORKLOADS.W4.hidden}]x[${WORKLOADS.W4.hidden}x${w4TokenCost().weightRows}]`;

/** Parameters of a stacked LSTM (PyTorch layout: two bias vectors per layer). */
export function lstmParameters(input, hidden, layers) {
  let total = 0;
  for (let l = 0; l < layers; l++) total += 4 * hidden * ((l === 0 ? input : hidden) + hidden) + 8 * hidden;
  return total;
}

/**
 * What a W1 step needs in memory at least, in bytes (float32), from the shapes:
 * - parameters, their gradients and Adam's two moments: 4 × P;
 * - what BPTT must keep per layer and time step: the four gate activations, the cell state and the
 *   hidden output (4H + H + H; tanh(c) can be recomputed), plus the one-hot input, the logits and
 *   their gradient (the loss's backward needs dLogits).
 */
export function w1MemoryNeed() {
  const { vocab: V, hidden: H, layers: L, batch: B, seq: T } = WORKLOADS.W1;
  const parameters = lstmParameters(V, H, L) + H * V + V;
  const activations = L * T * B * (4 * H + H + H) + T * B * V * 3;
  const parts = {
    parameters: 4 * parameters,
    gradients: 4 * parameters,
    adamState: 8 * parameters,
    activations: 4 * activations,
  };
  return { parameterCount: parameters, parts, total: Object.values(parts).reduce((s, x) => s + x, 0) };
}

/** The workloads named by an --only value ("W1,w4"), or an error naming the unknown ones. */
export function parseWorkloadList(text) {
  const ids = text.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const unknown = ids.filter((id) => !WORKLOADS[id] && !OWN_WORKLOADS[id]);
  if (unknown.length) throw new Error(`--only: unknown workload(s) ${unknown.join(', ')} (known: ${[...WORKLOAD_IDS, ...Object.keys(OWN_WORKLOADS)].join(', ')})`);
  return ids;
}

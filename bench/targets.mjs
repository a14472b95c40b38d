// What the bench is judged by: the targets (ratios from one side-by-side run) and, for
// reference only, the figures the issue quotes from an earlier run on this kind of machine. Figures are
// in each workload's display unit (W1 and W4 tokens/s, the others steps/s).
import { WORKLOADS } from './workloads.mjs';

/** The cells a target compares against: a list of lib/variant keys, of which the best counts. */
const TFJS = ['tfjs/wasm', 'tfjs/cpu'];
const PYTORCH_BEST = ['pytorch/1t', 'pytorch/2t'];

/** Our figure for the targets: the default (wasm) backend. */
export const OURS = 'recurrent/wasm';

export const TARGETS = [
  ...['W1', 'W2', 'W3', 'W5'].flatMap((id) => [
    { id, text: "≥ 10× TF.js's faster backend", against: TFJS, need: 10 },
    { id, text: 'ahead of brain.js', against: ['brain/js'], need: 1 },
  ]),
  { id: 'W2', text: '≥ 2.5× brain.js', against: ['brain/js'], need: 2.5 },
  { id: 'W2', text: "≥ 10× PyTorch (its best of 1 or 2 threads)", against: PYTORCH_BEST, need: 10 },
  { id: 'W4', text: '≥ onnxruntime-node (its best of 1 or 2 threads)', against: ['onnxruntime/node-1t', 'onnxruntime/node-2t'], need: 1 },
  { id: 'W1', text: "≥ PyTorch's best of 1 or 2 threads", against: PYTORCH_BEST, need: 1 },
  { id: 'W3', text: "≥ PyTorch's best of 1 or 2 threads", against: PYTORCH_BEST, need: 1 },
  { id: 'W5', text: '≥ PyTorch 1 thread', against: ['pytorch/1t'], need: 1 },
  // Variable lengths cost little per real token: against our own padded, fixed-length W1.
  { id: 'W6', text: '≥ 0.8× our padded W1, per real token', against: [OURS], againstWorkload: 'W1', need: 0.8 },
];

/** The memory target: RSS growth in a warmed-up W1 step within 1.5× of what the step needs. */
export const MEMORY_LIMIT = 1.5;


/** The figures from an earlier run (display units), shown beside today's for orientation. */
export const EARLIER = {
  'pytorch/1t': { W1: 10109, W2: 794, W3: 16.6, W4: 606, W5: 2.16 },
  'pytorch/2t': { W1: 10449, W4: 1053 },
  'onnxruntime/node-2t': { W4: 4640 },
  'onnxruntime/web': { W4: 2705 },
  'tfjs/wasm': { W1: 262, W2: 150, W3: 0.64, W4: 1106, W5: 0.039 },
  'tfjs/cpu': { W1: 82, W2: 177, W3: 0.097, W4: 80, W5: 0.016 },
  'brain/js': { W1: 98, W2: 3700, W3: 0.2, W4: 60, W5: 0.017 },
};

/** steps/s (or tokens/s for W4) → the workload's display unit. */
export const display = (id, rate) => rate * WORKLOADS[id].perStep;

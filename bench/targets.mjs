// What the bench is judged by: the targets (ratios from one side-by-side run) and, for
// reference only, the figures the issue quotes from an earlier run on this kind of machine. Figures are
// in each workload's display unit (W1 and W4 tokens/s, the others steps/s).
import { WORKLOADS } from './workloads.mjs';

/** The cells a target compares against: a list of lib/variant keys, of which the best counts. */
const TFJS = ['tfjs/wasm', 'tfjs/cpu'];
const PYTORCH_BEST = ['pytorch/1t', 'pytorch/2t'];

/** Our cells: with the system BLAS under the wasm kernels (Node where the addon built), and wasm
 * only (what browsers get). */
export const NATIVE = 'recurrent/native';
export const WASM_ONLY = 'recurrent/wasm';
/** W4 through the stepper with int8-quantized weights (dynamic quantization, wasm only): not the
 * float32 numbers, so its targets say so. */
export const WASM_INT8 = 'recurrent/wasm-int8';

export const TARGETS = [
  // Issue 17, with native BLAS: the same BLAS as PyTorch's, plus our fused time loops and gathers.
  ...['W1', 'W3'].map((id) => ({ id, text: "native BLAS: ≥ PyTorch's best of 1 or 2 threads", ours: NATIVE, against: PYTORCH_BEST, need: 1 })),
  { id: 'W5', text: "native BLAS: ≥ PyTorch's best of 1 or 2 threads", ours: NATIVE, against: PYTORCH_BEST, need: 1 },
  { id: 'W4', text: 'native BLAS: ≥ onnxruntime-node (its best of 1 or 2 threads)', ours: NATIVE, against: ['onnxruntime/node-1t', 'onnxruntime/node-2t'], need: 1 },
  // Wasm only.
  { id: 'W1', text: 'wasm only: ≥ 0.7× PyTorch (its best of 1 or 2 threads)', ours: WASM_ONLY, against: PYTORCH_BEST, need: 0.7 },
  ...['W1', 'W2', 'W3', 'W4', 'W5'].flatMap((id) => [
    { id, text: "wasm only: ≥ 10× TF.js's faster backend", ours: WASM_ONLY, against: TFJS, need: 10 },
    { id, text: 'wasm only: ahead of brain.js', ours: WASM_ONLY, against: ['brain/js'], need: 1 },
  ]),
  { id: 'W2', text: 'wasm only: ≥ 2.5× brain.js', ours: WASM_ONLY, against: ['brain/js'], need: 2.5 },
  { id: 'W2', text: "wasm only: ≥ 10× PyTorch (its best of 1 or 2 threads)", ours: WASM_ONLY, against: PYTORCH_BEST, need: 10 },
  { id: 'W4', text: 'wasm only: ≥ onnxruntime-node (its best of 1 or 2 threads)', ours: WASM_ONLY, against: ['onnxruntime/node-1t', 'onnxruntime/node-2t'], need: 1 },
  // W4 against TF.js once more, on int8-quantized generation: float32 cannot reach it (W4's bound).
  { id: 'W4', text: "wasm only, int8-quantized generation: ≥ 10× TF.js's faster backend (float32)", ours: WASM_INT8, against: TFJS, need: 10, quantized: true },
  // Variable lengths cost little per real token: against our own padded, fixed-length W1.
  { id: 'W6', text: 'wasm only: ≥ 0.8× our padded W1, per real token', ours: WASM_ONLY, against: [WASM_ONLY], againstWorkload: 'W1', need: 0.8 },
];

/** The GEMM target (bench/gemm.mjs, wasm only): W5's products at ≥ 80% of the 2-thread wasm peak
 * (the relaxed FMA peak where the engine has relaxed SIMD). */
export const W5_GEMM_PEAK_FRACTION = 0.8;

/** The memory target: RSS growth in a warmed-up W1 step within 1.5× of what the step needs. */
export const MEMORY_LIMIT = 1.5;

/** Our figure for a target that names no cell of ours: wasm only. */
export const OURS = WASM_ONLY;

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

/**
 * The GRU whose reset gate scales h before the recurrent product (our `linearBeforeReset: false`,
 * ONNX's linear_before_reset = 0, Keras' reset_after = False): n = tanh(W_in x + b_in + W_hn (r * h)
 * + b_hn). Forward only, on the fused kernels.
 *
 * Its step cannot be one recurrent product and one gate kernel as PyTorch's GRU is: the product over
 * the n rows of W_hh takes r * h, and r needs the product over the r rows first. So a step is the
 * product over the r and z rows, a gate kernel (r, z and r * h), the product over the n rows, and a
 * second gate kernel (n and the new h). The products add straight into the r|z and the n columns of
 * the step's gate rows (row stride 3H), and since b_hn sits outside r here, every bias folds into
 * the input projection.
 *
 * Gradients are not computed here: training such a GRU goes through the op-by-op reference
 * (nn.GRU picks it when gradients are recorded).
 */
import type { FloatArray, KernelBuffer, Kernels, PackedMatrix } from '../../kernels/index.js';
import { chunkSteps, projectRows, type DirectionWeights, type Geometry } from './fused.js';

/** What the forward reads and fills, in processing order (see fused.ts's Saved). */
export interface ResetBeforeBuffers {
  x: KernelBuffer; // [rows, I]
  gates: KernelBuffer; // [rows, 3H]
  states: KernelBuffer; // [T+1, B, H]: h0 in, h1..hT out
  rh: KernelBuffer; // [B, H]: r * hPrev of the current step
  oneHot: { ids: Int32Array; scratch: KernelBuffer } | null;
}

export function resetBeforeForward(g: Geometry, k: Kernels, w: DirectionWeights, buffers: ResetBeforeBuffers): void {
  const { T, B, I, H, rows, layout } = g;
  const GH = 3 * H;
  const wHh = w.weightHh.data;
  // The r|z rows of W_hh and its n rows, packed for the per-step products when there is more than
  // one step. Packing allocates kernel memory: every view is taken after it. Made per call: a pack
  // costs 3H^2 copies against T*B*3H^2 multiply-adds of the loop.
  const packs = T < 2 ? null : { rz: k.packB(true, H, 2 * H, wHh, 0, H), n: k.packB(true, H, H, wHh, 2 * H * H, H) };
  /** C (row stride 3H) += A[m, H] times the `first`..`first + count` rows of W_hh, transposed. */
  const product = (m: number, a: FloatArray, aOffset: number, first: number, count: number, packed: PackedMatrix | undefined, c: FloatArray, cOffset: number): void => {
    if (packed) k.gemmPacked(false, m, count, H, 1, a, aOffset, H, packed, 1, c, cOffset, GH);
    else k.gemm(false, true, m, count, H, 1, a, aOffset, H, wHh, first * H, H, 1, c, cOffset, GH);
  };
  try {
    const x = buffers.x.view(), gates = buffers.gates.view(), states = buffers.states.view(), rh = buffers.rh.view();
    const ids = buffers.oneHot?.ids ?? null, scratch = buffers.oneHot?.scratch.view() ?? null;
    const chunk = chunkSteps(B) * B;
    for (let r = 0; r < rows; r += chunk) {
      const count = Math.min(chunk, rows - r);
      projectRows(k, true, w, I, GH, count, x.subarray(r * I), gates.subarray(r * GH), ids?.subarray(r, r + count) ?? null, scratch);
    }
    for (let s = 0; s < T; s++) {
      const row = layout[2 * s]!, m = layout[2 * s + 1]!;
      const gOff = row * GH, hPrev = s * B * H, hNext = (s + 1) * B * H;
      product(m, states, hPrev, 0, 2 * H, packs?.rz, gates, gOff);
      k.gruResetBeforeGates(m, H, gates, gOff, states, hPrev, rh, 0);
      product(m, rh, 0, 2 * H, H, packs?.n, gates, gOff + 2 * H);
      k.gruResetBeforeUpdate(m, H, gates, gOff, states, hPrev, states, hNext);
    }
  } finally {
    if (packs) {
      k.releasePacked(packs.rz);
      k.releasePacked(packs.n);
    }
  }
}

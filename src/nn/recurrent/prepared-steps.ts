/**
 * Single steps of `forward` without gradients (generation written the PyTorch way, `out, h =
 * lstm(x, h)` in a loop) run over weights prepared once for the fast step kernel, as the stepper's
 * are, and kept across calls for as long as the weights' version counters say they are unchanged
 * (an optimizer step, loadStateDict and any in-place op bump them). A change prepares them again at
 * the next call; dispose() gives them back. The results are forward's bits: the prepared kernel
 * computes a step exactly as the layer's own T = 1 path does.
 */
import type { Kernels, PreparedStep } from '../../kernels/index.js';
import type { Tensor } from '../../tensor/index.js';
import { sequenceKind, type CellKind, type DirectionWeights } from './fused.js';

/** Batch rows up to which the prepared kernel gives the T = 1 path's bits (gemm's small-m products). */
export const PREPARED_STEP_MAX_BATCH = 8;

interface Prepared {
  readonly kernels: Kernels;
  readonly weights: Tensor[];
  readonly versions: number[];
  dense: PreparedStep | null;
  tokens: PreparedStep | null;
}

/** By the direction's W_ih tensor (one per layer direction, for the layer's life). */
const byOwner = new WeakMap<Tensor, Prepared>();

const weightList = (w: DirectionWeights): Tensor[] =>
  [w.weightIh, w.weightHh, w.biasIh, w.biasHh, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);

/** The prepared weights of one direction for dense inputs, or for one-hot inputs given as indices. */
export function preparedStep(k: Kernels, kind: CellKind, w: DirectionWeights, tokens: boolean): PreparedStep {
  let entry = byOwner.get(w.weightIh);
  if (entry && (entry.kernels !== k || entry.weights.some((t, i) => t.version !== entry!.versions[i]))) {
    release(entry);
    entry = undefined;
  }
  if (!entry) {
    const weights = weightList(w);
    entry = { kernels: k, weights, versions: weights.map((t) => t.version), dense: null, tokens: null };
    byOwner.set(w.weightIh, entry);
  }
  const slot = tokens ? 'tokens' : 'dense';
  const made = entry[slot];
  if (made) return made;
  const H = w.weightHh.shape[1]!;
  let peep: Float32Array | null = null;
  if (w.peephole) {
    peep = new Float32Array(3 * H);
    w.peephole.forEach((p, i) => peep!.set(p.data, i * H));
  }
  const step = k.prepareStep!(
    sequenceKind(kind), w.weightIh.shape[1]!, H, w.weightIh.data, w.weightHh.data, w.biasIh?.data ?? null, w.biasHh?.data ?? null, peep, tokens,
  );
  entry[slot] = step;
  return step;
}

function release(entry: Prepared): void {
  if (entry.dense) entry.kernels.releasePrepared?.(entry.dense);
  if (entry.tokens) entry.kernels.releasePrepared?.(entry.tokens);
  entry.dense = entry.tokens = null;
}

/** dispose(): the prepared weights of these directions go back now. */
export function releasePreparedSteps(owners: Iterable<Tensor>): void {
  for (const owner of owners) {
    const entry = byOwner.get(owner);
    if (!entry) continue;
    release(entry);
    byOwner.delete(owner);
  }
}

/**
 * A layer direction's weights in the forms its kernels take, made once and kept across calls for as
 * long as the weights' version counters say they are unchanged (an optimizer step, loadStateDict and
 * any in-place op bump them); a change makes them again at the next call, and dispose() gives them
 * back.
 *
 * - Single steps without gradients (generation written the PyTorch way, `out, h = lstm(x, h)` in a
 *   loop) run over weights prepared for the fast step kernel, as the stepper's are. The results are
 *   forward's bits: the prepared kernel computes a step exactly as the layer's own T = 1 path does.
 * - Longer calls take the recurrent weights packed for the per-step products, forward and backward.
 *   Short sequences without gradients (evaluation in chunks) then skip the packing per call; a
 *   training step changes the weights, so it packs once per call as before. A pack may read W_hh
 *   where it lies (the wasm backend's products on the system BLAS do), which is why every use goes
 *   through the version check first, and why a write through `.data` needs bumpVersion().
 */
import type { Kernels, PackedMatrix, PreparedStep } from '../../kernels/index.js';
import type { Tensor } from '../../tensor/index.js';
import { sequenceKind, type CellKind, type DirectionWeights } from './fused.js';

/** Batch rows up to which the prepared kernel gives the T = 1 path's bits (gemm's small-m products). */
export const PREPARED_STEP_MAX_BATCH = 8;

/** W_hh and W_hr (projections) packed for the per-step products of one pass. */
export interface PackedStepWeights {
  hh: PackedMatrix;
  hr: PackedMatrix | null;
}

interface Prepared {
  readonly kernels: Kernels;
  readonly weights: Tensor[];
  readonly versions: number[];
  dense: PreparedStep | null;
  tokens: PreparedStep | null;
  /** Packed for the forward (transposed: h W_hh^T) and for the backward (dGates W_hh). */
  forward: PackedStepWeights | null;
  backward: PackedStepWeights | null;
  /** Packs made before the weights last changed: packed over rather than allocated anew (a training
   * step changes the weights, and the next call packs the same shapes again). */
  stale: { forward: PackedStepWeights | null; backward: PackedStepWeights | null };
}

/** By the direction's W_ih tensor (one per layer direction, for the layer's life). */
const byOwner = new WeakMap<Tensor, Prepared>();

const weightList = (w: DirectionWeights): Tensor[] =>
  [w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);

/** The direction's entry, emptied first if a weight changed since it was filled. */
function entryFor(k: Kernels, w: DirectionWeights): Prepared {
  let entry = byOwner.get(w.weightIh);
  if (entry && entry.kernels !== k) {
    release(entry);
    entry = undefined;
  }
  if (entry && entry.weights.some((t, i) => t.version !== entry!.versions[i])) {
    releaseSteps(entry);
    releasePacks(k, entry.stale);
    entry.stale.forward = entry.forward;
    entry.stale.backward = entry.backward;
    entry.forward = entry.backward = null;
    entry.weights.forEach((t, i) => (entry!.versions[i] = t.version));
  }
  if (!entry) {
    const weights = weightList(w);
    entry = {
      kernels: k, weights, versions: weights.map((t) => t.version), dense: null, tokens: null, forward: null, backward: null,
      stale: { forward: null, backward: null },
    };
    byOwner.set(w.weightIh, entry);
  }
  return entry;
}

/**
 * W_hh (and W_hr) packed for the per-step products of a forward (`transposed`: h W_hh^T) or a
 * backward (dGates W_hh) pass. Packing allocates kernel memory: call this before taking views.
 */
export function packedStepWeights(k: Kernels, w: DirectionWeights, transposed: boolean): PackedStepWeights {
  const entry = entryFor(k, w);
  const slot = transposed ? 'forward' : 'backward';
  const made = entry[slot];
  if (made) return made;
  const P = w.weightHh.shape[1]!, GH = w.weightHh.shape[0]!;
  const old = entry.stale[slot];
  entry.stale[slot] = null;
  const hh = transposed ? k.packB(true, P, GH, w.weightHh.data, 0, P, old?.hh) : k.packB(false, GH, P, w.weightHh.data, 0, P, old?.hh);
  if (old && old.hh !== hh) k.releasePacked(old.hh);
  let hr: PackedMatrix | null = null;
  if (w.weightHr) {
    const H = w.weightHr.shape[1]!;
    hr = transposed ? k.packB(true, H, P, w.weightHr.data, 0, H, old?.hr) : k.packB(false, P, H, w.weightHr.data, 0, H, old?.hr);
  }
  if (old?.hr && old.hr !== hr) k.releasePacked(old.hr);
  const packed = { hh, hr };
  entry[slot] = packed;
  return packed;
}

/** The prepared weights of one direction for dense inputs, or for one-hot inputs given as indices. */
export function preparedStep(k: Kernels, kind: CellKind, w: DirectionWeights, tokens: boolean): PreparedStep {
  const entry = entryFor(k, w);
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
  releaseSteps(entry);
  releasePacks(entry.kernels, entry);
  releasePacks(entry.kernels, entry.stale);
  entry.forward = entry.backward = entry.stale.forward = entry.stale.backward = null;
}

function releaseSteps(entry: Prepared): void {
  if (entry.dense) entry.kernels.releasePrepared?.(entry.dense);
  if (entry.tokens) entry.kernels.releasePrepared?.(entry.tokens);
  entry.dense = entry.tokens = null;
}

function releasePacks(k: Kernels, packs: { forward: PackedStepWeights | null; backward: PackedStepWeights | null }): void {
  for (const packed of [packs.forward, packs.backward]) {
    if (!packed) continue;
    k.releasePacked(packed.hh);
    if (packed.hr) k.releasePacked(packed.hr);
  }
}

/** dispose(): the prepared weights of these directions go back now. */
export function releasePreparedWeights(owners: Iterable<Tensor>): void {
  for (const owner of owners) {
    const entry = byOwner.get(owner);
    if (!entry) continue;
    release(entry);
    byOwner.delete(owner);
  }
}

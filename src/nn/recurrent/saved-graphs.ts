/**
 * When the activations a recurrent call saved for its backward are given back: deterministically,
 * without asking the user to dispose anything.
 *
 * - After the call's backward has run (unless the graph is retained, as with `retainGraph`).
 * - When the call is never backpropagated: evaluation that forgets `noGrad` records a graph per call
 *   and drops it, and the garbage collector runs too rarely (and never inside a synchronous loop) to
 *   return the memory in time. So each layer keeps at most `pendingGraphLimit` recorded calls that
 *   have not been backpropagated and that a newer call does not depend on; recording one more
 *   reclaims the oldest of them. A call that a newer one depends on (a decoder stepped in a loop,
 *   a state carried across calls) is never reclaimed: backward will need it. Backward through a
 *   reclaimed call throws an error that says why and what to do.
 * - When the layer is disposed.
 * - When the graph is garbage collected, as a backstop.
 */
import type { Tensor } from '../../tensor/index.js';
import type { Workspace } from './workspace.js';

type GraphState = 'pending' | 'retained' | 'freed' | 'reclaimed' | 'disposed';

export class SavedGraph {
  state: GraphState = 'pending';
  constructor(readonly layer: string, readonly owner: object, readonly ws: Workspace) {}

  /** Throws why this graph's saved values are gone, if they are. */
  checkUsable(): void {
    if (this.state === 'pending' || this.state === 'retained') return;
    throw new Error(this.state === 'freed'
      ? `${this.layer}: backward through the same call a second time; its saved activations were freed after the first backward (pass { retainGraph: true } to the first backward to keep them)`
      : this.state === 'disposed'
        ? `${this.layer}: backward through a call of a layer that was disposed since`
        : `${this.layer}: this call's saved activations were reclaimed: ${pendingGraphLimit} newer calls of the same layer were recorded `
          + 'before backward() reached it, and calls that are never backpropagated (evaluation without noGrad) would otherwise hold memory '
          + 'without bound. Call backward() before making more calls, run evaluation under noGrad(), '
          + `or raise the limit with setPendingGraphLimit(n) (now ${pendingGraphLimit})`);
  }
}

let pendingGraphLimit = 3;

/**
 * How many recorded calls of one recurrent layer (and direction) keep their saved activations while
 * no backward has reached them and no newer call depends on them (default 3: a siamese or triplet
 * network applies one encoder to two or three inputs). Raise it to backpropagate once through more
 * independent calls of one layer; each kept call holds its layer's activations for a whole sequence.
 */
export function setPendingGraphLimit(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setPendingGraphLimit: n must be a positive integer, got ${String(n)}`);
  pendingGraphLimit = n;
}

export function getPendingGraphLimit(): number {
  return pendingGraphLimit;
}

/** Live (pending or retained) graphs by owner: the tensor W_ih of one layer direction. */
const liveByOwner = new WeakMap<object, SavedGraph[]>();
/** The hidden joint tensor of each recorded call (see fused.ts wireOutputs) -> its graph. */
const graphOfJoint = new WeakMap<Tensor, SavedGraph>();
const collected = new FinalizationRegistry<SavedGraph>((g) => {
  if (g.state === 'pending' || g.state === 'retained') end(g, 'freed');
});

function end(g: SavedGraph, state: 'freed' | 'reclaimed' | 'disposed'): void {
  g.state = state;
  g.ws.release();
  const live = liveByOwner.get(g.owner);
  const i = live?.indexOf(g) ?? -1;
  if (i >= 0) live!.splice(i, 1);
}

/**
 * Records a new call's graph. `joint` is the tensor whose node runs its backward; `inputs` are the
 * call's x, h0 and c0, through which it may depend on earlier calls of the same owner.
 */
export function trackGraph(layer: string, owner: object, ws: Workspace, joint: Tensor, inputs: readonly Tensor[]): SavedGraph {
  let live = liveByOwner.get(owner);
  if (!live) {
    live = [];
    liveByOwner.set(owner, live);
  }
  if (live.length >= pendingGraphLimit && live.filter((g) => g.state === 'pending').length >= pendingGraphLimit) {
    const needed = ancestorsOf(inputs, owner);
    const reclaimable = live.filter((g) => g.state === 'pending' && !needed.has(g));
    while (reclaimable.length >= pendingGraphLimit) end(reclaimable.shift()!, 'reclaimed');
  }
  const g = new SavedGraph(layer, owner, ws);
  live.push(g);
  graphOfJoint.set(joint, g);
  collected.register(joint, g, g);
  return g;
}

/** The call's backward has run: its memory goes back unless the graph is retained for another. */
export function graphBackpropagated(g: SavedGraph, retained: boolean): void {
  if (g.state !== 'pending' && g.state !== 'retained') return; // its backward threw checkUsable's error
  if (retained) {
    g.state = 'retained';
    return;
  }
  collected.unregister(g);
  end(g, 'freed');
}

/** dispose(): every saved graph of these owners gives its memory back now. */
export function disposeGraphs(owners: Iterable<object>): void {
  for (const owner of owners) {
    for (const g of [...(liveByOwner.get(owner) ?? [])]) {
      collected.unregister(g);
      end(g, 'disposed');
    }
  }
}

/** The owner's graphs that the tensors depend on (walking their recorded history). */
function ancestorsOf(inputs: readonly Tensor[], owner: object): Set<SavedGraph> {
  const found = new Set<SavedGraph>();
  const seen = new Set<Tensor>();
  const stack = inputs.filter((t) => t.gradFn !== null);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const g = graphOfJoint.get(t);
    if (g?.owner === owner) found.add(g);
    for (const input of t.gradFn?.inputs ?? []) if (input.gradFn !== null && !seen.has(input)) stack.push(input);
  }
  return found;
}

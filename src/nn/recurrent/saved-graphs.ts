/**
 * When the activations a recurrent call saved for its backward are given back: deterministically,
 * without asking the user to dispose anything.
 *
 * - After the call's backward has run (unless the graph is retained, as with `retainGraph`).
 * - When the call is never backpropagated: evaluation that forgets `noGrad` records a graph per call
 *   and drops it, and the garbage collector runs too rarely (and never inside a synchronous loop) to
 *   return the memory in time. So when a layer has `pendingGraphLimit` recorded calls that have not
 *   been backpropagated, recording one more reclaims the oldest of them that no later call depends
 *   on, until the layer is back under the limit or none is left to reclaim. A call that a later one
 *   depends on, through any layer (a cell or decoder stepped in a loop, a state carried across
 *   calls, one layer feeding the next), is kept while that later call lives: backward will need it.
 *   Backward through a reclaimed call throws an error that says why and what to do.
 * - When the layer is disposed.
 * - When the graph is garbage collected, as a backstop.
 *
 * Dependencies are found when a call is recorded, by walking its inputs' history back to the nearest
 * recorded recurrent calls (of any layer); each call counts its live dependants, so whether one may
 * be reclaimed is known without walking the graph again, and a loop of single steps costs the same
 * per step however long it runs.
 */
import type { Tensor } from '../../tensor/index.js';
import type { Workspace } from './workspace.js';

type GraphState = 'pending' | 'retained' | 'freed' | 'reclaimed' | 'disposed';

export class SavedGraph {
  state: GraphState = 'pending';
  /** The nearest recorded calls this one depends on. */
  parents: readonly SavedGraph[] = NO_PARENTS;
  /** Live calls that depend on this one directly: while there are any, it is not reclaimed. */
  liveChildren = 0;
  constructor(readonly layer: string, readonly owner: object, readonly ws: Workspace) {}

  /** Whether its saved values are still there (pending or retained). */
  get live(): boolean {
    return this.state === 'pending' || this.state === 'retained';
  }

  /** Throws why this graph's saved values are gone, if they are. (A second pass after a freeing one
   * never gets here: autograd refuses it first.) */
  checkUsable(): void {
    if (this.state === 'disposed') throw new Error(`${this.layer}: backward through a call of a layer that was disposed since`);
    if (this.state !== 'reclaimed') return;
    throw new Error(
      `${this.layer}: this call's saved activations were reclaimed: ${pendingGraphLimit} newer calls of the same layer were recorded `
      + 'before backward() reached it, and calls that are never backpropagated (evaluation without noGrad) would otherwise hold memory '
      + 'without bound. Call backward() before making more calls, run evaluation under noGrad(), '
      + `or raise the limit with setPendingGraphLimit(n) (now ${pendingGraphLimit})`,
    );
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
/** Live graphs of every owner: none, and a new call depends on none (a training step's first layer). */
let liveCount = 0;
/** Tensors a dependency walk visits at most; past that, no call is reclaimed this time. */
const WALK_LIMIT = 100_000;
const NO_PARENTS: readonly SavedGraph[] = Object.freeze([]);
/** The hidden joint tensor of each recorded call (see fused.ts wireOutputs) -> its graph. */
const graphOfJoint = new WeakMap<Tensor, SavedGraph>();
const collected = new FinalizationRegistry<SavedGraph>((g) => {
  if (g.live) end(g, 'freed');
});

function end(g: SavedGraph, state: 'freed' | 'reclaimed' | 'disposed'): void {
  collected.unregister(g);
  g.state = state;
  g.ws.release();
  for (const p of g.parents) p.liveChildren--;
  g.parents = NO_PARENTS;
  const live = liveByOwner.get(g.owner);
  const i = live?.indexOf(g) ?? -1;
  if (i >= 0) {
    live!.splice(i, 1);
    liveCount--;
  }
}

/**
 * Records a new call's graph. `joint` is the tensor whose node runs its backward; `inputs` are the
 * call's x, h0 and c0, through which it may depend on earlier calls of any layer.
 */
export function trackGraph(layer: string, owner: object, ws: Workspace, joint: Tensor, inputs: readonly Tensor[]): SavedGraph {
  let live = liveByOwner.get(owner);
  if (!live) {
    live = [];
    liveByOwner.set(owner, live);
  }
  const parents = liveCount > 0 ? nearestGraphs(inputs) : NO_PARENTS;
  if (parents !== null && live.length >= pendingGraphLimit) {
    // Every pending call counts toward the limit; only those no live call depends on can go.
    let pending = live.filter((g) => g.state === 'pending').length;
    const reclaimable = live.filter((g) => g.state === 'pending' && g.liveChildren === 0 && !parents.includes(g));
    while (pending >= pendingGraphLimit && reclaimable.length > 0) {
      end(reclaimable.shift()!, 'reclaimed');
      pending--;
    }
  }
  const g = new SavedGraph(layer, owner, ws);
  // A walk cut short leaves the call without parents: its dependencies then stay unprotected, but
  // none is reclaimed now, and the next call walks again.
  g.parents = parents ?? NO_PARENTS;
  for (const p of g.parents) p.liveChildren++;
  live.push(g);
  liveCount++;
  graphOfJoint.set(joint, g);
  collected.register(joint, g, g);
  return g;
}

/** The call's backward has run: its memory goes back unless the graph is retained for another. */
export function graphBackpropagated(g: SavedGraph, retained: boolean): void {
  if (!g.live) return; // its backward threw checkUsable's error
  if (retained) g.state = 'retained';
  else end(g, 'freed');
}

/** dispose(): every saved graph of these owners gives its memory back now. */
export function disposeGraphs(owners: Iterable<object>): void {
  for (const owner of owners) {
    for (const g of [...(liveByOwner.get(owner) ?? [])]) end(g, 'disposed');
  }
}

/** The live recorded calls nearest to the tensors in their history (of any layer), or null when
 * the history is too large to walk. */
function nearestGraphs(inputs: readonly Tensor[]): readonly SavedGraph[] | null {
  const found: SavedGraph[] = [];
  const seen = new Set<Tensor>();
  const stack = inputs.filter((t) => t.gradFn !== null);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (seen.size > WALK_LIMIT) return null;
    const g = graphOfJoint.get(t);
    if (g?.live) {
      found.push(g);
      continue; // what it depends on is protected through it
    }
    // An input with a gradFn was computed by a recorded op, so it is a float tensor.
    for (const input of t.gradFn?.inputs ?? []) if (input.gradFn !== null && !seen.has(input as Tensor)) stack.push(input as Tensor);
  }
  return found;
}

/**
 * Tensor: a shape, a dtype and contiguous row-major storage, plus the autograd tape.
 *
 * Storage is either a plain typed array (short-lived tensors, garbage-collected) or a KernelBuffer from
 * the kernels layer's allocator (long-lived parameters and state in wasm memory). `.data` is obtained on
 * access so that wasm memory growth never leaves a caller with a detached view.
 *
 * Ops and methods such as `t.mul(u)` are attached by src/ops (docs/architecture.md, "Tensor methods
 * come from the ops layer"); this file knows nothing of them.
 *
 * Autograd follows PyTorch's rules for reuse: a node's saved tensors are freed by the backward that
 * runs it (unless it retains the graph), and a saved tensor changed in place since the node recorded
 * it (its version counter moved) makes backward throw rather than compute a wrong gradient.
 */
import { isKernelMemoryView, kernelsFor, type DType, type FloatArray, type KernelBuffer } from '../kernels/index.js';
import { formatShape, sizeOf, type Shape } from './shape.js';
import { withTemporaryArrays } from './arrays.js';
import { checkOptionKeys } from './options.js';
import { dtypeOfArray, isFloatDType, type AnyArray, type ArrayOf, type FloatDType, type TensorDType } from './dtype.js';

/** One recorded operation: its inputs and the rule that maps the output gradient to input gradients. */
export interface GradNode {
  readonly name: string;
  /** Index tensors among them never require gradients, so backward returns null for them. */
  readonly inputs: readonly AnyTensor[];
  /**
   * Returns one gradient per input (null where the input needs none). Runs with gradients off. A
   * gradient for a leaf input may borrow memory the node owns (a workspace) until afterBackward.
   */
  backward(gradOutput: Tensor): (Tensor | null)[];
  /**
   * Called once after each run of backward, when autograd has taken what it returned: the node may
   * reuse borrowed memory, and free what it saved for backward when `retained` is false (autograd
   * never runs its backward again then: a later pass that reaches it throws first).
   */
  afterBackward?(retained: boolean): void;
}

/**
 * What autograd keeps on a node that saved something for its backward (record's `saved` tensors, or
 * memory it frees in afterBackward): the saved tensors' versions when recorded, and whether a backward
 * without retainGraph has run it. Nodes that saved nothing can run again, as in PyTorch.
 */
interface SavingNode extends GradNode {
  savedTensors?: readonly AnyTensor[] | null;
  savedVersions?: number[] | null;
  freed?: boolean;
}

/** A counter that views of one storage share (PyTorch's `_version`), created at the first write. */
interface VersionCounter {
  value: number;
}

// Keyed by the storage object, so every tensor over it (reshape, detach, a second fromBuffer) finds
// the same counter, and the counter goes when the storage does.
const versionCounters = new WeakMap<object, VersionCounter>();

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording operations for autograd (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with operations recorded for autograd, even inside noGrad (PyTorch's enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

/** An index tensor: int32 elements in an Int32Array (PyTorch's torch.long tensors). */
export type IntTensor = Tensor<'int32'>;
/** A tensor of any dtype (shape ops, conversions, printing). */
export type AnyTensor = Tensor<TensorDType>;

/**
 * D is the dtype as a type: `Tensor` (the default) is a float tensor, whose `.data` is a FloatArray,
 * so float-only code needs no narrowing; `Tensor<'int32'>` (IntTensor) is an index tensor over an
 * Int32Array, and float-only functions do not accept it (docs/architecture.md, "Index tensors are
 * int32").
 */
export class Tensor<out D extends TensorDType = FloatDType> {
  readonly shape: readonly number[];
  readonly dtype: D;
  /** The gradient accumulated by backward passes; kept on leaves that require it. */
  grad: Tensor | null = null;
  /** The operation that produced this tensor, when it was recorded for autograd. */
  gradFn: GradNode | null = null;
  private _requiresGrad = false;
  private readonly storage: AnyArray | KernelBuffer;
  /** Where `.grad` of a parameter in kernel memory lives, kept across zeroGrad() (see accumulateGrad). */
  private gradBuffer: KernelBuffer | null = null;
  /** This storage's counter once one exists (cached: a parameter's is read on every step). */
  private versionCounter: VersionCounter | undefined = undefined;

  constructor(storage: ArrayOf<D> | KernelBuffer, shape: Shape, options: { requiresGrad?: boolean } = {}) {
    const length = storage.length;
    if (sizeOf(shape) !== length) {
      throw new Error(`Tensor: shape ${formatShape(shape)} needs ${sizeOf(shape)} elements, storage has ${length}`);
    }
    // Arrays of up to 64 bytes are skipped: V8 keeps such arrays on its own heap, and asking for
    // their buffer would move each one off it (about a microsecond, on every small tensor).
    if (ArrayBuffer.isView(storage) && storage.length > 16 && isKernelMemoryView(storage)) {
      throw new Error(
        'Tensor: the array is a view of the kernels\' WebAssembly memory, which a later allocation can detach or reuse; '
        + 'make the tensor over the KernelBuffer itself (fromBuffer) or over a copy (view.slice())',
      );
    }
    this.storage = storage;
    // Shapes are shared between tensors (views, results of the same shape): a frozen one is kept.
    this.shape = Object.isFrozen(shape) ? (shape as readonly number[]) : Object.freeze([...shape]);
    this.dtype = ('dtype' in storage && typeof storage.dtype === 'string' ? storage.dtype : dtypeOfArray(storage as AnyArray)) as D;
    if (options.requiresGrad) this.requiresGrad = true;
  }

  /** The elements, row-major. A view: writing to it changes the tensor. */
  get data(): ArrayOf<D> {
    const s = this.storage;
    return (ArrayBuffer.isView(s) ? s : s.view()) as ArrayOf<D>;
  }

  /** The storage this tensor shares with views of it (reshape keeps storage). */
  get rawStorage(): ArrayOf<D> | KernelBuffer {
    return this.storage as ArrayOf<D> | KernelBuffer;
  }

  get size(): number {
    return this.storage.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(value: boolean) {
    // A computed tensor (gradFn set) came from float inputs: only leaves need the check.
    if (value && this.gradFn === null && !isFloatDType(this.dtype)) {
      throw new Error(`Tensor.requiresGrad: only tensors of floating point dtype can require gradients, got ${this.dtype} (convert with .float() first)`);
    }
    this._requiresGrad = value;
  }

  /**
   * Sets requiresGrad and returns the tensor (PyTorch's requires_grad_). Only leaves can change it:
   * a computed tensor requires gradients exactly when its inputs do.
   */
  requiresGrad_(value = true): this {
    if (!this.isLeaf) throw new Error('Tensor.requiresGrad_: only leaf tensors can change requiresGrad (this one was computed by a recorded op; detach() it first)');
    this.requiresGrad = value;
    return this;
  }

  /**
   * How many times the library has written this tensor's storage in place (optimizer steps,
   * loadStateDict, checkpoint restore, initialisers, gradient clipping and accumulation). Views that
   * share the storage share the count. Writes through `.data` are not seen: call bumpVersion() after
   * them, so that caches keyed on the version and autograd's saved-tensor check notice.
   */
  get version(): number {
    const counter = this.versionCounter ?? (this.versionCounter = versionCounters.get(this.storage));
    return counter === undefined ? 0 : counter.value;
  }

  /** Records one in-place write to the storage (see `version`). */
  bumpVersion(): void {
    let counter = this.versionCounter ?? versionCounters.get(this.storage);
    if (counter === undefined) {
      counter = { value: 0 };
      versionCounters.set(this.storage, counter);
    }
    this.versionCounter = counter;
    counter.value++;
  }

  /** True for tensors created by the user (not by a recorded op). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  item(): number {
    if (this.size !== 1) throw new Error(`Tensor.item: needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.data[0]!;
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  toArray(): unknown {
    const data = this.data;
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return data[offset]!;
      const n = this.shape[dim]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** A tensor sharing this one's storage but cut from the graph: gradients stop here. */
  detach(): Tensor<D> {
    return new Tensor<D>(this.storage as ArrayOf<D> | KernelBuffer, this.shape);
  }

  /** A deep copy (new storage), cut from the graph. */
  clone(): Tensor<D> {
    return new Tensor<D>(this.data.slice() as ArrayOf<D>, this.shape);
  }

  /** True for an index tensor (int32), narrowing its type. */
  isInteger(): this is Tensor<'int32'> {
    return this.dtype === 'int32';
  }

  /** True for a float32 or float64 tensor, narrowing its type. */
  isFloatingPoint(): this is Tensor<FloatDType> {
    return this.dtype !== 'int32';
  }

  toString(): string {
    const values = this.size <= 6 ? `, values=${JSON.stringify(this.toArray())}` : '';
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${values}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  /**
   * Reverse-mode differentiation from this tensor. A scalar needs no gradient argument; any other
   * tensor needs one of its own shape (the vector in the vector-Jacobian product). Gradients accumulate
   * into `.grad` of the leaves that require them.
   *
   * As in PyTorch, the pass frees what the nodes it runs saved for it, so a second backward through
   * them throws; `retainGraph: true` keeps them for another pass (the last pass should leave it false,
   * which frees them).
   */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (typeof options !== 'object' || options === null) {
      throw new Error(`Tensor.backward: options must be an object such as { retainGraph: true }, got ${String(options)}`);
    }
    checkOptionKeys('Tensor.backward', options, ['retainGraph']);
    const retainGraph = options.retainGraph ?? false;
    if (typeof retainGraph !== 'boolean') {
      throw new Error(`Tensor.backward: options.retainGraph must be true or false, got ${String(retainGraph)}`);
    }
    if (!this.requiresGrad) {
      throw new Error('Tensor.backward: this tensor does not require gradients (no input requires them, or it was computed under noGrad)');
    }
    let seed: Tensor;
    if (gradient === undefined) {
      if (this.size !== 1) {
        throw new Error(`Tensor.backward: a gradient argument is needed for a non-scalar output of shape ${formatShape(this.shape)}`);
      }
      const one = this.dtype === 'float64' ? new Float64Array(1) : new Float32Array(1);
      one[0] = 1;
      seed = new Tensor(one, this.shape);
    } else {
      if (gradient.size !== this.size || gradient.shape.length !== this.shape.length || gradient.shape.some((d, i) => d !== this.shape[i])) {
        throw new Error(`Tensor.backward: gradient must have the output's shape ${formatShape(this.shape)}, got ${formatShape(gradient.shape)}`);
      }
      if (gradient.dtype !== this.dtype) {
        throw new Error(`Tensor.backward: gradient dtype ${gradient.dtype} does not match the output's ${this.dtype}`);
      }
      seed = gradient;
    }
    runBackward(this as Tensor, seed, retainGraph); // requiresGrad implies a float dtype
  }

  /**
   * Adds one gradient into `.grad` (autograd calls this for leaves). A tensor whose storage lives in
   * kernel memory (a parameter) keeps its gradient there too, in one buffer for its whole life: the
   * optimizer kernels then read it in place, and a training step allocates nothing for it. That
   * buffer is reused by the first backward after zeroGrad() sets `.grad` to null, so a gradient kept
   * past zeroGrad() must be cloned. Other leaves get a new array, as in PyTorch.
   */
  accumulateGrad(gradient: Tensor): void {
    if (this.grad !== null) {
      accumulateInto(this.grad.data, gradient.data);
      this.grad.bumpVersion();
      return;
    }
    if (ArrayBuffer.isView(this.storage)) {
      this.grad = new Tensor(gradient.data.slice(), this.shape);
      return;
    }
    // Allocating may grow kernel memory, so the gradient's data is read only afterwards.
    const dtype = this.dtype as FloatDType; // only float tensors require gradients
    this.gradBuffer ??= kernelsFor(dtype).allocate(this.size, dtype);
    this.gradBuffer.view().set(gradient.data);
    this.grad = new Tensor(this.gradBuffer, this.shape);
    // The buffer is rewritten under any gradient tensor of an earlier pass still held.
    this.grad.bumpVersion();
  }

  /** Drops the gradient and gives back the kernel memory it lives in (Module.dispose). */
  releaseGradMemory(): void {
    this.grad = null;
    if (this.gradBuffer) kernelsFor(this.gradBuffer.dtype).release(this.gradBuffer);
    this.gradBuffer = null;
  }
}

/** Adds src into dst element by element (same shape, same dtype). */
function accumulateInto(dst: FloatArray, src: FloatArray): void {
  for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!;
}

function runBackward(root: Tensor, seed: Tensor, retainGraph: boolean): void {
  // Phase 1: order the recorded graph so every tensor comes after all the tensors computed from it,
  // and refuse a graph that cannot be run before any gradient is touched.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    if (t.gradFn !== null) checkRunnable(t.gradFn);
    stack.push([t, true]);
    // An input that requires gradients is a float tensor (index tensors cannot).
    for (const input of t.gradFn?.inputs ?? []) if (input.requiresGrad && !visited.has(input as Tensor)) stack.push([input as Tensor, false]);
  }

  // Phase 2: walk it in reverse, handing each node the sum of the gradients of its output.
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  // Every array made from here on is a temporary: leaves copy their gradients out (accumulateGrad).
  noGrad(() => withTemporaryArrays(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.gradFn;
      if (node === null) {
        t.accumulateGrad(g); // only the root can get here: other leaves are served right away below
        continue;
      }
      try {
        const inputGrads = node.backward(g);
        node.inputs.forEach((anyInput, i) => {
          const gi = inputGrads[i];
          if (!gi || !anyInput.requiresGrad) return;
          const input = anyInput as Tensor; // requires gradients, so a float tensor
          if (gi.size !== input.size) {
            throw new Error(`autograd: ${node.name} returned a gradient of shape ${formatShape(gi.shape)} for an input of shape ${formatShape(input.shape)}`);
          }
          // A leaf has no backward of its own, so its gradient can be added in now, while memory the
          // node lent for it is still valid; interior tensors wait for all their contributions.
          if (input.gradFn === null) input.accumulateGrad(gi);
          else addPending(grads, input, gi);
        });
      } finally {
        if (!retainGraph) markFreed(node);
        node.afterBackward?.(retainGraph);
      }
    }
  }));
}

/** Throws when a node's backward cannot give the right gradient: freed by an earlier pass, or a
 * tensor it saved was written in place since. */
function checkRunnable(node: SavingNode): void {
  if (node.freed) {
    throw new Error('backward: trying to backward through the graph a second time (its saved values were freed after the first backward); call backward(undefined, { retainGraph: true }) the first time if you need to');
  }
  const saved = node.savedTensors;
  if (!saved) return;
  const versions = node.savedVersions!;
  for (let i = 0; i < saved.length; i++) {
    const now = saved[i]!.version;
    if (now !== versions[i]) {
      throw new Error(`backward: a tensor saved by ${node.name} for the backward pass was modified in place after it was used (version ${versions[i]}, now ${now}); clone it before modifying, or modify it after backward()`);
    }
  }
}

function markFreed(node: SavingNode): void {
  // Only nodes that saved something are freed (PyTorch lets a pass through, say, an add run again).
  if (node.savedTensors || node.afterBackward) {
    node.freed = true;
    node.savedTensors = null;
    node.savedVersions = null;
  }
}

/** Adds one contribution to an interior tensor's gradient. */
function addPending(grads: Map<Tensor, Tensor>, input: Tensor, gi: Tensor): void {
  const previous = grads.get(input);
  if (previous) {
    // Copy before accumulating: a backward rule may return a tensor it shares with another input.
    const sum = new Tensor(previous.data.slice(), input.shape);
    accumulateInto(sum.data, gi.data);
    grads.set(input, sum);
  } else grads.set(input, gi.shape.length === input.shape.length ? gi : new Tensor(gi.data, input.shape));
}

const NOTHING_SAVED: readonly AnyTensor[] = Object.freeze([]);

/**
 * Records `output = op(inputs)` on the tape when gradients are on and some input requires them.
 * `saved` lists the tensors (inputs or the output) whose values the node's backward reads: their
 * versions are noted now and checked before the backward runs.
 */
export function record<D extends TensorDType>(output: Tensor<D>, node: GradNode, saved: readonly AnyTensor[] = NOTHING_SAVED): Tensor<D> {
  if (gradEnabled && node.inputs.some((t) => t.requiresGrad)) {
    if (saved.length > 0) {
      const versions = new Array<number>(saved.length);
      for (let i = 0; i < saved.length; i++) versions[i] = saved[i]!.version;
      const saving = node as SavingNode;
      saving.savedTensors = saved;
      saving.savedVersions = versions;
    }
    output.gradFn = node;
    output.requiresGrad = true;
  }
  return output;
}

/**
 * Module: a tree of named parameters and sub-modules, with PyTorch's naming (`lstm.weight_ih_l0`),
 * state dicts and train/eval modes. Parameters register in order, so iteration order is PyTorch's.
 */
import { kernelsFor, type DType, type KernelBuffer, type Kernels } from '../kernels/index.js';
import { formatShape, fromBuffer, noGrad, type Tensor } from '../tensor/index.js';

export class Module {
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly childModules = new Map<string, Module>();
  /** Kernel memory this module allocated (its parameters' storage), with the backend that did. */
  private readonly ownedMemory: { buffer: KernelBuffer; kernels: Kernels }[] = [];
  private disposedModule = false;

  /** Creates a zero parameter in the kernels' long-lived memory and registers it. */
  protected createParameter(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const size = shape.reduce((p, q) => p * q, 1);
    const t = fromBuffer(this.allocateOwned(size, dtype), shape, { requiresGrad: true });
    return this.registerParameter(name, t);
  }

  /** A zero-filled buffer in kernel memory that lives until this module is disposed (or collected). */
  protected allocateOwned(length: number, dtype: DType): KernelBuffer {
    const kernels = kernelsFor(dtype);
    const buffer = kernels.allocate(length, dtype);
    this.ownedMemory.push({ buffer, kernels });
    return buffer;
  }

  /** Whether dispose() has been called. */
  get disposed(): boolean {
    return this.disposedModule;
  }

  /**
   * Gives the kernel memory of this module and its sub-modules back now: parameters, their
   * gradients, and whatever their calls still hold. Optional: a module nobody references is
   * collected anyway, but programs that build and drop many models (a playground, a search over
   * sizes) should not wait for the collector. Using the module or its parameters afterwards throws.
   */
  dispose(): void {
    for (const [, m] of this.namedModules()) m.disposeOwn();
  }

  /** This module's part of dispose() (dispose itself reaches the sub-modules), once. */
  private disposeOwn(): void {
    if (this.disposedModule) return;
    this.disposedModule = true;
    for (const p of this.ownParameters.values()) p.releaseGradMemory();
    for (const { buffer, kernels } of this.ownedMemory.splice(0)) kernels.release(buffer);
    this.releaseMemory();
  }

  /** Kernel memory a subclass holds besides its parameters, given back by dispose() (once). */
  protected releaseMemory(): void {}

  /** Throws the use-after-dispose error (call at the top of forward). */
  protected checkNotDisposed(where: string): void {
    if (this.disposedModule) throw new Error(`${where}: this module was disposed (dispose() gave its memory back); build a new one`);
  }

  registerParameter(name: string, tensor: Tensor): Tensor {
    if (this.ownParameters.has(name) || this.childModules.has(name)) throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    tensor.requiresGrad = true;
    this.ownParameters.set(name, tensor);
    return tensor;
  }

  /** A tensor that belongs to the state dict but is not trained (none of the built-in layers has one yet). */
  registerBuffer(name: string, tensor: Tensor): Tensor {
    this.ownBuffers.set(name, tensor);
    return tensor;
  }

  registerModule<M extends Module>(name: string, module: M): M {
    if (this.ownParameters.has(name) || this.childModules.has(name)) throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    this.childModules.set(name, module);
    return module;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [name, p] of this.ownParameters) yield [prefix + name, p];
    for (const [name, m] of this.childModules) yield* m.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [name, m] of this.childModules) yield* m.namedModules(`${prefix}${name}.`);
  }

  children(): Module[] {
    return [...this.childModules.values()];
  }

  /** Parameters and buffers by their dotted names (shared storage, not copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, module] of this.namedModules()) {
      const prefix = name === '' ? '' : `${name}.`;
      for (const [k, t] of module.ownParameters) out[prefix + k] = t;
      for (const [k, t] of module.ownBuffers) out[prefix + k] = t;
    }
    return out;
  }

  /**
   * Copies values from a state dict (dtypes converted as needed). Strict by default: missing,
   * unexpected and mis-shaped keys are all listed in one error, and nothing is changed. Each
   * parameter written gets a new version.
   */
  loadStateDict(dict: Record<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const result = this.checkStateDict(dict, options);
    const own = this.stateDict();
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const src = dict[k];
        if (!src) continue;
        t.data.set(src.data);
        t.bumpVersion();
      }
    });
    return result;
  }

  /**
   * Throws what loadStateDict would throw for this dict, changing nothing; otherwise returns the keys
   * it would skip. Lets a caller check several parts (a checkpoint's model and optimizer) before
   * loading any.
   */
  checkStateDict(dict: Record<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    const misShaped = Object.keys(own)
      .filter((k) => k in dict && (dict[k]!.size !== own[k]!.size || dict[k]!.shape.some((d, i) => d !== own[k]!.shape[i]) || dict[k]!.shape.length !== own[k]!.shape.length))
      .map((k) => `${k}: expected ${formatShape(own[k]!.shape)}, got ${formatShape(dict[k]!.shape)}`);
    const problems: string[] = [];
    if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (misShaped.length) problems.push(`shape mismatches: ${misShaped.join('; ')}`);
    if ((strict && problems.length) || misShaped.length) {
      throw new Error(`${this.constructor.name}.loadStateDict: ${problems.join('. ')}`);
    }
    return { missing, unexpected };
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (see Optimizer.zeroGrad for what the next backward reuses). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }
}

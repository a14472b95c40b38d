/**
 * Module: a tree of named parameters and sub-modules, with PyTorch's naming (`lstm.weight_ih_l0`),
 * state dicts and train/eval modes. Parameters and sub-modules register on assignment, in
 * declaration order, so iteration order is PyTorch's.
 */
import { kernelsFor, type DType, type KernelBuffer, type Kernels } from '../kernels/index.js';
import { formatShape, fromBuffer, knownOptions, noGrad, Tensor } from '../tensor/index.js';
import { describeValue as describe } from './checks.js';

/**
 * Tensors that are parameters (PyTorch's nn.Parameter): marked when registered, when made with
 * `Parameter(t)`, or when first found on a module as a leaf that requires gradients, so that a
 * parameter frozen later (`requiresGrad_(false)`) stays in `parameters()` and the state dict.
 */
const parameterTensors = new WeakSet<Tensor>();

/** Marks a tensor as a parameter (PyTorch's `nn.Parameter(t)`): it requires gradients from now on. */
export function Parameter(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`Parameter: expected a Tensor, got ${describe(t)}`);
  if (!t.isLeaf) throw new Error('Parameter: expected a leaf tensor (one not computed by a recorded op); detach() it first');
  t.requiresGrad = true;
  parameterTensors.add(t);
  return t;
}

function isParameter(value: unknown): value is Tensor {
  if (!(value instanceof Tensor)) return false;
  if (parameterTensors.has(value)) return true;
  if (!value.isLeaf || !value.requiresGrad) return false;
  parameterTensors.add(value);
  return true;
}

/**
 * How sub-modules and parameters are found (PyTorch registers on assignment in __setattr__):
 * a module's own enumerable properties, read in insertion order whenever the tree is walked
 * (`parameters()`, `stateDict()`, `train()`, ...). A property that holds a Module is a child, one
 * that holds a parameter tensor is a parameter, so `this.fc = new Linear(...)` registers `fc`, in
 * declaration order, and `decoder.weight = encoder.weight` ties the two. This was chosen over a
 * Proxy returned from the constructor, which would put a trap on every property read of every
 * module, forward's hot path included; walking a handful of keys costs nothing next to a step, and
 * nothing is walked in forward. The explicit `register*` methods define the same properties.
 */
export class Module {
  training = true;
  /** Names of the properties that are buffers (state that is saved but not trained). */
  private readonly bufferNames = new Set<string>();
  /** Names of the parameters registered with registerFixedParameter. */
  private readonly fixedNames = new Set<string>();
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
    for (const [, p] of this.ownParameterEntries()) p.releaseGradMemory();
    for (const { buffer, kernels } of this.ownedMemory.splice(0)) kernels.release(buffer);
    this.releaseMemory();
  }

  /** Kernel memory a subclass holds besides its parameters, given back by dispose() (once). */
  protected releaseMemory(): void {}

  /** Throws the use-after-dispose error (call at the top of forward). */
  protected checkNotDisposed(where: string): void {
    if (this.disposedModule) throw new Error(`${where}: this module was disposed (dispose() gave its memory back); build a new one`);
  }

  /** Registers a parameter under `name` (the same as assigning it to `this[name]`). */
  registerParameter(name: string, tensor: Tensor): Tensor {
    this.checkFreeName(name, tensor, 'registerParameter');
    Parameter(tensor);
    this.defineSlot(name, tensor);
    return tensor;
  }

  /**
   * Registers a parameter that cannot be replaced by assignment, for modules whose kernels hold
   * their own reference to it (the recurrent layers): assigning it throws instead of leaving the
   * module computing with the old tensor while `parameters()` lists the new one.
   */
  protected registerFixedParameter(name: string, tensor: Tensor): Tensor {
    this.checkFreeName(name, tensor, 'registerParameter');
    Parameter(tensor);
    this.fixedNames.add(name);
    this.defineFixed(name, tensor);
    return tensor;
  }

  private defineFixed(name: string, tensor: Tensor): void {
    const owner = this.constructor.name;
    Object.defineProperty(this, name, {
      enumerable: true, configurable: true,
      get: () => tensor,
      set: () => {
        throw new Error(`${owner}: parameter '${name}' cannot be replaced (the fused kernels read this tensor); copy values into it with copy_() under noGrad instead`);
      },
    });
  }

  /**
   * Converts every parameter and buffer of this module and its sub-modules to `dtype`, in place as
   * PyTorch's `module.to(dtype)` does (the module object stays; its parameters are new tensors, so
   * build optimizers afterwards). Tied parameters stay tied.
   */
  to(dtype: DType): this {
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`${this.constructor.name}.to: dtype must be 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
    const converted = new Map<Tensor, Tensor>();
    for (const [, m] of this.namedModules()) {
      m.checkNotDisposed(`${m.constructor.name}.to`);
      m.convertOwn(dtype, converted);
    }
    return this;
  }

  double(): this {
    return this.to('float64');
  }

  float(): this {
    return this.to('float32');
  }

  private convertOwn(dtype: DType, converted: Map<Tensor, Tensor>): void {
    const replaced = new Map<Tensor, Tensor>();
    for (const [name, p] of [...this.ownParameterEntries()]) {
      if (p.dtype === dtype) continue;
      let next = converted.get(p);
      if (!next) {
        next = fromBuffer(this.allocateOwned(p.size, dtype), p.shape, { requiresGrad: p.requiresGrad });
        parameterTensors.add(next);
        noGrad(() => next!.data.set(p.data));
        converted.set(p, next);
      }
      replaced.set(p, next);
      if (this.fixedNames.has(name)) this.defineFixed(name, next);
      else this.defineSlot(name, next);
    }
    for (const [name, b] of [...this.ownBufferEntries()]) {
      if (b.dtype === dtype) continue;
      const next = converted.get(b) ?? noGrad(() => b.to(dtype));
      converted.set(b, next);
      this.defineSlot(name, next);
    }
    if (replaced.size === 0) return;
    this.parametersConverted(dtype, replaced);
    // The old storage this module allocated goes back now (a tied parameter's, by its owner).
    for (const old of replaced.keys()) {
      old.releaseGradMemory();
      const at = this.ownedMemory.findIndex((m) => m.buffer === old.rawStorage);
      if (at >= 0) {
        const [{ buffer, kernels }] = this.ownedMemory.splice(at, 1) as [{ buffer: KernelBuffer; kernels: Kernels }];
        kernels.release(buffer);
      }
    }
  }

  /**
   * Called by to(dtype) after this module's parameters were replaced by converted copies (old → new),
   * before the old storage is released: a module that keeps its own references to its parameters
   * (the recurrent layers' weight maps and prepared-weight caches) updates them here.
   */
  protected parametersConverted(_dtype: DType, _replaced: ReadonlyMap<Tensor, Tensor>): void {}

  /** A tensor that belongs to the state dict but is not trained (PyTorch's register_buffer). */
  registerBuffer(name: string, tensor: Tensor): Tensor {
    this.checkFreeName(name, tensor, 'registerBuffer');
    this.bufferNames.add(name);
    this.defineSlot(name, tensor);
    return tensor;
  }

  registerModule<M extends Module>(name: string, module: M): M {
    if (!(module instanceof Module)) throw new Error(`${this.constructor.name}.registerModule: '${name}' must be a Module, got ${describe(module)}`);
    this.checkFreeName(name, module, 'registerModule');
    this.defineSlot(name, module);
    return module;
  }

  private checkFreeName(name: string, value: unknown, where: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new Error(`${this.constructor.name}.${where}: the name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    const current: unknown = (this as Record<string, unknown>)[name];
    if (current !== undefined && current !== null && current !== value) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  private defineSlot(name: string, value: unknown): void {
    Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
  }

  /**
   * The names of this module's own properties in registration order. JavaScript lists integer-like
   * names first, in numeric order, which is ModuleList's order; ModuleDict overrides this to keep
   * insertion order for every key, as PyTorch's does.
   */
  protected memberNames(): string[] {
    return Object.keys(this);
  }

  /** This module's own parameters, by property name, in declaration order. */
  private *ownParameterEntries(): Generator<[string, Tensor]> {
    for (const key of this.memberNames()) {
      const value: unknown = (this as Record<string, unknown>)[key];
      if (!this.bufferNames.has(key) && isParameter(value)) yield [key, value];
    }
  }

  private *ownBufferEntries(): Generator<[string, Tensor]> {
    for (const key of this.bufferNames) {
      const value: unknown = (this as Record<string, unknown>)[key];
      if (value instanceof Tensor) yield [key, value];
    }
  }

  private *childEntries(): Generator<[string, Module]> {
    for (const key of this.memberNames()) {
      const value: unknown = (this as Record<string, unknown>)[key];
      if (value instanceof Module) yield [key, value];
    }
  }

  /** Parameters by dotted name; a tensor reachable under two names (tied weights) comes once, as in PyTorch. */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [name, module] of this.namedModules()) {
      const at = prefix + (name === '' ? '' : `${name}.`);
      for (const [k, p] of module.ownParameterEntries()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [at + k, p];
      }
    }
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Buffers by dotted name. */
  *namedBuffers(): Generator<[string, Tensor]> {
    for (const [name, module] of this.namedModules()) {
      for (const [k, b] of module.ownBufferEntries()) yield [(name === '' ? '' : `${name}.`) + k, b];
    }
  }

  /** This module and every sub-module, depth first, each once (a module shared by two parents comes under its first name). */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix.replace(/\.$/, ''), this];
    for (const [name, m] of this.childEntries()) yield* m.namedModules(`${prefix}${name}.`, seen);
  }

  children(): Module[] {
    return [...this.childEntries()].map(([, m]) => m);
  }

  /** Calls fn on every sub-module and then on this one (PyTorch's `apply`, used for custom initialisation). */
  apply(fn: (module: Module) => void): this {
    if (typeof fn !== 'function') throw new Error(`${this.constructor.name}.apply: expected a function, got ${describe(fn)}`);
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Parameters and buffers by their dotted names (shared storage, not copies). Tied weights appear
   * under each of their names, as in PyTorch's state_dict, and loading writes both into the one tensor.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const visit = (module: Module, prefix: string, path: Set<Module>): void => {
      if (path.has(module)) return; // a cycle of references, which PyTorch would recurse into forever
      path.add(module);
      for (const [k, t] of module.ownParameterEntries()) out[prefix + k] = t;
      for (const [k, t] of module.ownBufferEntries()) out[prefix + k] = t;
      for (const [k, m] of module.childEntries()) visit(m, `${prefix}${k}.`, path);
      path.delete(module);
    };
    visit(this, '', new Set());
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
    const strict = knownOptions(`${this.constructor.name}.loadStateDict`, options, ['strict']).strict ?? true;
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

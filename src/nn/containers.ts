/**
 * ModuleList and ModuleDict: PyTorch's containers that register the modules they hold, so that
 * `parameters()`, `stateDict()` (`layers.0.weight`, `heads.pitch.bias`), `train()`, `to(dtype)` and
 * `dispose()` reach them. A plain array or object of modules on a property is not registered, as in
 * PyTorch. Neither container has a forward: the owning module decides how its members are called.
 */
import { describeValue as describe } from './checks.js';
import { Module } from './module.js';

function checkModule(where: string, value: unknown): void {
  if (!(value instanceof Module)) throw new Error(`${where}: expected a Module, got ${describe(value)}`);
}

/**
 * Modules by position, registered as `0`, `1`, ... (so `list[0]` reads one and the state dict says
 * `layers.0.weight`). Inserting or removing renumbers the ones after it, as PyTorch's does.
 */
export class ModuleList<M extends Module = Module> extends Module {
  readonly [index: number]: M;
  private items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    if (modules === null || typeof modules !== 'object' || !(Symbol.iterator in modules)) {
      throw new Error(`ModuleList: expected an iterable of modules, got ${describe(modules)}`);
    }
    this.extend(modules);
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** The module at position i; negative counts from the end, as `list[-1]` in PyTorch. */
  at(i: number): M {
    return this.items[this.position('ModuleList.at', i, this.items.length)]!;
  }

  /** Replaces the module at position i (PyTorch's `list[i] = m`). */
  set(i: number, module: M): this {
    checkModule('ModuleList.set', module);
    const items = [...this.items];
    items[this.position('ModuleList.set', i, items.length)] = module;
    this.renumber(items);
    return this;
  }

  append(module: M): this {
    checkModule(`ModuleList.append`, module);
    this.renumber([...this.items, module]);
    return this;
  }

  extend(modules: Iterable<M>): this {
    const added = [...modules];
    added.forEach((m, k) => checkModule(`ModuleList: item ${k}`, m));
    this.renumber([...this.items, ...added]);
    return this;
  }

  /** Inserts before position i (i may equal the length; negative counts from the end, clamped as Python's list.insert). */
  insert(i: number, module: M): this {
    checkModule('ModuleList.insert', module);
    if (!Number.isInteger(i)) throw new Error(`ModuleList.insert: index must be an integer, got ${String(i)}`);
    const n = this.items.length;
    const at = Math.min(Math.max(i < 0 ? n + i : i, 0), n);
    this.renumber([...this.items.slice(0, at), module, ...this.items.slice(at)]);
    return this;
  }

  /** Removes and returns the module at position i (default the last). */
  pop(i = -1): M {
    const at = this.position('ModuleList.pop', i, this.items.length);
    const removed = this.items[at]!;
    this.renumber(this.items.filter((_, k) => k !== at));
    return removed;
  }

  private position(where: string, i: number, length: number): number {
    if (!Number.isInteger(i) || i < -length || i >= length) {
      throw new Error(`${where}: index ${String(i)} is out of range for ${length} module(s)`);
    }
    return i < 0 ? length + i : i;
  }

  /** Registers `items` as 0..n-1; integer-like names enumerate in numeric order, which is the list's order. */
  private renumber(items: M[]): void {
    const self = this as unknown as Record<string, unknown>;
    for (let k = 0; k < this.items.length; k++) delete self[String(k)];
    this.items = items;
    items.forEach((m, k) => this.registerModule(String(k), m));
  }
}

/**
 * Modules by name, in insertion order (PyTorch's ModuleDict), registered under their keys so the
 * state dict says `heads.pitch.weight`. Iterating yields the keys, as in PyTorch.
 */
export class ModuleDict<M extends Module = Module> extends Module {
  private order: string[] = [];

  constructor(modules: Record<string, M> | Iterable<readonly [string, M]> = {}) {
    super();
    this.update(modules);
  }

  get size(): number {
    return this.order.length;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  keys(): string[] {
    return [...this.order];
  }

  values(): M[] {
    return this.order.map((k) => this.get(k));
  }

  entries(): [string, M][] {
    return this.order.map((k) => [k, this.get(k)]);
  }

  has(key: string): boolean {
    return this.order.includes(key);
  }

  get(key: string): M {
    if (!this.has(key)) throw new Error(`ModuleDict.get: no module under ${JSON.stringify(key)} (keys: ${this.order.map((k) => JSON.stringify(k)).join(', ') || 'none'})`);
    return (this as unknown as Record<string, M>)[key]!;
  }

  /** Adds or replaces the module under `key`; a replaced one keeps its place in the order, as in Python dicts. */
  set(key: string, module: M): this {
    checkModule(`ModuleDict.set(${JSON.stringify(key)})`, module);
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new Error(`ModuleDict: a key must be a non-empty string without '.', got ${JSON.stringify(key)}`);
    }
    const self = this as unknown as Record<string, unknown>;
    if (!this.has(key) && key in self) {
      throw new Error(`ModuleDict: the key ${JSON.stringify(key)} is the name of a ModuleDict property or method; choose another`);
    }
    if (this.has(key)) delete self[key];
    else this.order.push(key);
    this.registerModule(key, module);
    return this;
  }

  /**
   * Adds every [key, module] of an object, a Map or an iterable of pairs, in its order. An object
   * literal lists integer-like keys ('10', '2') first whatever their place in the source, a rule of
   * JavaScript; pass pairs or a Map to keep such keys in your order.
   */
  update(modules: Record<string, M> | Iterable<readonly [string, M]>): this {
    if (modules === null || typeof modules !== 'object') {
      throw new Error(`ModuleDict: expected an object of modules or [key, module] pairs, got ${describe(modules)}`);
    }
    const pairs = Symbol.iterator in modules ? [...(modules as Iterable<readonly [string, M]>)] : Object.entries(modules);
    pairs.forEach((pair, k) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`ModuleDict: item ${k} must be a [key, module] pair, got ${describe(pair)}`);
    });
    for (const [key, module] of pairs) this.set(key, module);
    return this;
  }

  /** Removes and returns the module under `key` (PyTorch's `pop`). */
  pop(key: string): M {
    const module = this.get(key);
    delete (this as unknown as Record<string, unknown>)[key];
    this.order = this.order.filter((k) => k !== key);
    return module;
  }

  protected override memberNames(): string[] {
    const others = Object.keys(this).filter((k) => !this.order.includes(k));
    return [...this.order, ...others];
  }
}

/**
 * The optimizer base: parameter groups, per-parameter state, step/zeroGrad and a state dict that
 * checkpoints can save. Subclasses supply only their hyper-parameter checks, the names of their state
 * buffers and the update rule for one parameter.
 *
 * Optimizers see lists of parameter tensors, never modules, so that any tensors can be optimized and
 * optim never depends on nn. State buffers come from the kernels layer's allocator: they live as
 * long as the optimizer, in wasm memory when that backend is active.
 */
import { kernelsFor, type KernelBuffer, type Kernels } from '../kernels/index.js';
import { enableGrad, formatShape, fromBuffer, sameShape, Tensor } from '../tensor/index.js';
import { checkInteger, checkKnownKeys, isPlainObject } from './validate.js';

/** A parameter group: its tensors and its own copy of every hyper-parameter (mutable, for schedulers). */
export type ParamGroup<H> = H & { params: Tensor[] };
/** A group as passed to a constructor: hyper-parameters left out take the optimizer's options. */
export type ParamGroupInput<H> = Partial<H> & { params: Iterable<Tensor> };
export type Params<H> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

/** The JSON part of an optimizer's state: plain numbers, booleans and arrays only. */
export interface OptimizerMeta {
  optimizer: string;
  /** Each group's hyper-parameters, and its parameters as indices counted across groups in order. */
  paramGroups: Array<{ params: number[]; [hyper: string]: unknown }>;
  /** Steps taken by each parameter that has state, keyed by its index. */
  steps: Record<string, number>;
  /** Scalars an optimizer keeps for all its parameters together (LBFGS's counters), by PyTorch's names. */
  scalars?: Record<string, number>;
}

export interface OptimizerStateDict {
  /** State buffers keyed `<parameter index>.<buffer name>` with PyTorch's buffer names (`0.exp_avg`). */
  state: Record<string, Tensor>;
  meta: OptimizerMeta;
}

interface OwnedBuffer {
  readonly tensor: Tensor;
  /** The backend that allocated it, which is the one that must release it. */
  readonly kernels: Kernels;
}

export interface ParamState {
  step: number;
  readonly buffers: Map<string, OwnedBuffer>;
}

const STATE_KEY = /^(0|[1-9][0-9]*)\.(.+)$/;

/**
 * What step() does about non-finite numbers. 'ignore' (the default) is PyTorch's behaviour: a NaN
 * gradient goes into the weights without a word. 'error' checks every gradient before changing
 * anything and every parameter after the update, and throws naming the parameter and the element:
 * a training loop of one's own then stops at the step that went wrong, not many steps of NaN later.
 * It costs a pass over the gradients and one over the parameters per step.
 */
export type NonFiniteMode = 'ignore' | 'error';

/** Options of step() itself, not hyper-parameters: not in param groups, not in state dicts. */
export interface StepChecks {
  nonFinite?: NonFiniteMode;
}

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];
  /** The options given to the constructor merged over the built-in defaults. */
  readonly defaults: H;
  private readonly state = new Map<Tensor, ParamState>();
  private readonly hyperKeys: readonly string[];
  private disposedOptimizer = false;
  /** See NonFiniteMode. */
  readonly nonFinite: NonFiniteMode;

  /**
   * `builtin` lists every hyper-parameter with PyTorch's default (undefined where PyTorch has none);
   * `options` overrides them for all groups.
   */
  protected constructor(readonly name: string, params: Params<H>, options: Partial<H> & StepChecks, builtin: Partial<H>) {
    this.hyperKeys = Object.keys(builtin);
    if (!isPlainObject(options)) throw new Error(`${name}: options must be an object, got ${String(options)}`);
    const { nonFinite = 'ignore', ...hyper } = options;
    if (nonFinite !== 'ignore' && nonFinite !== 'error') {
      throw new Error(`${name}: nonFinite must be 'ignore' or 'error', got ${typeof nonFinite === 'string' ? `'${nonFinite}'` : String(nonFinite)}`);
    }
    this.nonFinite = nonFinite;
    checkKnownKeys(name, hyper, this.hyperKeys);
    this.defaults = copyHyper({ ...builtin, ...hyper }) as H;
    this.checkHyper(name, this.defaults);
    this.paramGroups = this.buildGroups(params);
  }

  /** Throws a clear Error when a hyper-parameter is out of range. `where` prefixes the message. */
  protected abstract checkHyper(where: string, hyper: H): void;
  /** The state buffers a parameter holds once it has taken a step under these hyper-parameters. */
  protected abstract bufferNames(hyper: H): string[];
  /** Updates one parameter in place; `state.step` already counts this step. */
  protected abstract update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /**
   * One update of every parameter that has a gradient; parameters whose grad is null are skipped.
   * As in PyTorch, a closure (which zeroes the gradients, computes the loss, calls backward and
   * returns the loss) is called first, and what it returns is returned.
   */
  step<T = unknown>(closure?: () => T): T | undefined {
    if (closure !== undefined && typeof closure !== 'function') throw new Error(`${this.name}.step: closure must be a function, got ${String(closure)}`);
    this.checkNotDisposed('step');
    // As PyTorch, the closure records its graph even when step() is called under noGrad.
    const loss = closure && enableGrad(closure);
    this.updateAll();
    return loss;
  }

  private updateAll(): void {
    // Check everything before changing anything, so a bad group or gradient leaves no half-done step.
    this.paramGroups.forEach((group, i) => this.checkHyper(this.groupWhere(i), group));
    for (const group of this.paramGroups) {
      for (const p of group.params) if (p.grad !== null) this.checkGrad(p, p.grad);
    }
    if (this.nonFinite === 'error') this.checkFiniteGradients();
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        let st = this.state.get(p);
        if (!st) {
          st = { step: 0, buffers: new Map() };
          this.state.set(p, st);
        }
        st.step += 1;
        this.update(p, p.grad, st, group);
        // Here rather than in each update rule, so that no optimizer (kernel-written ones included)
        // can forget it: caches of prepared weights and autograd's saved-tensor check read it.
        p.bumpVersion();
      }
    }
    if (this.nonFinite === 'error') this.checkFiniteParameters();
  }

  /** nonFinite 'error', before the update: nothing has changed yet when this throws. */
  private checkFiniteGradients(): void {
    this.forEachStepped((p, index) => {
      const at = firstNonFinite(p.grad!.data);
      if (at < 0) return;
      throw new Error(`${this.name}.step: the gradient of parameter ${index} (shape ${formatShape(p.shape)}) holds ${p.grad!.data[at]} at element ${at}; ` +
        `no parameter was changed (nonFinite: 'error'). The loss has blown up or the data hold NaN: lower the learning rate, clip the gradient norm (optim.clipGradNorm), or check the inputs`);
    });
  }

  /** nonFinite 'error', after the update: finite gradients can still step a weight past float's range. */
  private checkFiniteParameters(): void {
    this.forEachStepped((p, index, group) => {
      const at = firstNonFinite(p.data);
      if (at < 0) return;
      throw new Error(`${this.name}.step: this step made parameter ${index} (shape ${formatShape(p.shape)}) ${p.data[at]} at element ${at} ` +
        `(nonFinite: 'error'; the step was applied): the update is too large for lr ${group.lr}; lower the learning rate or clip the gradient norm`);
    });
  }

  /** Every parameter this step updates, with its index counted across groups (as in state dicts). */
  private forEachStepped(visit: (p: Tensor, index: number, group: ParamGroup<H>) => void): void {
    let index = 0;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad !== null) visit(p, index, group);
        index++;
      }
    }
  }

  /**
   * Drops every parameter's gradient. Parity note: this is PyTorch 2's default (`set_to_none=True`);
   * PyTorch 1.13 zero-filled by default. A parameter in kernel memory (wasm) keeps its gradient's
   * memory, and the next backward writes the new gradient there (Tensor.accumulateGrad), so clone() a
   * gradient you want to keep past zeroGrad().
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.grad = null;
  }

  /** A snapshot: the tensors are copies, so training on does not change a state dict already taken. */
  stateDict(): OptimizerStateDict {
    this.checkNotDisposed('stateDict');
    const state: Record<string, Tensor> = {};
    const steps: Record<string, number> = {};
    const paramGroups: OptimizerMeta['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, ...hyper } = group;
      const indices: number[] = [];
      for (const p of params) {
        const st = this.state.get(p);
        if (st) {
          steps[index] = st.step;
          for (const [name, owned] of st.buffers) state[`${index}.${name}`] = owned.tensor.clone();
        }
        indices.push(index++);
      }
      paramGroups.push({ ...copyHyper(hyper), params: indices });
    }
    return { state, meta: { optimizer: this.name, paramGroups, steps } };
  }

  /**
   * Restores hyper-parameters, step counts and state buffers, as PyTorch's load_state_dict does:
   * saved parameters map to this optimizer's by position within each group. Everything is checked
   * before anything changes, since the dict may come from a file.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.prepareLoad(dict)();
  }

  /**
   * Throws what loadStateDict would throw for this dict, changing nothing. Lets a caller check
   * several parts (a checkpoint's model and optimizer) before loading any.
   */
  checkStateDict(dict: OptimizerStateDict): void {
    this.prepareLoad(dict);
  }

  /** Checks a state dict completely and returns the function that loads it (it only copies and allocates). */
  private prepareLoad(dict: OptimizerStateDict): () => void {
    this.checkNotDisposed('loadStateDict');
    const where = `${this.name}.loadStateDict`;
    if (!isPlainObject(dict) || !isPlainObject(dict.state) || !isPlainObject(dict.meta)) {
      throw new Error(`${where}: expected { state, meta } as returned by stateDict()`);
    }
    const meta = dict.meta as unknown as Record<string, unknown>;
    if (meta.optimizer !== this.name) {
      throw new Error(`${where}: the state was saved by optimizer ${JSON.stringify(meta.optimizer)}, this is ${this.name}`);
    }
    const savedGroups = meta.paramGroups;
    if (!Array.isArray(savedGroups) || savedGroups.length !== this.paramGroups.length) {
      throw new Error(`${where}: expected ${this.paramGroups.length} param group(s), the state has ${Array.isArray(savedGroups) ? savedGroups.length : 'none'}`);
    }

    // Map saved parameter indices to our tensors and rebuild each group's hyper-parameters.
    const byIndex = new Map<number, { param: Tensor; hyper: H }>();
    const hypers = this.paramGroups.map((group, g) => {
      const saved: unknown = savedGroups[g];
      const gWhere = `${where} (param group ${g})`;
      if (!isPlainObject(saved) || !Array.isArray(saved.params)) throw new Error(`${gWhere}: expected an object with a params array`);
      if (saved.params.length !== group.params.length) {
        throw new Error(`${gWhere}: the group has ${group.params.length} parameter(s), the state has ${saved.params.length}`);
      }
      const { params: savedParams, ...savedHyper } = saved;
      checkKnownKeys(gWhere, savedHyper, this.hyperKeys);
      const { params, ...current } = group;
      for (const key of Object.keys(savedHyper)) checkSameKind(gWhere, key, (current as Record<string, unknown>)[key], savedHyper[key]);
      const hyper = copyHyper({ ...current, ...savedHyper }) as unknown as H;
      this.checkHyper(gWhere, hyper);
      (savedParams as unknown[]).forEach((id, k) => {
        checkInteger(gWhere, 'a parameter index', id, 0);
        if (byIndex.has(id as number)) throw new Error(`${where}: parameter index ${String(id)} appears twice`);
        byIndex.set(id as number, { param: params[k]!, hyper });
      });
      return hyper;
    });

    const steps = new Map<number, number>();
    if (!isPlainObject(meta.steps)) throw new Error(`${where}: meta.steps must be an object of step counts`);
    for (const [key, value] of Object.entries(meta.steps)) {
      const id = Number(key);
      if (String(id) !== key || !byIndex.has(id)) throw new Error(`${where}: a step count for parameter index '${key}', which no group lists`);
      checkInteger(where, `the step count of parameter ${key}`, value, 0);
      if ((value as number) > 0) steps.set(id, value as number);
    }

    const buffers = new Map<number, Map<string, Tensor>>();
    for (const [key, tensor] of Object.entries(dict.state)) {
      const match = STATE_KEY.exec(key);
      const id = match ? Number(match[1]) : NaN;
      const entry = byIndex.get(id);
      if (!match || !entry) throw new Error(`${where}: state key '${key}' does not name a parameter index and a buffer ('<index>.<name>')`);
      const name = match[2]!;
      const allowed = this.bufferNames(entry.hyper);
      if (!allowed.includes(name)) {
        throw new Error(`${where}: unexpected state buffer '${key}' (parameters of this group hold: ${allowed.join(', ') || 'nothing'})`);
      }
      if (!steps.has(id)) throw new Error(`${where}: state buffer '${key}' belongs to a parameter with no steps taken`);
      if (!(tensor instanceof Tensor)) throw new Error(`${where}: state '${key}' must be a Tensor`);
      if (!sameShape(tensor.shape, entry.param.shape)) {
        throw new Error(`${where}: state '${key}' has shape ${formatShape(tensor.shape)}, its parameter has shape ${formatShape(entry.param.shape)}`);
      }
      let map = buffers.get(id);
      if (!map) buffers.set(id, (map = new Map()));
      map.set(name, tensor);
    }
    for (const id of steps.keys()) {
      const entry = byIndex.get(id)!;
      const have = buffers.get(id);
      const missing = this.bufferNames(entry.hyper).filter((name) => !have?.has(name));
      if (missing.length > 0) throw new Error(`${where}: parameter ${id} has taken steps but the state lacks ${missing.map((n) => `'${id}.${n}'`).join(', ')}`);
    }

    // Everything checked: the commit.
    return () => this.commitLoad(hypers, byIndex, steps, buffers);
  }

  private commitLoad(hypers: H[], byIndex: Map<number, { param: Tensor; hyper: H }>, steps: Map<number, number>, buffers: Map<number, Map<string, Tensor>>): void {
    this.paramGroups.forEach((group, g) => Object.assign(group, hypers[g]));
    for (const [id, { param }] of byIndex) {
      const step = steps.get(id);
      const old = this.state.get(param);
      if (step === undefined) {
        if (old) for (const owned of old.buffers.values()) releaseBuffer(owned);
        this.state.delete(param);
        continue;
      }
      const st: ParamState = { step, buffers: new Map() };
      for (const [name, source] of buffers.get(id) ?? []) {
        const owned = old?.buffers.get(name) ?? allocateLike(param);
        old?.buffers.delete(name);
        owned.tensor.data.set(source.data);
        st.buffers.set(name, owned);
      }
      if (old) for (const owned of old.buffers.values()) releaseBuffer(owned);
      this.state.set(param, st);
    }
  }

  /**
   * The buffer `name` of a parameter's state, allocated zero-filled on first use. Get every buffer a
   * step needs before reading any `.data`: an allocation can grow wasm memory, which detaches views
   * taken earlier (of parameters too).
   */
  protected buffer(state: ParamState, name: string, param: Tensor): Tensor {
    let owned = state.buffers.get(name);
    if (!owned) {
      owned = allocateLike(param);
      state.buffers.set(name, owned);
    }
    return owned.tensor;
  }

  protected hasBuffer(state: ParamState, name: string): boolean {
    return state.buffers.has(name);
  }

  /** Whether dispose() has been called. */
  get disposed(): boolean {
    return this.disposedOptimizer;
  }

  /**
   * Gives the kernel memory of the optimizer's state (moments, step counts) back now rather than
   * when the optimizer is collected; the parameters are untouched. Using the optimizer afterwards
   * throws.
   */
  dispose(): void {
    if (this.disposedOptimizer) return;
    this.disposedOptimizer = true;
    for (const st of this.state.values()) for (const owned of st.buffers.values()) releaseBuffer(owned);
    this.state.clear();
  }

  private checkNotDisposed(method: string): void {
    if (this.disposedOptimizer) throw new Error(`${this.name}.${method}: this optimizer was disposed; build a new one`);
  }

  private groupWhere(index: number): string {
    return this.paramGroups.length === 1 ? this.name : `${this.name} (param group ${index})`;
  }

  private checkGrad(p: Tensor, g: Tensor): void {
    if (!(g instanceof Tensor)) throw new Error(`${this.name}.step: a parameter's grad must be a Tensor or null, got ${String(g)}`);
    if (g.size !== p.size || g.dtype !== p.dtype) {
      throw new Error(`${this.name}.step: a gradient of shape ${formatShape(g.shape)} (${g.dtype}) does not match its parameter of shape ${formatShape(p.shape)} (${p.dtype})`);
    }
  }

  private buildGroups(params: Params<H>): ParamGroup<H>[] {
    const name = this.name;
    if (params instanceof Tensor) throw new Error(`${name}: expected an iterable of parameters, got a single Tensor (wrap it in an array)`);
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new Error(`${name}: expected an iterable of parameter tensors or param groups, got ${String(params)}`);
    }
    const items: unknown[] = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const inputs: ParamGroupInput<H>[] = items.every((x) => x instanceof Tensor)
      ? [{ params: items as Tensor[] } as unknown as ParamGroupInput<H>]
      : (items as ParamGroupInput<H>[]);
    const seen = new Set<Tensor>();
    return inputs.map((input, g) => {
      const gWhere = `${name} (param group ${g})`;
      if (!isPlainObject(input) || input.params === null || typeof input.params !== 'object' || !(Symbol.iterator in input.params)) {
        throw new Error(`${name}: item ${g} must be a Tensor or a param group { params, ...options }, got ${input instanceof Tensor ? 'a Tensor mixed with groups' : String(input)}`);
      }
      const { params: groupParams, ...overrides } = input;
      checkKnownKeys(gWhere, overrides, this.hyperKeys);
      const list = [...groupParams];
      list.forEach((p, k) => {
        if (!(p instanceof Tensor)) throw new Error(`${gWhere}: parameter ${k} must be a Tensor, got ${String(p)}`);
        if (!p.isLeaf) throw new Error(`${gWhere}: parameter ${k} is not a leaf tensor (it was computed by an op); optimize the tensor it came from`);
        if (seen.has(p)) throw new Error(`${gWhere}: parameter ${k} appears more than once in the parameter list`);
        seen.add(p);
      });
      const hyper = copyHyper({ ...this.defaults, ...overrides }) as H;
      this.checkHyper(inputs.length === 1 ? name : gWhere, hyper);
      return { ...hyper, params: list } as ParamGroup<H>;
    });
  }
}

/** The index of the first NaN or infinite element, or -1. */
function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/** Copies arrays (betas) so that groups never share a mutable array with the caller or each other. */
function copyHyper<T extends object>(hyper: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(hyper)) out[key] = Array.isArray(value) ? [...value] : value;
  return out as T;
}

function checkSameKind(where: string, key: string, current: unknown, saved: unknown): void {
  const kind = (v: unknown): string => (Array.isArray(v) ? `array of ${v.length}` : typeof v);
  if (current !== undefined && kind(current) !== kind(saved)) {
    throw new Error(`${where}: ${key} must be of kind ${kind(current)}, the state has ${JSON.stringify(saved)}`);
  }
}

function allocateLike(param: Tensor): OwnedBuffer {
  const kernels = kernelsFor(param.dtype);
  const buffer: KernelBuffer = kernels.allocate(param.size, param.dtype);
  return { tensor: fromBuffer(buffer, param.shape), kernels };
}

function releaseBuffer(owned: OwnedBuffer): void {
  const storage = owned.tensor.rawStorage;
  if (!ArrayBuffer.isView(storage)) owned.kernels.release(storage);
}

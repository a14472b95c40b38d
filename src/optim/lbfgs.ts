/**
 * L-BFGS, PyTorch 1.13's algorithm (torch.optim.LBFGS, itself after minFunc): each step() runs up to
 * maxIter iterations of the two-loop recursion over the last historySize curvature pairs, with a
 * fixed step (lr, the first scaled by 1/|g|₁) or, with `lineSearchFn: 'strongWolfe'`, a line search
 * satisfying the strong Wolfe conditions (cubic interpolation, bracketing and zoom). The closure is
 * called whenever the loss and gradient are needed: it must zero the gradients, compute the loss,
 * call backward and return the loss.
 *
 * The direction, the history and the scalars of the recursion are float64 arrays here whatever the
 * parameters' dtype. Parity note: PyTorch keeps them in the parameters' dtype, so float32 runs can
 * differ from PyTorch's in the last bits; float64 runs follow it to rounding.
 */
import { enableGrad, formatShape, fromArray, sameShape, Tensor } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type Params, type ParamState, type OptimizerStateDict } from './optimizer.js';
import { checkFinite, checkInteger, checkKnownKeys, checkNonNegative, isPlainObject } from './validate.js';

export interface LBFGSOptions {
  lr: number;
  /** Iterations per step(). Default 20. */
  maxIter: number;
  /** Closure evaluations per step(). Default maxIter·5/4. */
  maxEval: number | null;
  /** Stop when the largest gradient entry is at most this. Default 1e-7. */
  toleranceGrad: number;
  /** Stop when the loss or the step changes by less than this. Default 1e-9. */
  toleranceChange: number;
  /** Curvature pairs kept. Default 100. */
  historySize: number;
  /** null (fixed steps, the default) or 'strongWolfe'. */
  lineSearchFn: 'strongWolfe' | null;
}

const BUILTIN: LBFGSOptions = { lr: 1, maxIter: 20, maxEval: null, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 100, lineSearchFn: null };

type Vec = Float64Array;
const dot = (a: Vec, b: Vec): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: Vec): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** What persists between step() calls, as PyTorch's state of the first parameter. */
interface History {
  funcEvals: number;
  nIter: number;
  d: Vec | null;
  t: number;
  oldDirs: Vec[];
  oldSteps: Vec[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Vec | null;
  prevLoss: number;
}

export class LBFGS extends Optimizer<LBFGSOptions> {
  private readonly history: History = { funcEvals: 0, nIter: 0, d: null, t: 0, oldDirs: [], oldSteps: [], ro: [], hDiag: 1, prevFlatGrad: null, prevLoss: 0 };

  constructor(params: Params<LBFGSOptions>, options: Partial<LBFGSOptions> = {}) {
    // The base class reads nonFinite for the update rule of the others; LBFGS's step is its own.
    if (isPlainObject(options) && 'nonFinite' in options) throw new Error("LBFGS: nonFinite is not supported; check the closure's loss (LBFGS stops on its own tolerances)");
    super('LBFGS', params, options, BUILTIN);
    if (this.paramGroups.length !== 1) throw new Error(`LBFGS: supports one param group (as PyTorch's), got ${this.paramGroups.length}`);
  }

  /** Closure evaluations so far (PyTorch's state['func_evals']). */
  get funcEvals(): number {
    return this.history.funcEvals;
  }

  /** Iterations so far, over all steps (PyTorch's state['n_iter']). */
  get iterations(): number {
    return this.history.nIter;
  }

  protected checkHyper(where: string, h: LBFGSOptions): void {
    checkNonNegative(where, 'lr', h.lr);
    checkInteger(where, 'maxIter', h.maxIter, 1);
    if (h.maxEval !== null) checkInteger(where, 'maxEval', h.maxEval, 1);
    checkNonNegative(where, 'toleranceGrad', h.toleranceGrad);
    checkNonNegative(where, 'toleranceChange', h.toleranceChange);
    checkInteger(where, 'historySize', h.historySize, 1);
    if (h.lineSearchFn !== null && h.lineSearchFn !== 'strongWolfe') {
      throw new Error(`${where}: lineSearchFn must be null or 'strongWolfe', got ${JSON.stringify(h.lineSearchFn)}`);
    }
  }

  protected bufferNames(): string[] {
    return [];
  }

  protected update(_param: Tensor, _grad: Tensor, _state: ParamState, _group: ParamGroup<LBFGSOptions>): void {
    throw new Error('LBFGS: updates run in step(closure)');
  }

  /**
   * The history, as PyTorch keeps it in the state of the first parameter: float64 tensors `0.d`,
   * `0.prev_flat_grad` (all parameters flattened, length n), `0.old_dirs`, `0.old_stps` ([pairs, n])
   * and `0.ro` ([pairs]), and the scalars func_evals, n_iter, t, H_diag, prev_loss in meta.scalars.
   * Tensors whose value does not exist yet (before the first iteration, or with no pairs) are left out.
   */
  override stateDict(): OptimizerStateDict {
    const dict = super.stateDict();
    const st = this.history;
    const n = this.flatLength();
    const state: Record<string, Tensor> = {};
    if (st.d) state['0.d'] = fromArray(st.d.slice(), [n]);
    if (st.prevFlatGrad) state['0.prev_flat_grad'] = fromArray(st.prevFlatGrad.slice(), [n]);
    const pairs = st.oldDirs.length;
    if (pairs > 0) {
      state['0.old_dirs'] = fromArray(stackRows(st.oldDirs, n), [pairs, n]);
      state['0.old_stps'] = fromArray(stackRows(st.oldSteps, n), [pairs, n]);
      state['0.ro'] = fromArray(Float64Array.from(st.ro), [pairs]);
    }
    const scalars = { func_evals: st.funcEvals, n_iter: st.nIter, t: st.t, H_diag: st.hDiag, prev_loss: st.prevLoss };
    return { state, meta: { ...dict.meta, scalars } };
  }

  override loadStateDict(dict: OptimizerStateDict): void {
    const history = this.prepareHistory(dict);
    super.loadStateDict(withoutHistory(dict));
    Object.assign(this.history, history);
  }

  override checkStateDict(dict: OptimizerStateDict): void {
    this.prepareHistory(dict);
    super.checkStateDict(withoutHistory(dict));
  }

  /** Checks the history part of a state dict completely and returns it, changing nothing. */
  private prepareHistory(dict: OptimizerStateDict): History {
    const where = 'LBFGS.loadStateDict';
    if (!isPlainObject(dict) || !isPlainObject(dict.state) || !isPlainObject(dict.meta)) {
      throw new Error(`${where}: expected { state, meta } as returned by stateDict()`);
    }
    const scalars: unknown = dict.meta.scalars;
    if (!isPlainObject(scalars)) throw new Error(`${where}: meta.scalars must hold func_evals, n_iter, t, H_diag and prev_loss`);
    checkKnownKeys(`${where} (meta.scalars)`, scalars, SCALARS);
    for (const key of SCALARS) {
      if (key === 'func_evals' || key === 'n_iter') checkInteger(where, key, scalars[key], 0);
      else checkFinite(where, key, scalars[key]);
    }
    const known = ['0.d', '0.prev_flat_grad', '0.old_dirs', '0.old_stps', '0.ro'];
    const unexpected = Object.keys(dict.state).find((key) => !known.includes(key));
    if (unexpected !== undefined) throw new Error(`${where}: unexpected state '${unexpected}' (LBFGS keeps ${known.map((k) => `'${k}'`).join(', ')})`);
    const n = this.flatLength();
    const vector = (key: string, shape: number[]): Float64Array | null => {
      const t: unknown = dict.state[key];
      if (t === undefined) return null;
      if (!(t instanceof Tensor)) throw new Error(`${where}: state '${key}' must be a Tensor`);
      if (!sameShape(t.shape, shape)) throw new Error(`${where}: state '${key}' must have shape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
      return Float64Array.from(t.data);
    };
    const ro = dict.state['0.ro'];
    const pairs = ro instanceof Tensor && ro.rank === 1 ? ro.shape[0]! : 0;
    if (ro !== undefined && !(ro instanceof Tensor && ro.rank === 1)) throw new Error(`${where}: state '0.ro' must be a Tensor of shape [pairs]`);
    const historySize = typeof dict.meta.paramGroups?.[0]?.historySize === 'number' ? dict.meta.paramGroups[0].historySize : this.paramGroups[0]!.historySize;
    if (pairs > historySize) throw new Error(`${where}: the state holds ${pairs} curvature pairs, more than historySize ${historySize}`);
    const dirs = vector('0.old_dirs', [pairs, n]), steps = vector('0.old_stps', [pairs, n]);
    if (pairs > 0 && (!dirs || !steps)) throw new Error(`${where}: state '0.ro' holds ${pairs} pairs but '0.old_dirs' or '0.old_stps' is missing`);
    if (pairs === 0 && (dirs || steps)) throw new Error(`${where}: state '0.old_dirs' / '0.old_stps' need '0.ro' beside them`);
    const d = vector('0.d', [n]), prevFlatGrad = vector('0.prev_flat_grad', [n]);
    const nIter = scalars.n_iter as number;
    if (nIter > 0 && (!d || !prevFlatGrad)) throw new Error(`${where}: n_iter is ${nIter} but the state lacks '0.d' or '0.prev_flat_grad'`);
    return {
      funcEvals: scalars.func_evals as number, nIter, d, t: scalars.t as number,
      oldDirs: splitRows(dirs, pairs, n), oldSteps: splitRows(steps, pairs, n), ro: ro instanceof Tensor ? [...ro.data] : [],
      hDiag: scalars.H_diag as number, prevFlatGrad, prevLoss: scalars.prev_loss as number,
    };
  }

  /** All parameters' elements together: the length of every history vector. */
  private flatLength(): number {
    return this.paramGroups[0]!.params.reduce((n, p) => n + p.size, 0);
  }

  override step<T>(closure?: () => T): T {
    if (typeof closure !== 'function') throw new Error('LBFGS.step: needs a closure that zeroes the gradients, computes the loss, calls backward() and returns the loss');
    const group = this.paramGroups[0]!;
    this.checkHyper('LBFGS', group);
    const { lr, maxIter, toleranceGrad, toleranceChange, historySize, lineSearchFn } = group;
    const maxEval = group.maxEval ?? Math.floor((maxIter * 5) / 4);
    const params = group.params;
    const st = this.history;
    // As PyTorch, the closure records its graph even when step() is called under noGrad.
    const evaluate = (): number => lossValue(enableGrad(closure));

    const origLoss = enableGrad(closure);
    let loss = lossValue(origLoss);
    let currentEvals = 1;
    st.funcEvals += 1;
    let flatGrad = gatherFlatGrad(params);
    let optCond = maxAbs(flatGrad) <= toleranceGrad;
    if (optCond) return origLoss;

    let { d, t } = st;
    let nIter = 0;
    while (nIter < maxIter) {
      nIter += 1;
      st.nIter += 1;
      if (st.nIter === 1) {
        d = flatGrad.map((v) => -v);
        st.oldDirs = [];
        st.oldSteps = [];
        st.ro = [];
        st.hDiag = 1;
      } else {
        const y = flatGrad.map((v, i) => v - st.prevFlatGrad![i]!);
        const s = d!.map((v) => v * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (st.oldDirs.length === historySize) {
            st.oldDirs.shift();
            st.oldSteps.shift();
            st.ro.shift();
          }
          st.oldDirs.push(y);
          st.oldSteps.push(s);
          st.ro.push(1 / ys);
          st.hDiag = ys / dot(y, y);
        }
        // The two-loop recursion: d = −H·g with H the L-BFGS inverse-Hessian approximation.
        const count = st.oldDirs.length;
        const al = new Array<number>(count);
        const q = flatGrad.map((v) => -v);
        for (let i = count - 1; i >= 0; i--) {
          al[i] = dot(st.oldSteps[i]!, q) * st.ro[i]!;
          axpy(q, -al[i]!, st.oldDirs[i]!);
        }
        const r = q.map((v) => v * st.hDiag);
        for (let i = 0; i < count; i++) {
          const be = dot(st.oldDirs[i]!, r) * st.ro[i]!;
          axpy(r, al[i]! - be, st.oldSteps[i]!);
        }
        d = r;
      }
      st.prevFlatGrad = flatGrad.slice();
      st.prevLoss = loss;
      t = st.nIter === 1 ? Math.min(1, 1 / flatGrad.reduce((a, v) => a + Math.abs(v), 0)) * lr : lr;
      const gtd = dot(flatGrad, d!);
      if (gtd > -toleranceChange) break;

      let lsEvals = 0;
      if (lineSearchFn === 'strongWolfe') {
        const start = params.map((p) => p.data.slice());
        const direction = d!;
        const probe = (step: number): { f: number; g: Vec } => {
          addStep(params, step, direction);
          const f = evaluate();
          const g = gatherFlatGrad(params);
          setParams(params, start);
          return { f, g };
        };
        const found = strongWolfe(probe, t, direction, loss, flatGrad, gtd, toleranceChange);
        loss = found.f;
        flatGrad = found.g;
        t = found.t;
        lsEvals = found.evals;
        addStep(params, t, direction);
        optCond = maxAbs(flatGrad) <= toleranceGrad;
      } else {
        addStep(params, t, d!);
        if (nIter !== maxIter) {
          loss = evaluate();
          flatGrad = gatherFlatGrad(params);
          optCond = maxAbs(flatGrad) <= toleranceGrad;
          lsEvals = 1;
        }
      }
      currentEvals += lsEvals;
      st.funcEvals += lsEvals;
      if (nIter === maxIter || currentEvals >= maxEval || optCond) break;
      if (maxAbs(d!) * Math.abs(t) <= toleranceChange) break;
      if (Math.abs(loss - st.prevLoss) < toleranceChange) break;
    }
    st.d = d;
    st.t = t;
    return origLoss;
  }
}

const SCALARS = ['func_evals', 'n_iter', 't', 'H_diag', 'prev_loss'] as const;

/** The dict the base class loads: hyper-parameters and groups, the history taken out. */
function withoutHistory(dict: OptimizerStateDict): OptimizerStateDict {
  const { scalars: _scalars, ...meta } = dict.meta;
  return { state: {}, meta };
}

function stackRows(rows: readonly Vec[], n: number): Float64Array {
  const out = new Float64Array(rows.length * n);
  rows.forEach((row, i) => out.set(row, i * n));
  return out;
}

function splitRows(flat: Float64Array | null, rows: number, n: number): Vec[] {
  return Array.from({ length: rows }, (_, i) => flat!.slice(i * n, (i + 1) * n));
}

function lossValue(value: unknown): number {
  if (value instanceof Tensor) return value.item();
  if (typeof value === 'number') return value;
  throw new Error(`LBFGS.step: the closure must return the loss (a Tensor or a number), got ${String(value)}`);
}

/** y += a·x */
function axpy(y: Vec, a: number, x: Vec): void {
  for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
}

/** All gradients in one float64 vector, zeros for parameters without one. */
function gatherFlatGrad(params: readonly Tensor[]): Vec {
  const out = new Float64Array(params.reduce((n, p) => n + p.size, 0));
  let at = 0;
  for (const p of params) {
    if (p.grad) out.set(p.grad.data, at);
    at += p.size;
  }
  return out;
}

function addStep(params: readonly Tensor[], step: number, direction: Vec): void {
  let at = 0;
  for (const p of params) {
    const data = p.data;
    for (let i = 0; i < data.length; i++) data[i]! += step * direction[at + i]!;
    at += p.size;
    p.bumpVersion();
  }
}

function setParams(params: readonly Tensor[], values: readonly ArrayLike<number>[]): void {
  params.forEach((p, k) => {
    p.data.set(values[k]!);
    p.bumpVersion();
  });
}

/** The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to the bounds. */
function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square < 0) return (lo + hi) / 2;
  const d2 = Math.sqrt(d2Square);
  const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return Math.min(Math.max(minPos, lo), hi);
}

/** PyTorch's _strong_wolfe with its defaults c1 = 1e-4, c2 = 0.9, maxLs = 25. */
function strongWolfe(
  probe: (t: number) => { f: number; g: Vec }, t0: number, d: Vec, f: number, g: Vec, gtd: number, toleranceChange: number,
): { f: number; g: Vec; t: number; evals: number } {
  const c1 = 1e-4, c2 = 0.9, maxLs = 25;
  const dNorm = maxAbs(d);
  let t = t0;
  let { f: fNew, g: gNew } = probe(t);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0, fPrev = f, gPrev = g, gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [], bracketF: number[] = [], bracketG: Vec[] = [], bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [previous, fNew, gNew, gtdNew];
    ({ f: fNew, g: gNew } = probe(t));
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
  }
  if (lsIter === maxLs) [bracket, bracketF, bracketG] = [[0, t], [f, fNew], [g, gNew]];

  // Zoom: shrink the bracket until a point satisfies both conditions.
  let insufficientProgress = false;
  let [low, high] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0]!, bracketF[0]!, bracketGtd[0]!, bracket[1]!, bracketF[1]!, bracketGtd[1]!);
    const bMax = Math.max(...bracket), bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufficientProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufficientProgress = false;
      } else insufficientProgress = true;
    } else insufficientProgress = false;
    ({ f: fNew, g: gNew } = probe(t));
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]!) {
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high]! - bracket[low]!) >= 0) {
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [bracket[low]!, bracketF[low]!, bracketG[low]!, bracketGtd[low]!];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  return { f: bracketF[low]!, g: bracketG[low]!, t: bracket[low]!, evals };
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { readSafetensorsMetadata } from '../src/io/index.js';
import { getBackend, jsKernels, setBackend, type BackendName, type DType } from '../src/kernels/index.js';
import {
  Adam, AdamW, clipGradNorm, clipGradValue, CosineAnnealingLR, LBFGS, RMSprop, SGD, StepLR, type Optimizer,
} from '../src/optim/index.js';
import { Generator, randn, tensor, type Tensor } from '../src/tensor/index.js';
import { GRU, Linear } from '../src/nn/index.js';
import { assertClose } from './helpers/close.js';
import { loadFixtureTensors } from './helpers/fixtures.js';

const fixture = (name: string): Uint8Array => readFileSync(new URL(`./fixtures/${name}.safetensors`, import.meta.url));

/** Every backend that float32 can run on here (wasm only where it compiled). */
function backends(): BackendName[] {
  const previous = getBackend();
  const out: BackendName[] = [];
  for (const name of ['js', 'wasm'] as const) {
    try {
      setBackend(name);
      out.push(name);
    } catch {
      // not available on this machine
    }
  }
  setBackend(previous);
  return out;
}

function withBackend(name: BackendName, fn: () => void): void {
  const previous = getBackend();
  setBackend(name);
  try {
    fn();
  } finally {
    setBackend(previous);
  }
}

function make(kind: string, params: Tensor[], options: Record<string, unknown>): Optimizer<{ lr: number }> {
  switch (kind) {
    case 'SGD': return new SGD(params, options as { lr: number });
    case 'Adam': return new Adam(params, options);
    case 'AdamW': return new AdamW(params, options);
    case 'RMSprop': return new RMSprop(params, options);
    default: throw new Error(`unknown optimizer ${kind}`);
  }
}

/** The fixtures' loss sum(c·p²) + sum(sin p) has gradient 2·c·p + cos p. */
function setGrad(p: Tensor, c: Tensor): void {
  const g = tensor(new (p.dtype === 'float64' ? Float64Array : Float32Array)(p.size), p.shape);
  const pd = p.data, cd = c.data, gd = g.data;
  for (let i = 0; i < gd.length; i++) gd[i] = 2 * cd[i]! * pd[i]! + Math.cos(pd[i]!);
  p.grad = g;
}

function param(values: ArrayLike<number>, dtype: DType = 'float32'): Tensor {
  return tensor(Array.from(values), undefined, { dtype, requiresGrad: true });
}

const CASES = [
  'optim_sgd', 'optim_sgd_momentum', 'optim_sgd_nesterov', 'optim_adam', 'optim_adam_wd', 'optim_adamw',
  'optim_rmsprop', 'optim_rmsprop_centered_momentum',
];

describe('optimizer trajectories match PyTorch 1.13', () => {
  for (const name of CASES) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const backend of dtype === 'float32' ? backends() : ['js' as const]) {
        test(`${name} (${dtype}, ${backend})`, () => withBackend(backend, () => {
          const bytes = fixture(name);
          const t = loadFixtureTensors(bytes);
          const meta = readSafetensorsMetadata(bytes);
          const p = param(t['input.p0']!.data, dtype);
          const c = t['input.c']!;
          const opt = make(meta.optimizer!, [p], JSON.parse(meta.options!) as Record<string, unknown>);
          for (let s = 1; s <= 6; s++) {
            setGrad(p, c);
            opt.step();
            assertClose(p, t[`expected.step${s}`]!, 1e-5, 1e-4, `${name} step ${s}`);
          }
        }));
      }
    }
  }
});

describe('defaults are PyTorch 1.13', () => {
  test('each optimizer', () => {
    const p = param([1]);
    assert.deepEqual(new Adam([p]).defaults, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    assert.deepEqual(new AdamW([p]).defaults, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false });
    assert.deepEqual(new RMSprop([p]).defaults, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    assert.deepEqual(new SGD([p], { lr: 0.1 }).defaults, { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 });
  });
});

describe('amsgrad', () => {
  test('follows PyTorch’s rule (float64 recomputation) and departs from plain Adam once v shrinks', () => {
    const p = param([0.5, -1.5], 'float64');
    const plain = param([0.5, -1.5], 'float64');
    const opt = new Adam([p], { lr: 0.1, betas: [0.9, 0.5], amsgrad: true, weightDecay: 0.01 });
    const optPlain = new Adam([plain], { lr: 0.1, betas: [0.9, 0.5], weightDecay: 0.01 });
    // Large gradients first, then small ones: v decays fast (beta2 0.5), vmax keeps the peak.
    const grads = [[1, -2], [0.1, 0.1], [0.05, -0.01]];
    let ref = [0.5, -1.5];
    const m = [0, 0], v = [0, 0], vmax = [0, 0];
    grads.forEach((g, k) => {
      const step = k + 1;
      p.grad = tensor(g, undefined, { dtype: 'float64' });
      plain.grad = tensor(g, undefined, { dtype: 'float64' });
      opt.step();
      optPlain.step();
      ref = ref.map((pi, i) => {
        const gi = g[i]! + 0.01 * pi;
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.5 * v[i]! + 0.5 * gi * gi;
        vmax[i] = Math.max(vmax[i]!, v[i]!);
        const denom = Math.sqrt(vmax[i]!) / Math.sqrt(1 - 0.5 ** step) + 1e-8;
        return pi - ((0.1 / (1 - 0.9 ** step)) * m[i]!) / denom;
      });
      p.data.forEach((x, i) => assert.ok(Math.abs(x - ref[i]!) < 1e-14, `step ${step} [${i}]: ${x} vs ${ref[i]}`));
    });
    assert.ok(Math.abs(p.data[0]! - plain.data[0]!) > 1e-6, 'amsgrad should have moved less than plain Adam');
    const keys = Object.keys(opt.stateDict().state).sort();
    assert.deepEqual(keys, ['0.exp_avg', '0.exp_avg_sq', '0.max_exp_avg_sq']);
  });
});

describe('step', () => {
  test('skips parameters whose grad is null and creates no state for them', () => {
    const a = param([1, 2]);
    const b = param([3]);
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    opt.step();
    assert.deepEqual([...b.data], [3]);
    assert.notDeepEqual([...a.data], [1, 2]);
    const sd = opt.stateDict();
    assert.deepEqual(Object.keys(sd.state).sort(), ['0.exp_avg', '0.exp_avg_sq']);
    assert.deepEqual(sd.meta.steps, { 0: 1 });
  });

  test('every optimizer bumps the version of each parameter it updates, on every backend', () => {
    const configs: [string, Record<string, unknown>][] = [
      ['SGD', { lr: 0.1 }], ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true }], ['Adam', {}], ['Adam', { amsgrad: true }],
      ['AdamW', {}], ['RMSprop', { momentum: 0.5, centered: true }],
    ];
    for (const backend of backends()) {
      withBackend(backend, () => {
        for (const [kind, options] of configs) {
          const where = `${backend} ${kind} ${JSON.stringify(options)}`;
          // Parameters in kernel memory, as modules make them (Adam's update then runs in the kernels).
          const lin = new Linear(3, 2);
          const [w, b] = [lin.weight, lin.bias!];
          const opt = make(kind, [w, b], options);
          const view = w.reshape([6]);
          const [w0, b0] = [w.version, b.version];
          w.grad = tensor([1, -2, 3, -4, 5, -6], [2, 3]);
          opt.step();
          opt.step();
          assert.equal(w.version, w0 + 2, `${where}: two steps, two writes`);
          assert.equal(view.version, w0 + 2, `${where}: a view shares the count`);
          assert.equal(b.version, b0, `${where}: a parameter without a gradient is not written`);
        }
      });
    }
  });

  test('param groups keep their own hyper-parameters and a mutable lr', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    assert.equal(opt.paramGroups[0]!.lr, 0.1);
    assert.equal(opt.paramGroups[1]!.lr, 0.5);
    a.grad = tensor([1]);
    b.grad = tensor([1]);
    opt.step();
    assert.ok(Math.abs(a.data[0]! - 0.9) < 1e-7);
    assert.ok(Math.abs(b.data[0]! - 0.5) < 1e-7);
    opt.paramGroups[0]!.lr = 0.2;
    opt.step();
    assert.ok(Math.abs(a.data[0]! - 0.7) < 1e-7);
  });

  test('state buffers come from the kernels allocator', () => {
    const original = jsKernels.allocate;
    let allocated = 0;
    jsKernels.allocate = (length, dtype) => {
      allocated += length;
      return original(length, dtype);
    };
    try {
      const p = param([1, 2, 3], 'float64'); // float64 always runs on the js kernels
      const opt = new RMSprop([p], { momentum: 0.9, centered: true });
      p.grad = tensor([1, 1, 1], undefined, { dtype: 'float64' });
      opt.step();
      opt.step();
      assert.equal(allocated, 9, 'three buffers of three elements, allocated once');
    } finally {
      jsKernels.allocate = original;
    }
  });

  test('zeroGrad sets every grad to null', () => {
    const a = param([1]);
    const b = param([2]);
    const opt = new SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 });
    a.grad = tensor([1]);
    b.grad = tensor([1]);
    opt.zeroGrad();
    assert.equal(a.grad, null);
    assert.equal(b.grad, null);
  });

  test('a gradient of the wrong shape or dtype is a clear error and changes nothing', () => {
    const a = param([1, 2]);
    const b = param([1, 2]);
    const opt = new SGD([a, b], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    b.grad = tensor([1, 1, 1]);
    assert.throws(() => opt.step(), /SGD\.step: a gradient of shape \[3\] \(float32\) does not match its parameter of shape \[2\] \(float32\)/);
    assert.deepEqual([...a.data], [1, 2]);
    b.grad = tensor([1, 1], undefined, { dtype: 'float64' });
    assert.throws(() => opt.step(), /\(float64\) does not match .* \(float32\)/);
  });
});

describe("nonFinite: 'error'", () => {
  const makers: [string, (params: Tensor[], nonFinite?: 'error') => Optimizer<{ lr: number }>][] = [
    ['SGD', (ps, nonFinite) => new SGD(ps, { lr: 0.1, momentum: 0.9, nonFinite })],
    ['Adam', (ps, nonFinite) => new Adam(ps, { lr: 0.1, nonFinite })],
    ['AdamW', (ps, nonFinite) => new AdamW(ps, { lr: 0.1, nonFinite })],
    ['RMSprop', (ps, nonFinite) => new RMSprop(ps, { lr: 0.1, nonFinite })],
  ];
  for (const [name, make] of makers) {
    test(`${name}: a NaN gradient is refused before anything changes, naming the parameter and element; the default applies it as PyTorch does`, () => {
      const a = param([1, 2]);
      const b = param([3, 4, 5]);
      const opt = make([a, b], 'error');
      a.grad = tensor([0.5, 0.5]);
      b.grad = tensor([0.5, NaN, 0.5]);
      assert.throws(() => opt.step(), new RegExp(`^Error: ${name}\\.step: the gradient of parameter 1 \\(shape \\[3\\]\\) holds NaN at element 1; no parameter was changed`));
      assert.deepEqual([...a.data, ...b.data], [1, 2, 3, 4, 5]);
      assert.deepEqual(opt.stateDict().state, {}, 'no state was created');
      b.grad = tensor([0.5, 0.5, 0.5]);
      opt.step();
      assert.ok([...a.data, ...b.data].every(Number.isFinite));
      assert.ok(!('nonFinite' in opt.stateDict().meta.paramGroups[0]!), 'not a hyper-parameter: not saved');

      const c = param([1, 2]);
      const plain = make([c]);
      assert.equal(plain.nonFinite, 'ignore');
      c.grad = tensor([Infinity, 0.5]);
      plain.step();
      assert.ok(!Number.isFinite(c.data[0]!), 'the default lets it through');
    });
  }

  test('a finite gradient that steps a weight past float32 is an error after the step, naming lr', () => {
    const a = param([1, 2]);
    const opt = new SGD([a], { lr: 1e30, nonFinite: 'error' });
    a.grad = tensor([1e10, 0]);
    assert.throws(() => opt.step(), /^Error: SGD\.step: this step made parameter 0 \(shape \[2\]\) -Infinity at element 0 \(nonFinite: 'error'; the step was applied\): the update is too large for lr 1e\+30/);
  });

  test('a GRU trained by a loop of its own with SGD at a huge lr stops at the first non-finite gradient, its weights finite', () => {
    const run = (nonFinite?: 'error'): { losses: number[]; error: Error | null; params: Tensor[] } => {
      const generator = new Generator(1);
      const gru = new GRU({ inputSize: 1, hiddenSize: 8, generator, batchFirst: true });
      const head = new Linear(8, 1, { generator });
      const params = [...gru.parameters(), ...head.parameters()];
      const opt = new SGD(params, { lr: 1e4, nonFinite });
      const x = randn([4, 10, 1], { generator });
      const y = randn([4, 10, 1], { generator });
      const losses: number[] = [];
      try {
        for (let step = 0; step < 12; step++) {
          opt.zeroGrad();
          const [out] = gru.forward(x);
          const loss = head.forward(out).sub(y).pow(2).mean();
          loss.backward();
          losses.push(loss.item());
          opt.step();
        }
      } catch (e) {
        return { losses, error: e as Error, params };
      }
      return { losses, error: null, params };
    };
    const unguarded = run();
    assert.equal(unguarded.error, null);
    assert.ok(unguarded.losses.some(Number.isNaN), `PyTorch's way: NaN losses and no error (${unguarded.losses.join(', ')})`);
    const guarded = run('error');
    assert.match(String(guarded.error), /SGD\.step: the gradient of parameter \d+ \(shape \[[\d, ]+\]\) holds (NaN|-?Infinity) at element \d+; no parameter was changed/);
    assert.ok(guarded.losses.length < 12 && guarded.losses.slice(0, -1).every(Number.isFinite), guarded.losses.join(', '));
    for (const p of guarded.params) assert.ok(p.data.every(Number.isFinite), 'the weights stay finite');
  });

  test('bad values and places are refused', () => {
    assert.throws(() => new Adam([param([1])], { nonFinite: 'warn' as 'error' }), /^Error: Adam: nonFinite must be 'ignore' or 'error', got 'warn'/);
    assert.throws(() => new Adam([{ params: [param([1])], nonFinite: 'error' } as object as { params: Tensor[] }]), /Adam \(param group 0\): unknown option 'nonFinite'/);
    assert.throws(() => new LBFGS([param([1])], { nonFinite: 'error' } as object), /LBFGS: nonFinite is not supported/);
  });
});

describe('hyper-parameter validation', () => {
  const p = (): Tensor => param([1]);
  const cases: [string, () => unknown, RegExp][] = [
    ['negative lr', () => new Adam([p()], { lr: -1 }), /Adam: lr must be a finite number >= 0, got -1/],
    ['NaN lr', () => new SGD([p()], { lr: NaN }), /SGD: lr must be a finite number >= 0, got NaN/],
    ['infinite lr', () => new RMSprop([p()], { lr: Infinity }), /RMSprop: lr must be a finite number >= 0, got Infinity/],
    ['SGD without lr', () => new SGD([p()], {} as { lr: number }), /SGD: lr is required/],
    ['beta of 1', () => new Adam([p()], { betas: [0.9, 1] }), /Adam: betas\[1\] must be a number in \[0, 1\), got 1/],
    ['betas not a pair', () => new AdamW([p()], { betas: [0.9] as unknown as [number, number] }), /AdamW: betas must be a pair/],
    ['negative eps', () => new Adam([p()], { eps: -1e-8 }), /Adam: eps must be a finite number >= 0/],
    ['negative weightDecay', () => new AdamW([p()], { weightDecay: -0.1 }), /AdamW: weightDecay must be a finite number >= 0, got -0.1/],
    ['negative momentum', () => new SGD([p()], { lr: 0.1, momentum: -0.9 }), /SGD: momentum must be/],
    ['nesterov without momentum', () => new SGD([p()], { lr: 0.1, nesterov: true }), /SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0/],
    ['nesterov with dampening', () => new SGD([p()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov needs/],
    ['negative alpha', () => new RMSprop([p()], { alpha: -0.5 }), /RMSprop: alpha must be/],
    ['non-boolean amsgrad', () => new Adam([p()], { amsgrad: 1 as unknown as boolean }), /Adam: amsgrad must be true or false, got 1/],
    ['snake_case option', () => new Adam([p()], { weight_decay: 0.1 } as object), /Adam: unknown option 'weight_decay'; did you mean 'weightDecay'\? \(known options: lr, betas, eps, weightDecay, amsgrad\)/],
    ['empty parameter list', () => new Adam([]), /Adam: got an empty parameter list/],
    ['a single tensor', () => new Adam(p() as unknown as Tensor[]), /wrap it in an array/],
    ['a non-tensor parameter', () => new Adam([{ params: [p(), 3 as unknown as Tensor] }]), /Adam \(param group 0\): parameter 1 must be a Tensor, got 3/],
    ['a bad group override', () => new Adam([{ params: [p()] }, { params: [p()], lr: -2 }]), /Adam \(param group 1\): lr must be a finite number >= 0, got -2/],
  ];
  for (const [label, fn, message] of cases) test(label, () => assert.throws(fn, message));

  test('a parameter in two groups', () => {
    const shared = p();
    assert.throws(() => new SGD([{ params: [shared] }, { params: [shared] }], { lr: 1 }), /parameter 0 appears more than once/);
  });

  test('an lr set to NaN is caught at the next step, before anything changes', () => {
    const a = param([1]);
    const opt = new SGD([a], { lr: 0.1 });
    a.grad = tensor([1]);
    opt.paramGroups[0]!.lr = NaN;
    assert.throws(() => opt.step(), /SGD: lr must be a finite number >= 0, got NaN/);
    assert.deepEqual([...a.data], [1]);
  });
});

describe('state dict', () => {
  const builders: [string, (ps: Tensor[]) => Optimizer<{ lr: number }>][] = [
    ['SGD momentum', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.05 })],
    ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.05, amsgrad: true })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.05 })],
    ['RMSprop centered', (ps) => new RMSprop(ps, { momentum: 0.5, centered: true, weightDecay: 0.01 })],
  ];
  const c = tensor([0.6, 1.2, 0.8]);

  for (const [label, build] of builders) {
    test(`${label}: save after 3 steps, load into a new optimizer, 3 more = 6 uninterrupted, bitwise`, () => {
      const straight = param([0.3, -1.1, 2.0]);
      const optA = build([straight]);
      for (let s = 0; s < 6; s++) {
        setGrad(straight, c);
        optA.step();
      }

      const first = param([0.3, -1.1, 2.0]);
      const optB = build([first]);
      for (let s = 0; s < 3; s++) {
        setGrad(first, c);
        optB.step();
      }
      const saved = JSON.parse(JSON.stringify(optB.stateDict().meta)) as ReturnType<typeof optB.stateDict>['meta'];
      const state = optB.stateDict().state;
      const resumed = param([...first.data]);
      const optC = build([resumed]);
      optC.paramGroups[0]!.lr = 123; // restored from the state dict
      optC.loadStateDict({ state, meta: saved });
      assert.equal(optC.paramGroups[0]!.lr, optB.paramGroups[0]!.lr);
      for (let s = 0; s < 3; s++) {
        setGrad(resumed, c);
        optC.step();
      }
      assert.deepEqual([...resumed.data], [...straight.data]);
    });
  }

  test('stateDict is a snapshot, JSON meta holds hyper-parameters, indices and step counts', () => {
    const a = param([1, 2]);
    const b = param([3]);
    const opt = new Adam([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    b.grad = tensor([1]);
    opt.step();
    const sd = opt.stateDict();
    assert.deepEqual(sd.meta, {
      optimizer: 'Adam',
      paramGroups: [
        { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, params: [0] },
        { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, params: [1] },
      ],
      steps: { 0: 1, 1: 1 },
    });
    const before = [...sd.state['0.exp_avg']!.data];
    opt.step();
    assert.deepEqual([...sd.state['0.exp_avg']!.data], before);
  });

  test('loading checks everything and changes nothing on error', () => {
    const a = param([1, 2]);
    const opt = new Adam([a], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    opt.step();
    const good = opt.stateDict();
    const fresh = (): Adam => new Adam([param([1, 2])], { lr: 0.3 });
    const meta = (patch: object): typeof good.meta => ({ ...good.meta, ...patch });

    assert.throws(() => new SGD([param([1, 2])], { lr: 1 }).loadStateDict(good), /SGD\.loadStateDict: the state was saved by optimizer "Adam", this is SGD/);
    assert.throws(() => new AdamW([param([1, 2])]).loadStateDict(good), /saved by optimizer "Adam", this is AdamW/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ paramGroups: [] }) }), /expected 1 param group\(s\), the state has 0/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ paramGroups: [{ ...good.meta.paramGroups[0]!, params: [0, 1] }] }) }),
      /the group has 1 parameter\(s\), the state has 2/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ paramGroups: [{ ...good.meta.paramGroups[0]!, lr: -1 }] }) }),
      /Adam\.loadStateDict \(param group 0\): lr must be a finite number >= 0, got -1/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ paramGroups: [{ ...good.meta.paramGroups[0]!, betas: 0.9 }] }) }),
      /betas must be of kind array of 2/);
    assert.throws(() => fresh().loadStateDict({ state: { '0.exp_avg': good.state['0.exp_avg']! }, meta: good.meta }),
      /parameter 0 has taken steps but the state lacks '0\.exp_avg_sq'/);
    assert.throws(() => fresh().loadStateDict({ state: { ...good.state, '0.momentum': tensor([0, 0]) }, meta: good.meta }),
      /unexpected state buffer '0\.momentum' \(parameters of this group hold: exp_avg, exp_avg_sq\)/);
    assert.throws(() => fresh().loadStateDict({ state: { ...good.state, '0.exp_avg': tensor([0, 0, 0]) }, meta: good.meta }),
      /state '0\.exp_avg' has shape \[3\], its parameter has shape \[2\]/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ steps: { 0: -1 } }) }), /step count of parameter 0 must be an integer >= 0, got -1/);
    assert.throws(() => fresh().loadStateDict({ state: good.state, meta: meta({ steps: { 0: 1, 7: 1 } }) }), /parameter index '7', which no group lists/);
    assert.throws(() => fresh().loadStateDict({ state: { 'x.y': tensor([0, 0]) }, meta: good.meta }), /state key 'x\.y' does not name a parameter index/);

    const target = fresh();
    assert.throws(() => target.loadStateDict({ state: good.state, meta: meta({ paramGroups: [{ ...good.meta.paramGroups[0]!, lr: -1 }] }) }));
    assert.equal(target.paramGroups[0]!.lr, 0.3);
    assert.deepEqual(target.stateDict().state, {});
  });
});

describe('clipGradNorm', () => {
  test('matches torch.nn.utils.clip_grad_norm_ (fixture)', () => {
    const t = loadFixtureTensors(fixture('optim_clip'));
    const p1 = param(new Array(12).fill(0));
    const p2 = param(new Array(5).fill(0));
    p1.grad = tensor(t['input.g1']!.data.slice(), [3, 4]);
    p2.grad = tensor(t['input.g2']!.data.slice(), [5]);
    const total = clipGradNorm([p1, p2], 1.0);
    assertClose(tensor([total]), t['expected.total_norm']!, 1e-5, 1e-4, 'total norm');
    assertClose(p1.grad, t['expected.g1']!, 1e-5, 1e-4, 'g1');
    assertClose(p2.grad, t['expected.g2']!, 1e-5, 1e-4, 'g2');
  });

  test('leaves gradients alone below maxNorm and returns their norm', () => {
    const p = param([0, 0]);
    p.grad = tensor([0.3, 0.4]);
    assert.ok(Math.abs(clipGradNorm(p, 1) - 0.5) < 1e-7);
    assert.deepEqual([...p.grad.data], [...tensor([0.3, 0.4]).data]);
  });

  test('infinity norm and a general p-norm, skipping null grads', () => {
    const a = param([0, 0, 0]);
    const b = param([0]);
    const idle = param([0]);
    a.grad = tensor([3, -4, 1], undefined, { dtype: 'float64' });
    b.grad = tensor([2], undefined, { dtype: 'float64' });
    const inf = clipGradNorm([a, b, idle], 2, Infinity);
    assert.equal(inf, 4);
    const coef = 2 / (4 + 1e-6);
    assert.deepEqual([...a.grad.data], [3 * coef, -4 * coef, 1 * coef]);

    const c = param([0, 0], 'float64');
    c.grad = tensor([3, 4], undefined, { dtype: 'float64' });
    const l1 = clipGradNorm([c], 100, 1);
    assert.equal(l1, 7);
  });

  test('a non-finite norm is returned and gradients are untouched, or an error when asked', () => {
    const p = param([0, 0]);
    p.grad = tensor([NaN, 1]);
    assert.ok(Number.isNaN(clipGradNorm([p], 1)));
    assert.equal(p.grad.data[1], 1);
    p.grad = tensor([Infinity, 1]);
    assert.equal(clipGradNorm([p], 1), Infinity);
    assert.throws(() => clipGradNorm([p], 1, 2, { errorIfNonfinite: true }), /clipGradNorm: the total norm of order 2 of the gradients is Infinity/);
  });

  test('no gradients: norm 0', () => {
    assert.equal(clipGradNorm([param([1])], 1), 0);
  });

  test('bad arguments', () => {
    const p = param([1]);
    assert.throws(() => clipGradNorm([p], -1), /clipGradNorm: maxNorm must be a number >= 0, got -1/);
    assert.throws(() => clipGradNorm([p], NaN), /maxNorm must be a number >= 0, got NaN/);
    assert.throws(() => clipGradNorm([p], 1, 0), /clipGradNorm: normType must be a positive number or Infinity, got 0/);
    assert.throws(() => clipGradNorm([p, 'x' as unknown as Tensor], 1), /clipGradNorm: parameter 1 must be a Tensor, got x/);
  });
});

describe('gradient clipping and versions', () => {
  test('clipGradNorm bumps the version of the gradients it scales (as torch\'s in-place mul_), and only those', () => {
    const p = param([0, 0]);
    p.grad = tensor([3, 4]);
    const g = p.grad;
    clipGradNorm([p], 10);
    assert.equal(g.version, 0, 'below maxNorm nothing is written');
    clipGradNorm([p], 1);
    assert.equal(g.version, 1);
    clipGradValue([p], 0.1);
    assert.equal(g.version, 2);
  });
});

describe('clipGradValue', () => {
  test('clamps every element to [-clip, clip]', () => {
    const p = param([0, 0, 0, 0], 'float64');
    p.grad = tensor([-3, 0.5, 2, NaN], undefined, { dtype: 'float64' });
    clipGradValue([p], 1);
    assert.deepEqual([...p.grad.data], [-1, 0.5, 1, NaN]);
    assert.throws(() => clipGradValue([p], -1), /clipGradValue: clipValue must be a number >= 0, got -1/);
  });
});

describe('learning-rate schedulers', () => {
  test('StepLR: lr = base · gamma^floor(epoch / stepSize), per group', () => {
    const opt = new SGD([{ params: [param([1])], lr: 1 }, { params: [param([1])], lr: 0.5 }], { lr: 0.1 });
    const sched = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    const seen: number[][] = [opt.paramGroups.map((g) => g.lr)];
    for (let e = 1; e <= 7; e++) {
      sched.step();
      seen.push(opt.paramGroups.map((g) => g.lr));
    }
    assert.deepEqual(seen.map((x) => x[0]), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
    assert.deepEqual(seen.map((x) => x[1]), [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125]);
    assert.deepEqual(sched.getLastLr(), [0.25, 0.125]);
  });

  test('CosineAnnealingLR: PyTorch’s closed form', () => {
    const opt = new Adam([param([1])], { lr: 0.1 });
    const sched = new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 });
    // eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2 at t = 0..8
    const expected = [0.1, 0.08681980515339464, 0.05500000000000001, 0.023180194846605362, 0.01, 0.02318019484660536, 0.05499999999999999, 0.08681980515339463, 0.1];
    const got = [opt.paramGroups[0]!.lr];
    for (let t = 1; t <= 8; t++) {
      sched.step();
      got.push(opt.paramGroups[0]!.lr);
    }
    got.forEach((lr, t) => assert.ok(Math.abs(lr - expected[t]!) < 1e-15, `t=${t}: ${lr} vs ${expected[t]}`));
  });

  test('state save and restore continue the schedule', () => {
    const optA = new SGD([param([1])], { lr: 1 });
    const a = new StepLR(optA, { stepSize: 2 });
    for (let e = 0; e < 5; e++) a.step();
    const saved = JSON.parse(JSON.stringify(a.stateDict())) as ReturnType<typeof a.stateDict>;
    assert.deepEqual(saved, { scheduler: 'StepLR', lastEpoch: 5, baseLrs: [1], options: { stepSize: 2, gamma: 0.1 } });

    const optB = new SGD([param([1])], { lr: optA.paramGroups[0]!.lr });
    const b = new StepLR(optB, { stepSize: 7, gamma: 0.9 });
    b.loadStateDict(saved);
    a.step();
    b.step();
    assert.equal(optB.paramGroups[0]!.lr, optA.paramGroups[0]!.lr);
    assert.throws(() => new CosineAnnealingLR(optB, { tMax: 3 }).loadStateDict(saved), /CosineAnnealingLR\.loadStateDict: expected the state of a CosineAnnealingLR, got one of "StepLR"/);
    assert.throws(() => b.loadStateDict({ ...saved, lastEpoch: -2 }), /lastEpoch must be an integer >= 0, got -2/);
    assert.throws(() => b.loadStateDict({ ...saved, baseLrs: [1, 2] }), /expected 1 base lr\(s\), one per param group/);
  });

  test('bad options', () => {
    const opt = new SGD([param([1])], { lr: 1 });
    assert.throws(() => new StepLR(opt, { stepSize: 0 }), /StepLR: stepSize must be an integer >= 1, got 0/);
    assert.throws(() => new StepLR(opt, { stepSize: 1.5 }), /stepSize must be an integer >= 1, got 1.5/);
    assert.throws(() => new StepLR(opt, { stepSize: 2, gamma: -1 }), /StepLR: gamma must be a finite number >= 0, got -1/);
    assert.throws(() => new StepLR(opt, { step_size: 2 } as unknown as { stepSize: number }), /StepLR: unknown option 'step_size'/);
    assert.throws(() => new CosineAnnealingLR(opt, { tMax: 0 }), /CosineAnnealingLR: tMax must be an integer >= 1, got 0/);
    assert.throws(() => new CosineAnnealingLR(opt, { tMax: 5, etaMin: NaN }), /etaMin must be a finite number >= 0, got NaN/);
  });
});

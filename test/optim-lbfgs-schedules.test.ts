// LBFGS and the new schedules against PyTorch 1.13 (tools/make_fixtures.py lbfgs schedulers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeCheckpoint, readSafetensorsMetadata, restoreCheckpoint } from '../src/io/index.js';
import { noGrad, optim, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { loadFixtureTensors } from './helpers/fixtures.js';

const fixture = (name: string): { f: Record<string, Tensor>; meta: Record<string, string> } => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}.safetensors`, import.meta.url))));
  return { f: loadFixtureTensors(bytes), meta: readSafetensorsMetadata(bytes) };
};

/** The extended Rosenbrock function of make_fixtures.py: Σ 100(p[i+1] − p[i]²)² + (1 − p[i])². */
function rosenbrock(p: Tensor): Tensor {
  const n = p.shape[0]!;
  const head = p.slice(0, 0, n - 1), tail = p.slice(0, 1, n);
  const a = tail.sub(head.mul(head));
  const b = head.neg().add(1);
  return a.mul(a).mul(100).add(b.mul(b)).sum();
}

for (const name of ['lbfgs_fixed', 'lbfgs_strong_wolfe', 'lbfgs_strong_wolfe_tolerances']) {
  test(`LBFGS follows PyTorch's trajectory: ${name}`, () => {
    const { f, meta } = fixture(name);
    const p = f['input.p0']!.clone().requiresGrad_();
    const opt = new optim.LBFGS([p], JSON.parse(meta.options!));
    const closure = (): Tensor => {
      opt.zeroGrad();
      const loss = rosenbrock(p);
      loss.backward();
      return loss;
    };
    const losses = f['expected.losses']!.data, evals = f['expected.func_evals']!.data;
    for (let s = 1; s <= losses.length; s++) {
      const loss = opt.step(closure);
      assert.ok(Math.abs(loss.item() - losses[s - 1]!) <= 1e-9 * Math.max(1, losses[s - 1]!), `step ${s}: loss ${loss.item()} vs ${losses[s - 1]}`);
      assertClose(p, f[`expected.step${s}`]!, 1e-9, 1e-9, `${name} step ${s}`);
      assert.equal(opt.funcEvals, evals[s - 1], `step ${s}: closure evaluations`);
    }
  });
}

test('LBFGS: needs a closure and checks its options', () => {
  const p = tensor([1, 2], undefined, { requiresGrad: true });
  const opt = new optim.LBFGS([p]);
  assert.throws(() => opt.step(), /LBFGS.step: needs a closure/);
  assert.throws(() => opt.step(() => 'x'), /the closure must return the loss \(a Tensor or a number\), got x/);
  assert.throws(() => new optim.LBFGS([p], { lineSearchFn: 'strong_wolfe' as never }), /lineSearchFn must be null or 'strongWolfe', got "strong_wolfe"/);
  assert.throws(() => new optim.LBFGS([p], { history_size: 3 } as never), /LBFGS: unknown option 'history_size'; did you mean 'historySize'\?/);
});

for (const name of ['lbfgs_fixed', 'lbfgs_strong_wolfe']) {
  test(`LBFGS resumed from a checkpoint (history, counters, options) continues on PyTorch's trajectory: ${name}`, () => {
    const { f, meta } = fixture(name);
    const options = JSON.parse(meta.options!);
    const run = (p: Tensor, opt: optim.LBFGS, from: number, to: number): void => {
      const closure = (): Tensor => {
        opt.zeroGrad();
        const loss = rosenbrock(p);
        loss.backward();
        return loss;
      };
      for (let s = from; s <= to; s++) {
        opt.step(closure);
        assertClose(p, f[`expected.step${s}`]!, 1e-9, 1e-9, `${name} step ${s}`);
      }
    };
    const p = f['input.p0']!.clone().requiresGrad_();
    const opt = new optim.LBFGS([p], options);
    run(p, opt, 1, 3);
    const plateau = new optim.ReduceLROnPlateau(opt, { patience: 0 });
    plateau.step(rosenbrock(p).item());
    const model = { stateDict: () => ({ p }), loadStateDict: (d: Record<string, Tensor>) => noGrad(() => q.copy_(d.p!)) };
    const bytes = encodeCheckpoint({ model, optimizer: opt, step: 3, extra: { plateau: plateau.stateDict() } });

    // A fresh parameter and optimizer built with other options: the checkpoint brings back PyTorch's.
    const q = tensor([0, 0, 0, 0, 0], undefined, { dtype: 'float64', requiresGrad: true });
    const resumed = new optim.LBFGS([q], { ...options, lr: 0.5 });
    const plateau2 = new optim.ReduceLROnPlateau(resumed, { patience: 0 });
    const { extra } = restoreCheckpoint(bytes, { model, optimizer: resumed });
    plateau2.loadStateDict((extra as { plateau: optim.PlateauState }).plateau);
    assert.equal(plateau2.best, plateau.best);
    assert.equal(resumed.paramGroups[0]!.lr, options.lr);
    assert.equal(resumed.funcEvals, opt.funcEvals);
    assert.equal(resumed.iterations, opt.iterations);
    run(q, resumed, 4, 6);
    run(p, opt, 4, 6);
    assert.deepEqual([...q.data], [...p.data], 'resumed and uninterrupted runs agree bit for bit');
  });
}

test('LBFGS.loadStateDict checks the history before changing anything', () => {
  const p = tensor([1, 2, 3], undefined, { dtype: 'float64', requiresGrad: true });
  const opt = new optim.LBFGS([p], { historySize: 2 });
  const closure = (): Tensor => {
    opt.zeroGrad();
    const loss = rosenbrock(p);
    loss.backward();
    return loss;
  };
  opt.step(closure);
  const good = opt.stateDict();
  assert.deepEqual(Object.keys(good.state).sort(), ['0.d', '0.old_dirs', '0.old_stps', '0.prev_flat_grad', '0.ro']);
  assert.equal(good.state['0.old_dirs']!.shape[0], 2, 'historySize pairs kept after 20 iterations');
  const other = new optim.LBFGS([tensor([0, 0, 0], undefined, { dtype: 'float64', requiresGrad: true })], { historySize: 2 });
  const { '0.d': _d, ...withoutD } = good.state;
  assert.throws(() => other.loadStateDict({ ...good, state: withoutD }), /n_iter is \d+ but the state lacks '0.d' or '0.prev_flat_grad'/);
  assert.throws(() => other.loadStateDict({ ...good, state: { ...good.state, '0.d': tensor([1, 2]) } }), /state '0.d' must have shape \[3\], got \[2\]/);
  assert.throws(() => other.loadStateDict({ ...good, meta: { ...good.meta, scalars: { ...good.meta.scalars!, t: NaN } } }), /LBFGS.loadStateDict: t must be a finite number, got NaN/);
  assert.throws(() => other.loadStateDict({ ...good, meta: { ...good.meta, scalars: undefined } }), /meta.scalars must hold func_evals/);
  assert.throws(() => other.loadStateDict({ ...good, state: { ...good.state, '0.exp_avg': tensor([1, 2, 3]) } }), /unexpected state '0.exp_avg' \(LBFGS keeps '0.d', /);
  const groups = good.meta.paramGroups.map((g) => ({ ...g, historySize: 1 }));
  assert.throws(() => other.loadStateDict({ ...good, meta: { ...good.meta, paramGroups: groups } }), /holds 2 curvature pairs, more than historySize 1/);
  assert.equal(other.iterations, 0, 'nothing was loaded');
  other.loadStateDict(good);
  assert.equal(other.iterations, opt.iterations);
});

type Case = {
  name: string;
  options: Record<string, unknown> & { kind: string; lr: number; momentum?: number; optimizer?: string; groups?: { lr: number }[] };
};
type Schedule = optim.LinearLR | optim.OneCycleLR | optim.ReduceLROnPlateau;

/** The case's optimizer (its first group's lr and momentum, further groups with their own lr) and schedule. */
function buildCase({ options }: Case): { opt: optim.SGD | optim.Adam; schedule: Schedule } {
  const { kind, lr, momentum, optimizer, groups = [], ...rest } = options;
  const param = (): Tensor => tensor([0], undefined, { requiresGrad: true });
  const params = [{ params: [param()] }, ...groups.map((g) => ({ params: [param()], lr: g.lr }))];
  const opt = optimizer === 'Adam' ? new optim.Adam(params, { lr }) : new optim.SGD(params, { lr, momentum: momentum ?? 0 });
  const schedule = kind === 'LinearLR' ? new optim.LinearLR(opt, rest)
    : kind === 'OneCycleLR' ? new optim.OneCycleLR(opt, rest as unknown as optim.OneCycleLROptions)
    : new optim.ReduceLROnPlateau(opt, rest as optim.ReduceLROnPlateauOptions);
  return { opt, schedule };
}

/** Every group's lr and momentum (Adam's beta1), in group order. */
function snapshot(opt: optim.SGD | optim.Adam): { lr: number[]; momentum: number[] } {
  const groups = opt.paramGroups as { lr: number; momentum?: number; betas?: [number, number] }[];
  return { lr: groups.map((g) => g.lr), momentum: groups.map((g) => g.betas?.[0] ?? g.momentum ?? 0) };
}

function stepOnce(schedule: Schedule, metrics: ArrayLike<number> | undefined, i: number): void {
  if (schedule instanceof optim.ReduceLROnPlateau) schedule.step(metrics![i - 1]!);
  else schedule.step();
}

function assertMatches(name: string, i: number, got: { lr: number[]; momentum: number[] }, lr: ArrayLike<number>, momentum: ArrayLike<number>): void {
  const groups = got.lr.length;
  got.lr.forEach((v, g) => {
    const want = lr[i * groups + g]!;
    assert.ok(Math.abs(v - want) <= 1e-12 + 1e-9 * Math.abs(want), `${name} lr of group ${g} at ${i}: ${v} vs ${want}`);
  });
  got.momentum.forEach((v, g) => {
    const want = momentum[i * groups + g]!;
    assert.ok(Math.abs(v - want) <= 1e-12, `${name} momentum of group ${g} at ${i}: ${v} vs ${want}`);
  });
}

test('LinearLR, OneCycleLR and ReduceLROnPlateau give PyTorch\'s lr (and momentum) sequences, per param group', () => {
  const { f, meta } = fixture('schedulers');
  const cases = JSON.parse(meta.cases!) as Case[];
  assert.equal(cases.length, 10);
  for (const c of cases) {
    const { opt, schedule } = buildCase(c);
    const lr = f[`${c.name}.lr`]!, momentum = f[`${c.name}.momentum`]!.data;
    const metrics = f[`${c.name}.metrics`]?.data;
    assert.equal(lr.shape[1], opt.paramGroups.length, `${c.name}: one column per group`);
    for (let i = 0; i < lr.shape[0]!; i++) {
      if (i > 0) stepOnce(schedule, metrics, i);
      assertMatches(c.name, i, snapshot(opt), lr.data, momentum);
    }
  }
});

test('every schedule resumes from its state dict (through JSON, as in a checkpoint) on PyTorch\'s sequence', () => {
  const { f, meta } = fixture('schedulers');
  for (const c of JSON.parse(meta.cases!) as Case[]) {
    const lr = f[`${c.name}.lr`]!, momentum = f[`${c.name}.momentum`]!.data;
    const metrics = f[`${c.name}.metrics`]?.data;
    const rows = lr.shape[0]!, half = Math.floor(rows / 2);
    const first = buildCase(c);
    for (let i = 1; i <= half; i++) stepOnce(first.schedule, metrics, i);
    const saved = JSON.parse(JSON.stringify({ optimizer: first.opt.stateDict().meta, schedule: first.schedule.stateDict() }));
    // As in PyTorch: build both afresh, then load the optimizer's state and the schedule's.
    const second = buildCase(c);
    second.opt.loadStateDict({ state: {}, meta: saved.optimizer });
    (second.schedule.loadStateDict as (s: unknown) => void)(saved.schedule);
    assertMatches(`${c.name} resumed`, half, snapshot(second.opt), lr.data, momentum);
    for (let i = half + 1; i < rows; i++) {
      stepOnce(second.schedule, metrics, i);
      assertMatches(`${c.name} resumed`, i, snapshot(second.opt), lr.data, momentum);
    }
  }
});

test('StepLR and CosineAnnealingLR resume from their state dicts', () => {
  for (const make of [
    (o: optim.SGD) => new optim.StepLR(o, { stepSize: 3, gamma: 0.5 }),
    (o: optim.SGD) => new optim.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.01 }),
  ]) {
    const build = (): [optim.SGD, optim.StepLR | optim.CosineAnnealingLR] => {
      const opt = new optim.SGD([{ params: [tensor([0], undefined, { requiresGrad: true })] }, { params: [tensor([0], undefined, { requiresGrad: true })], lr: 0.3 }], { lr: 0.1 });
      return [opt, make(opt)];
    };
    const [opt, schedule] = build();
    const straight: number[][] = [];
    for (let i = 0; i < 10; i++) {
      schedule.step();
      straight.push(opt.paramGroups.map((g) => g.lr));
    }
    const [opt2, schedule2] = build();
    for (let i = 0; i < 4; i++) schedule2.step();
    const saved = JSON.parse(JSON.stringify({ optimizer: opt2.stateDict().meta, schedule: schedule2.stateDict() }));
    const [opt3, schedule3] = build();
    opt3.loadStateDict({ state: {}, meta: saved.optimizer });
    schedule3.loadStateDict(saved.schedule);
    for (let i = 4; i < 10; i++) {
      schedule3.step();
      assert.deepEqual(opt3.paramGroups.map((g) => g.lr), straight[i], `${schedule.name} step ${i + 1}`);
    }
  }
});

test('OneCycleLR and ReduceLROnPlateau check per-group values and their loaded state', () => {
  const opt = new optim.SGD([{ params: [tensor([0], undefined, { requiresGrad: true })] }, { params: [tensor([0], undefined, { requiresGrad: true })] }], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => new optim.OneCycleLR(opt, { maxLr: [1, 2, 3], totalSteps: 5 }), /OneCycleLR: expected 2 value\(s\) for maxLr, one per param group, got 3/);
  assert.throws(() => new optim.OneCycleLR(opt, { maxLr: [1, -2], totalSteps: 5 }), /OneCycleLR: maxLr\[1\] must be a finite number >= 0, got -2/);
  assert.throws(() => new optim.ReduceLROnPlateau(opt, { minLr: [0.1] }), /ReduceLROnPlateau: expected 2 value\(s\) for minLr, one per param group, got 1/);
  const one = new optim.OneCycleLR(opt, { maxLr: [1, 2], totalSteps: 5 });
  const state = one.stateDict();
  assert.deepEqual(state.options.maxLr, [1, 2]);
  assert.throws(() => one.loadStateDict({ ...state, options: { ...state.options, maxLr: 3 } }), /OneCycleLR.loadStateDict: option maxLr must be an array, got 3/);
  assert.throws(() => one.loadStateDict({ ...state, options: { ...state.options, maxLr: [1] } }), /OneCycleLR.loadStateDict: maxLr must hold 2 value\(s\), one per param group, got \[1\]/);

  const plateau = new optim.ReduceLROnPlateau(opt, { mode: 'max' });
  const fresh = plateau.stateDict();
  assert.equal(fresh.best, '-Infinity', 'no metric yet: JSON has no infinity');
  plateau.step(0.5);
  plateau.loadStateDict(JSON.parse(JSON.stringify(fresh)));
  assert.equal(plateau.best, -Infinity);
  assert.equal(plateau.lastEpoch, 0);
  assert.throws(() => plateau.loadStateDict({ ...fresh, best: 'lots' as never }), /best must be a number, "Infinity" or "-Infinity", got "lots"/);
  assert.throws(() => plateau.loadStateDict({ ...fresh, numBadEpochs: -1 }), /numBadEpochs must be an integer >= 0, got -1/);
  assert.throws(() => plateau.loadStateDict({ ...fresh, options: { ...fresh.options, patiense: 1 } as never }), /unknown option 'patiense'; did you mean 'patience'\?/);
  assert.throws(() => plateau.loadStateDict(new optim.StepLR(opt, { stepSize: 1 }).stateDict() as never), /expected the state of a ReduceLROnPlateau, got one of "StepLR"/);
  assert.equal(plateau.best, -Infinity, 'a refused state changes nothing');
});

test('schedule options are checked', () => {
  const opt = new optim.SGD([tensor([0], undefined, { requiresGrad: true })], { lr: 0.1 });
  assert.throws(() => new optim.OneCycleLR(new optim.LBFGS([tensor([0], undefined, { requiresGrad: true })]), { maxLr: 1, totalSteps: 10 }), /OneCycleLR: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false/);
  const one = new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 2, cycleMomentum: false });
  one.step();
  one.step();
  assert.throws(() => one.step(), /OneCycleLR: tried to step 4 times; the specified number of total steps is 2/);
  assert.throws(() => new optim.LinearLR(opt, { start_factor: 0.1 } as never), /LinearLR: unknown option 'start_factor'; did you mean 'startFactor'\?/);
  assert.throws(() => new optim.ReduceLROnPlateau(opt, { patient: 2 } as never), /ReduceLROnPlateau: unknown option 'patient'; did you mean 'patience'\?/);
  assert.throws(() => new optim.ReduceLROnPlateau(opt, { mode: 'lowest' as never }), /mode must be 'min' or 'max'/);
});

// LBFGS and the new schedules against PyTorch 1.13 (tools/make_fixtures.py lbfgs schedulers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, readSafetensorsMetadata } from '../src/io/index.js';
import { optim, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';

const fixture = (name: string): { f: Record<string, Tensor>; meta: Record<string, string> } => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}.safetensors`, import.meta.url))));
  return { f: loadSafetensors(bytes), meta: readSafetensorsMetadata(bytes) };
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

test('LBFGS: needs a closure, checks its options, refuses to save a state it would lose', () => {
  const p = tensor([1, 2], undefined, { requiresGrad: true });
  const opt = new optim.LBFGS([p]);
  assert.throws(() => opt.step(), /LBFGS.step: needs a closure/);
  assert.throws(() => opt.step(() => 'x'), /the closure must return the loss \(a Tensor or a number\), got x/);
  assert.throws(() => new optim.LBFGS([p], { lineSearchFn: 'strong_wolfe' as never }), /lineSearchFn must be null or 'strongWolfe', got "strong_wolfe"/);
  assert.throws(() => new optim.LBFGS([p], { history_size: 3 } as never), /LBFGS: unknown option 'history_size'; did you mean 'historySize'\?/);
  assert.throws(() => opt.stateDict(), /saving the L-BFGS history is not supported/);
});

type Case = { name: string; options: Record<string, unknown> & { kind: string; lr: number; momentum?: number; optimizer?: string } };

test('LinearLR, OneCycleLR and ReduceLROnPlateau give PyTorch\'s lr (and momentum) sequences', () => {
  const { f, meta } = fixture('schedulers');
  const cases = JSON.parse(meta.cases!) as Case[];
  assert.equal(cases.length, 7);
  for (const { name, options } of cases) {
    const { kind, lr, momentum, optimizer, ...rest } = options;
    const params = [tensor([0], undefined, { requiresGrad: true })];
    const opt = optimizer === 'Adam' ? new optim.Adam(params, { lr }) : new optim.SGD(params, { lr, momentum: momentum ?? 0 });
    const group = opt.paramGroups[0]! as { lr: number; momentum?: number; betas?: [number, number] };
    const momentumOf = (): number => group.betas?.[0] ?? group.momentum ?? 0;
    const expectedLr = f[`${name}.lr`]!.data, expectedMomentum = f[`${name}.momentum`]!.data;
    const metrics = f[`${name}.metrics`]?.data;
    const schedule = kind === 'LinearLR' ? new optim.LinearLR(opt, rest)
      : kind === 'OneCycleLR' ? new optim.OneCycleLR(opt, rest as unknown as optim.OneCycleLROptions)
      : new optim.ReduceLROnPlateau(opt, rest);
    const got: number[] = [group.lr], gotMomentum: number[] = [momentumOf()];
    for (let i = 1; i < expectedLr.length; i++) {
      if (schedule instanceof optim.ReduceLROnPlateau) schedule.step(metrics![i - 1]!);
      else schedule.step();
      got.push(group.lr);
      gotMomentum.push(momentumOf());
    }
    got.forEach((v, i) => assert.ok(Math.abs(v - expectedLr[i]!) <= 1e-12 + 1e-9 * Math.abs(expectedLr[i]!), `${name} lr at ${i}: ${v} vs ${expectedLr[i]}`));
    gotMomentum.forEach((v, i) => assert.ok(Math.abs(v - expectedMomentum[i]!) <= 1e-12, `${name} momentum at ${i}: ${v} vs ${expectedMomentum[i]}`));
  }
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

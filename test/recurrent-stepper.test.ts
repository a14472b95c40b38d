// layer.stepper(): one time step at a time without gradients gives, bit for bit, what forward gives
// when it is called on one step at a time with the state carried, on every backend, for every layer
// kind (the prepared LSTM kernel and the fallback through the fused layer code), dense inputs and
// tokens; it is a snapshot of the weights; its state reads and resets like forward's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, randn, tensor, type Tensor } from '../src/tensor/index.js';
import '../src/ops/index.js';
import { GRU, LSTM } from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import { kernelsFor } from '../src/kernels/index.js';
import { backends, onBackend } from './helpers/backends.js';
import { assertSameBits, assertSameState, cases, forwardStep, gen, run, type Layer, type State } from './helpers/stepping.js';
import { withWasmMemory } from './helpers/wasm-memory.js';

for (const backend of backends) {
  for (const c of cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      test(`${backend}: ${c.name} (${dtype}): stepper gives forward's bits step by step, dense and tokens, batch 1 and 3`, onBackend(backend, () => {
        for (const batch of [1, 3]) {
          for (const tokens of [false, true]) {
            const layer = c.make(dtype);
            const stepper = layer.stepper({ batch, tokens });
            const fast = backend === 'wasm' && dtype === 'float32' && !layer.projSize;
            assert.equal(stepper.fast, fast, 'which path the stepper takes');
            run(layer, stepper, batch, 6, tokens);
            stepper.dispose();
          }
        }
      }));
    }
  }
}

test('the generation shape (LSTM 65 -> 512, 2 layers, tokens) matches forward on the default backend with 2 threads', async () => {
  const k = kernelsFor('float32');
  const threaded = k.name === 'wasm' && 'setThreads' in k;
  const wasm = k as typeof k & { setThreads?: (n: number) => Promise<void>; adaptiveThreads?: boolean };
  if (threaded) {
    await wasm.setThreads!(2);
    wasm.adaptiveThreads = false;
  }
  try {
    const layer = new LSTM({ inputSize: 65, hiddenSize: 512, numLayers: 2, generator: gen() });
    run(layer, layer.stepper({ tokens: true }), 1, 5, true);
  } finally {
    if (threaded) {
      await wasm.setThreads!(1);
      wasm.adaptiveThreads = true;
    }
  }
});

test('a stepper is a snapshot: later weight changes are not seen; a new stepper sees them', () => {
  const layer = new LSTM({ inputSize: 4, hiddenSize: 8, generator: gen() });
  const before = layer.stepper();
  const x = [0.5, -1, 2, 0.25];
  const first = before.step(x).data.slice();
  before.reset();
  layer.stateDict()['weight_ih_l0']!.data.fill(0.3);
  assertSameBits('old stepper after the change', before.step(x).data, first);
  const after = layer.stepper().step(x);
  const want = forwardStep(layer, tensor(Float32Array.from(x), [1, 1, 4]), null).out;
  assertSameBits('new stepper', after.data, want.data);
  assert.notDeepEqual([...after.data], [...first]);
});

test('state and reset take what forward returns and takes', () => {
  const layer = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, generator: gen() });
  const stepper = layer.stepper({ batch: 2 });
  const inputs = Array.from({ length: 4 }, (_, t) => randn([1, 2, 3], { generator: new Generator(t) }));
  const { state: afterTwo } = inputs.slice(0, 2).reduce<{ state: State }>((acc, x) => forwardStep(layer, x, acc.state), { state: null });
  stepper.reset(afterTwo);
  assertSameState('reset then read', stepper.state, afterTwo);
  let state = afterTwo;
  for (const x of inputs.slice(2)) {
    const want = forwardStep(layer, x, state);
    state = want.state;
    assertSameBits('after reset', stepper.step(x.data).data, want.out.data);
  }
  stepper.reset();
  assert.ok((stepper.state as [Tensor, Tensor]).every((t) => t.data.every((v) => v === 0)), 'reset() zeroes the state');
  const gru = new GRU({ inputSize: 3, hiddenSize: 5, generator: gen() }).stepper();
  assert.deepEqual((gru.state as Tensor).shape, [1, 1, 5]);
});

test('bad arguments get clear errors', () => {
  const layer = new LSTM({ inputSize: 4, hiddenSize: 3, numLayers: 2 });
  assert.throws(() => new LSTM({ inputSize: 4, hiddenSize: 3, bidirectional: true }).stepper(), /LSTM.stepper: a bidirectional layer cannot be stepped/);
  assert.throws(() => layer.stepper({ batch: 0 }), /batch/);
  const dense = layer.stepper({ batch: 2 });
  assert.throws(() => dense.step([1, 2, 3]), /LSTM.stepper: input must hold \[2, 4\] = 8 numbers, got 3/);
  assert.throws(() => dense.step(randn([2, 5])), /input must be \[2, 4\], got \[2, 5\]/);
  const tokens = layer.stepper({ tokens: true });
  assert.throws(() => tokens.step([4]), /token 0 must be an integer in \[0, 4\), got 4/);
  assert.throws(() => tokens.step([1.5]), /token 0 must be an integer/);
  assert.throws(() => tokens.step([1, 2]), /step takes 1 token index\(es\) \(one per row\), got 2/);
  assert.throws(() => tokens.reset(randn([2, 1, 3])), /LSTM.stepper: reset takes \[h, c\] for an LSTM/);
  assert.throws(() => tokens.reset([randn([2, 1, 3]), randn([1, 1, 3])]), /c must be \[2, 1, 3\], got \[1, 1, 3\]/);
  tokens.dispose();
  assert.throws(() => tokens.step([0]), /used after dispose/);
});

/** forward on one step with gradients recorded: the workspace path, which the prepared path must match. */
function recordedStep(layer: Layer, x: Tensor, state: State): { out: Tensor; state: State } {
  const detach = (s: State): State => (s === null ? null : Array.isArray(s) ? [s[0].detach(), s[1].detach()] : s.detach());
  if (layer instanceof LSTM) {
    const [out, next] = layer.forward(x, state as [Tensor, Tensor] | null);
    assert.ok(out.requiresGrad, 'the comparison runs the recorded path');
    return { out, state: detach(next) };
  }
  const [out, h] = layer.forward(x, (state as Tensor | null) ?? undefined);
  return { out, state: detach(h) };
}

for (const c of cases) {
  test(`${c.name}: forward on single steps without gradients (weights prepared once) gives the recorded path's bits, batch 1, 3 and 8, dense and one-hot`, () => {
    for (const batch of [1, 3, 8]) {
      for (const oneHot of [false, true]) {
        const layer = c.make('float32');
        const I = layer.inputSize;
        const random = new Generator(batch);
        let fast: State = null;
        let recorded: State = null;
        for (let t = 0; t < 4; t++) {
          const x = oneHot
            ? tensor(new Float32Array(batch * I).map((_, i) => (i % I === (Math.floor(i / I) * 5 + t) % I ? 1 : 0)), [1, batch, I])
            : randn([1, batch, I], { generator: random });
          const got = forwardStep(layer, x, fast);
          const want = recordedStep(layer, x, recorded);
          assertSameBits(`batch ${batch}${oneHot ? ', one-hot' : ''}, step ${t}`, got.out.data, want.out.data);
          fast = got.state;
          recorded = want.state;
        }
        assertSameState(`batch ${batch} final state`, fast, recorded);
        layer.dispose();
      }
    }
  });
}

test('forward on single steps sees every change of the weights: optimizer steps, loadStateDict, in-place writes with bumpVersion()', () => {
  const layer = new LSTM({ inputSize: 4, hiddenSize: 8, numLayers: 2, generator: gen() });
  const x = randn([1, 2, 4], { generator: new Generator(3) });
  const check = (label: string): number[] => {
    const got = forwardStep(layer, x, null).out.data;
    assertSameBits(label, got, recordedStep(layer, x, null).out.data);
    return [...got];
  };
  const first = check('before any change');
  const opt = new optim.SGD(layer.parameters(), { lr: 0.5 });
  recordedStep(layer, x, null).out.sum().backward();
  opt.step();
  const afterStep = check('after an optimizer step');
  assert.notDeepEqual(afterStep, first);
  const saved = Object.fromEntries(Object.entries(layer.stateDict()).map(([k, t]) => [k, t.clone()]));
  layer.stateDict()['bias_hh_l1']!.data.fill(0.7);
  layer.stateDict()['bias_hh_l1']!.bumpVersion();
  assert.notDeepEqual(check('after a write through .data and bumpVersion()'), afterStep);
  layer.loadStateDict(saved);
  assert.deepEqual(check('after loadStateDict'), afterStep);
});

for (const memory of ['shared', 'plain'] as const) {
  test(`${memory} memory, growing at every allocation: stepper and forward step by step give the same bits`, { skip: kernelsFor('float32').name !== 'wasm' }, () => {
    withWasmMemory(memory, (heap) => {
      heap.growOnEveryAlloc = true;
      try {
        for (const c of cases) {
          for (const tokens of [false, true]) {
            const layer = c.make('float32');
            const stepper = layer.stepper({ batch: 2, tokens });
            run(layer, stepper, 2, 3, tokens);
            stepper.dispose();
            layer.dispose();
          }
        }
      } finally {
        heap.growOnEveryAlloc = false;
      }
    });
  });
}

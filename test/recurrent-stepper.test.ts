// layer.stepper(): one time step at a time without gradients gives, bit for bit, what forward gives
// when it is called on one step at a time with the state carried, on every backend, for every layer
// kind (the prepared LSTM kernel and the fallback through the fused layer code), dense inputs and
// tokens; it is a snapshot of the weights; its state reads and resets like forward's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, randn, tensor, type Tensor } from '../src/tensor/index.js';
import '../src/ops/index.js';
import { GRU, LSTM, RNN, type RecurrentStepper } from '../src/nn/index.js';
import { kernelsFor } from '../src/kernels/index.js';
import { backends, onBackend } from './helpers/backends.js';

type Layer = LSTM | GRU | RNN;
type State = Tensor | [Tensor, Tensor] | null;

interface Case { name: string; make: (dtype: 'float32' | 'float64') => Layer }
const gen = (): Generator => new Generator(11);
const cases: Case[] = [
  { name: 'LSTM 2 layers', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 17, numLayers: 2, dtype, generator: gen() }) },
  { name: 'LSTM hidden 1, no bias', make: (dtype) => new LSTM({ inputSize: 3, hiddenSize: 1, bias: false, dtype, generator: gen() }) },
  { name: 'LSTM hidden 65 (shared by threads above 2^17 weights: not here)', make: (dtype) => new LSTM({ inputSize: 65, hiddenSize: 65, dtype, generator: gen() }) },
  { name: 'LSTM with peepholes', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 5, numLayers: 2, peephole: true, dtype, generator: gen() }) },
  { name: 'LSTM with projection', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 6, projSize: 3, numLayers: 2, dtype, generator: gen() }) },
  { name: 'GRU 2 layers', make: (dtype) => new GRU({ inputSize: 7, hiddenSize: 9, numLayers: 2, dtype, generator: gen() }) },
  { name: 'RNN relu', make: (dtype) => new RNN({ inputSize: 7, hiddenSize: 4, nonlinearity: 'relu', dtype, generator: gen() }) },
];

/** forward on one step [1, batch, input] with the state carried (what the stepper must reproduce). */
function forwardStep(layer: Layer, x: Tensor, state: State): { out: Tensor; state: State } {
  return noGrad(() => {
    if (layer instanceof LSTM) {
      const [out, next] = layer.forward(x, state as [Tensor, Tensor] | null);
      return { out, state: next };
    }
    const [out, h] = layer.forward(x, (state as Tensor | null) ?? undefined);
    return { out, state: h };
  });
}

function assertSameBits(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${label}: element ${i} is ${got[i]}, forward gives ${want[i]}`);
  }
}

function assertSameState(label: string, got: State, want: State): void {
  const g = Array.isArray(got) ? got : [got!];
  const w = Array.isArray(want) ? want : [want!];
  assert.equal(g.length, w.length);
  g.forEach((t, i) => {
    assert.deepEqual(t.shape, w[i]!.shape, `${label}: state ${i} shape`);
    assertSameBits(`${label}: state ${i}`, t.data, w[i]!.data);
  });
}

function run(layer: Layer, stepper: RecurrentStepper, batch: number, steps: number, tokens: boolean): void {
  const I = layer.inputSize;
  let state: State = null;
  const random = new Generator(5);
  for (let t = 0; t < steps; t++) {
    const ids = Array.from({ length: batch }, () => Math.floor(random.uniform() * I));
    const x = tokens
      ? tensor(new Float32Array(batch * I).map((_, i) => (ids[Math.floor(i / I)] === i % I ? 1 : 0)), [1, batch, I], { dtype: layer.dtype })
      : randn([1, batch, I], { generator: random, dtype: layer.dtype });
    const want = forwardStep(layer, x, state);
    state = want.state;
    const got = stepper.step(tokens ? ids : x.data);
    assert.deepEqual(got.shape, [batch, layer.outputSize]);
    assertSameBits(`step ${t}`, got.data, want.out.data);
  }
  assertSameState('final state', stepper.state, state);
}

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

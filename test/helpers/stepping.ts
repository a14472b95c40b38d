// What the stepper and forward-per-step tests share: the layers they step, forward on one step with
// the state carried, and bit-for-bit comparisons that name the first difference.
import assert from 'node:assert/strict';
import { Generator, noGrad, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import '../../src/ops/index.js';
import { GRU, LSTM, RNN, type RecurrentStepper } from '../../src/nn/index.js';

export type Layer = LSTM | GRU | RNN;
export type State = Tensor | [Tensor, Tensor] | null;

export interface Case { name: string; make: (dtype: 'float32' | 'float64') => Layer }
export const gen = (): Generator => new Generator(11);
export const cases: Case[] = [
  { name: 'LSTM 2 layers', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 17, numLayers: 2, dtype, generator: gen() }) },
  { name: 'LSTM hidden 1, no bias', make: (dtype) => new LSTM({ inputSize: 3, hiddenSize: 1, bias: false, dtype, generator: gen() }) },
  { name: 'LSTM hidden 65 (shared by threads above 2^17 weights: not here)', make: (dtype) => new LSTM({ inputSize: 65, hiddenSize: 65, dtype, generator: gen() }) },
  { name: 'LSTM with peepholes', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 5, numLayers: 2, peephole: true, dtype, generator: gen() }) },
  { name: 'LSTM with projection', make: (dtype) => new LSTM({ inputSize: 7, hiddenSize: 6, projSize: 3, numLayers: 2, dtype, generator: gen() }) },
  { name: 'GRU 2 layers', make: (dtype) => new GRU({ inputSize: 7, hiddenSize: 9, numLayers: 2, dtype, generator: gen() }) },
  { name: 'RNN relu', make: (dtype) => new RNN({ inputSize: 7, hiddenSize: 4, nonlinearity: 'relu', dtype, generator: gen() }) },
  { name: 'RNN sigmoid (our extension), 2 layers', make: (dtype) => new RNN({ inputSize: 7, hiddenSize: 6, numLayers: 2, nonlinearity: 'sigmoid', dtype, generator: gen() }) },
];

/** forward on one step [1, batch, input] with the state carried (what the stepper must reproduce). */
export function forwardStep(layer: Layer, x: Tensor, state: State): { out: Tensor; state: State } {
  return noGrad(() => {
    if (layer instanceof LSTM) {
      const [out, next] = layer.forward(x, state as [Tensor, Tensor] | null);
      return { out, state: next };
    }
    const [out, h] = layer.forward(x, (state as Tensor | null) ?? undefined);
    return { out, state: h };
  });
}

export function assertSameBits(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${label}: element ${i} is ${got[i]}, forward gives ${want[i]}`);
  }
}

export function assertSameState(label: string, got: State, want: State): void {
  const g = Array.isArray(got) ? got : [got!];
  const w = Array.isArray(want) ? want : [want!];
  assert.equal(g.length, w.length);
  g.forEach((t, i) => {
    assert.deepEqual(t.shape, w[i]!.shape, `${label}: state ${i} shape`);
    assertSameBits(`${label}: state ${i}`, t.data, w[i]!.data);
  });
}

export function run(layer: Layer, stepper: RecurrentStepper, batch: number, steps: number, tokens: boolean): void {
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


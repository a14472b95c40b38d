// The lifetime of the kernels' memory under programs written as PyTorch programs are: evaluation
// that forgets noGrad, sequences of varying length, models built and dropped, and the errors that
// tell a user when memory they rely on was given back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, nn, noGrad, optim, randn, tensor, type Tensor } from './helpers/api.js';
import { kernelsFor } from '../src/kernels/index.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { backends, onBackend } from './helpers/backends.js';

const MiB = 2 ** 20;
const wasm = kernelsFor('float32').name === 'wasm' ? (kernelsFor('float32') as WasmKernels) : null;
const skip = wasm ? false : 'the WebAssembly backend is not available here';

/** Bytes a layer call of an LSTM saves for its backward: x, gates, states and cells, float32. */
const lstmCallBytes = (T: number, B: number, I: number, H: number): number => 4 * (T * B * I + T * B * 4 * H + 2 * (T + 1) * B * H);

test('500 forwards with gradients on and no backward keep the heap under a fixed cap (char-rnn size, no gc())', { skip }, () => {
  const heap = wasm!.heap;
  const [T, B, V, H] = [64, 32, 65, 256];
  const lstm = new nn.LSTM({ inputSize: V, hiddenSize: H, numLayers: 2, generator: new Generator(1) });
  // One-hot characters, as a char-rnn feeds them (the gather path).
  const ids = new Float32Array(T * B * V);
  for (let r = 0; r < T * B; r++) ids[r * V + ((r * 7) % V)] = 1;
  const x = tensor(ids, [T, B, V]);
  const start = heap.inUse;
  const startTop = heap.used;
  const perCall = lstmCallBytes(T, B, V, H) + lstmCallBytes(T, B, H, H);
  // The cap: every layer keeps its pending-graph limit of calls plus the one being made, and the
  // pool of spare buffers and the per-call packed weights hold at most one more call's worth.
  const cap = (nn.getPendingGraphLimit() + 2) * perCall;
  heap.resetPeak();
  for (let i = 0; i < 500; i++) {
    const [out] = lstm.forward(x); // gradients on (the parameters require them), never backpropagated
    assert.equal(out.requiresGrad, true);
    assert.ok(heap.inUse - start <= cap, `call ${i}: ${((heap.inUse - start) / MiB).toFixed(1)} MiB in use, cap ${(cap / MiB).toFixed(1)} MiB`);
  }
  assert.ok(heap.peak - startTop <= cap, `the heap's top rose ${((heap.peak - startTop) / MiB).toFixed(1)} MiB, cap ${(cap / MiB).toFixed(1)} MiB`);
  lstm.dispose();
});

test('the same layer applied to independent inputs under the pending limit backpropagates through all of them', { skip }, () => {
  const gru = new nn.GRU({ inputSize: 3, hiddenSize: 4, generator: new Generator(3) });
  const inputs = Array.from({ length: nn.getPendingGraphLimit() }, (_, i) => randn([5, 2, 3], { generator: new Generator(10 + i) }));
  let loss: Tensor | null = null;
  for (const x of inputs) {
    const [out] = gru.forward(x);
    loss = loss ? loss.add(out.sum()) : out.sum();
  }
  loss!.backward();
  for (const p of gru.parameters()) assert.ok(p.grad !== null);
});

test('a call reclaimed past the limit fails its backward with the reason and the ways out', { skip }, () => {
  const gru = new nn.GRU({ inputSize: 3, hiddenSize: 4, generator: new Generator(4) });
  const limit = nn.getPendingGraphLimit();
  const outs = Array.from({ length: limit + 1 }, (_, i) => gru.forward(randn([5, 2, 3], { generator: new Generator(20 + i) }))[0]);
  assert.throws(() => outs[0]!.sum().backward(), /GRU: this call's saved activations were reclaimed: 3 newer calls .*noGrad\(\).*setPendingGraphLimit/s);
  // The calls that were kept still work.
  outs[limit]!.sum().backward();
  // With a higher limit the same program runs through.
  nn.setPendingGraphLimit(limit + 1);
  try {
    const again = Array.from({ length: limit + 1 }, (_, i) => gru.forward(randn([5, 2, 3], { generator: new Generator(30 + i) }))[0]);
    again.reduce((a, b) => a.add(b)).sum().backward();
  } finally {
    nn.setPendingGraphLimit(limit);
  }
  assert.throws(() => nn.setPendingGraphLimit(0), /setPendingGraphLimit: n must be a positive integer, got 0/);
});

test('calls that a newer call depends on are never reclaimed (a decoder stepped in a loop, state carried)', { skip }, () => {
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3, generator: new Generator(5) });
  const x = randn([1, 1, 2], { generator: new Generator(6) });
  let state: [Tensor, Tensor] | undefined;
  let loss: Tensor | null = null;
  for (let t = 0; t < 3 * nn.getPendingGraphLimit(); t++) {
    const [out, next] = lstm.forward(x, state);
    state = next;
    loss = loss ? loss.add(out.sum()) : out.sum();
  }
  loss!.backward();
  for (const p of lstm.parameters()) assert.ok(p.grad!.data.some((v) => v !== 0));
});

test('300 training steps with lengths cycling 10..200 peak within 1.5x of a run at the longest length', { skip }, () => {
  const heap = wasm!.heap;
  const peakOf = (lengths: (step: number) => number): number => {
    const gen = new Generator(7);
    const lstm = new nn.LSTM({ inputSize: 8, hiddenSize: 32, generator: gen });
    const head = new nn.Linear(32, 1, { generator: gen });
    const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
    const xs = new Map<number, Tensor>();
    heap.resetPeak();
    const base = heap.used;
    for (let step = 0; step < 300; step++) {
      const T = lengths(step);
      if (!xs.has(T)) xs.set(T, randn([T, 8, 8], { generator: gen }));
      const [out] = lstm.forward(xs.get(T)!);
      const loss = head.forward(out).pow(2).mean();
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    const peak = heap.peak - base;
    lstm.dispose();
    head.dispose();
    opt.dispose();
    return peak;
  };
  peakOf(() => 200); // warm-up: kernel scratch that lives for the process
  const fixed = peakOf(() => 200);
  const cycling = peakOf((step) => 10 + ((step * 7) % 191));
  console.log(`# peak: lengths cycling 10..200 ${(cycling / MiB).toFixed(2)} MiB, fixed 200 ${(fixed / MiB).toFixed(2)} MiB`);
  assert.ok(cycling <= 1.5 * fixed, `cycling lengths peaked at ${(cycling / MiB).toFixed(2)} MiB, fixed length 200 at ${(fixed / MiB).toFixed(2)} MiB`);
});

test('building and dropping 200 models with dispose() returns the heap to its start (within one page)', { skip }, () => {
  const heap = wasm!.heap;
  const cycle = (seed: number): void => {
    const gen = new Generator(seed);
    const lstm = new nn.LSTM({ inputSize: 65, hiddenSize: 32 + (seed % 5) * 16, numLayers: 2, generator: gen });
    const head = new nn.Linear(lstm.hiddenSize, 65, { generator: gen });
    const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
    const x = randn([10 + (seed % 7), 4, 65], { generator: gen });
    const [out] = lstm.forward(x);
    head.forward(out).pow(2).mean().backward();
    opt.step();
    noGrad(() => lstm.forward(x)); // an ungraded call
    lstm.forward(x); // and a graded one never backpropagated
    const stepper = lstm.stepper();
    stepper.step(new Float32Array(65));
    stepper.dispose();
    lstm.dispose();
    head.dispose();
    opt.dispose();
  };
  cycle(0); // warm-up: kernel scratch that lives for the process
  const start = heap.inUse;
  const startTop = heap.used;
  for (let i = 1; i <= 200; i++) cycle(i);
  assert.ok(Math.abs(heap.inUse - start) <= 65536, `in use: ${start} bytes before, ${heap.inUse} after`);
  assert.ok(Math.abs(heap.used - startTop) <= 65536, `top: ${startTop} before, ${heap.used} after`);
});

for (const backend of backends) {
  test(`${backend}: a disposed module, its parameters and a disposed optimizer say so when used`, onBackend(backend, () => {
    const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3, generator: new Generator(8) });
    const head = new nn.Linear(3, 1, { generator: new Generator(9) });
    const opt = new optim.SGD([...lstm.parameters(), ...head.parameters()], { lr: 0.1 });
    const x = randn([4, 1, 2], { generator: new Generator(10) });
    const [out] = lstm.forward(x);
    const pending = head.forward(out).sum();
    const weight = lstm.parameters()[0]!;
    lstm.dispose();
    lstm.dispose(); // twice is fine
    head.dispose();
    opt.dispose();
    assert.equal(lstm.disposed, true);
    assert.throws(() => lstm.forward(x), /LSTM: this module was disposed \(dispose\(\) gave its memory back\); build a new one/);
    assert.throws(() => head.forward(tensor([[1, 2, 3]])), /Linear: this module was disposed/);
    assert.throws(() => lstm.stepper(), /LSTM.stepper: this module was disposed/);
    assert.throws(() => weight.data, /this tensor's memory was released \(its module or optimizer was disposed/);
    assert.throws(() => opt.step(), /SGD.step: this optimizer was disposed; build a new one/);
    assert.throws(() => pending.backward(), /disposed/);
  }));
}

test('a call that a later call depends on through other layers is kept; independent ones are still reclaimed', { skip }, () => {
  const gen = new Generator(11);
  const gru = new nn.GRU({ inputSize: 3, hiddenSize: 3, generator: gen });
  const mix = new nn.LSTM({ inputSize: 3, hiddenSize: 3, generator: gen });
  const x = randn([4, 2, 3], { generator: gen });
  const limit = nn.getPendingGraphLimit();
  nn.setPendingGraphLimit(1);
  try {
    // gru -> lstm -> gru: the first gru call is needed by the second only through the LSTM's call.
    const [first] = gru.forward(x);
    const [mixed] = mix.forward(first);
    const [second] = gru.forward(mixed);
    second.sum().backward();
    for (const p of gru.parameters()) assert.ok(p.grad!.data.some((v) => v !== 0));
    // With an LSTM call live, a GRU call nothing depends on is still reclaimed past the limit.
    const [lone] = gru.forward(x);
    mix.forward(x);
    gru.forward(x);
    assert.throws(() => lone.sum().backward(), /reclaimed: 1 newer calls/);
  } finally {
    nn.setPendingGraphLimit(limit);
  }
});

test('a cell stepped 2,000 times in a loop keeps every step for one backward', { skip }, () => {
  const cell = new nn.LSTMCell(3, 4, { generator: new Generator(12) });
  const x = randn([2, 3], { generator: new Generator(13) });
  let state: [Tensor, Tensor] | undefined;
  let loss: Tensor | null = null;
  for (let t = 0; t < 2000; t++) {
    state = cell.forward(x, state);
    if (t % 100 === 99) loss = loss ? loss.add(state[0].sum()) : state[0].sum();
  }
  loss!.backward();
  for (const p of cell.parameters()) assert.ok(p.grad!.data.every(Number.isFinite));
});

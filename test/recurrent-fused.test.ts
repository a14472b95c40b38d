// The fused recurrent node (one autograd node per layer and direction) against the same cells built op
// by op, in float64: values, gradients of every input, and finite-difference gradchecks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, gradcheck, randn, Tensor } from '../src/tensor/index.js';
import '../src/ops/index.js';
import { GRU, LSTM, LSTMCell, RNN, GRUCell, RNNCell, recurrentDirection, gateCount, reference, type CellKind, type DirectionWeights } from '../src/nn/index.js';
import { gatherColumns } from '../src/nn/recurrent/one-hot.js';
import { jsKernels } from '../src/kernels/js/index.js';

const gen = new Generator(7);
const r = (shape: number[], scale = 0.5): Tensor => randn(shape, { dtype: 'float64', generator: gen, std: scale, requiresGrad: true });

interface Case { kind: CellKind; peephole?: boolean; proj?: number; bias?: boolean }
const cases: Case[] = [
  { kind: 'rnn_tanh' }, { kind: 'rnn_relu' }, { kind: 'rnn_sigmoid' }, { kind: 'lstm' }, { kind: 'lstm', peephole: true },
  { kind: 'lstm', proj: 2 }, { kind: 'lstm', bias: false }, { kind: 'gru' }, { kind: 'gru', bias: false },
];

function makeWeights(c: Case, I: number, H: number): DirectionWeights {
  const G = gateCount(c.kind);
  const P = c.proj ?? H;
  const bias = c.bias ?? true;
  return {
    weightIh: r([G * H, I]), weightHh: r([G * H, P]),
    biasIh: bias ? r([G * H]) : null, biasHh: bias ? r([G * H]) : null,
    weightHr: c.proj ? r([P, H]) : null,
    peephole: c.peephole ? [r([H]), r([H]), r([H])] : null,
  };
}

function allInputs(x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights): Tensor[] {
  return [x, h0, ...(c0 ? [c0] : []), w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, ...(w.peephole ?? [])].filter((t): t is Tensor => t !== null);
}

function maxDiff(a: Float64Array | Float32Array, b: Float64Array | Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const c of cases) {
  for (const reverse of [false, true]) {
    const label = `${c.kind}${c.peephole ? ' peephole' : ''}${c.proj ? ' proj' : ''}${c.bias === false ? ' no bias' : ''}${reverse ? ' reverse' : ''}`;
    test(`fused ${label} matches the op-by-op reference (values and gradients)`, () => {
      const T = 4, B = 3, I = 5, H = 4, P = c.proj ?? H;
      const w = makeWeights(c, I, H);
      const x = r([T, B, I], 1), h0 = r([B, P]), c0 = c.kind === 'lstm' ? r([B, H]) : null;
      const inputs = allInputs(x, h0, c0, w);
      const cot = [randn([T, B, P], { dtype: 'float64', generator: gen }), randn([B, P], { dtype: 'float64', generator: gen }), randn([B, H], { dtype: 'float64', generator: gen })];
      const run = (f: typeof recurrentDirection): { values: Float64Array[]; grads: Float64Array[] } => {
        for (const t of inputs) t.grad = null;
        const out = f(c.kind, x, h0, c0, w, reverse);
        let loss = out.output.mul(cot[0]!).sum().add(out.h.mul(cot[1]!).sum());
        if (out.c) loss = loss.add(out.c.mul(cot[2]!).sum());
        loss.backward();
        return {
          values: [out.output, out.h, ...(out.c ? [out.c] : [])].map((t) => t.data as Float64Array),
          grads: inputs.map((t) => (t.grad?.data ?? new Float64Array(t.size)) as Float64Array),
        };
      };
      const fused = run(recurrentDirection);
      const ref = run(reference.runDirection);
      fused.values.forEach((v, i) => assert.ok(maxDiff(v, ref.values[i]!) < 1e-12, `value ${i}: max diff ${maxDiff(v, ref.values[i]!)}`));
      fused.grads.forEach((g, i) => assert.ok(maxDiff(g, ref.grads[i]!) < 1e-10, `gradient of input ${i}: max diff ${maxDiff(g, ref.grads[i]!)}`));
      assert.ok(fused.grads.every((g) => g.some((v) => v !== 0)), 'every input receives a non-zero gradient');
    });
  }
}

test('gradcheck: 2-layer bidirectional LSTM with peepholes (float64, finite differences)', () => {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 3, numLayers: 2, bidirectional: true, peephole: true, dtype: 'float64', generator: new Generator(1) });
  const x = r([4, 2, 3], 1), h0 = r([4, 2, 3]), c0 = r([4, 2, 3]);
  const params = lstm.parameters();
  assert.equal(gradcheck((xx, hh, cc) => {
    const [out, [h, c]] = lstm.forward(xx!, [hh!, cc!]);
    return out.sum().add(h.mul(h).sum()).add(c.sum());
  }, [x, h0, c0]), true);
  assert.equal(gradcheck(() => lstm.forward(x)[0].tanh().sum(), params.slice(0, 6)), true);
});

test('gradcheck: GRU batchFirst with 2 layers and RNN relu', () => {
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, batchFirst: true, dtype: 'float64', generator: new Generator(2) });
  assert.equal(gradcheck((xx, hh) => gru.forward(xx!, hh!)[0], [r([2, 5, 2], 1), r([2, 2, 3])]), true);
  const rnn = new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu', bidirectional: true, dtype: 'float64', generator: new Generator(3) });
  assert.equal(gradcheck((xx) => rnn.forward(xx!)[1], [r([3, 2, 2], 1)]), true);
});

test('gradcheck: sigmoid RNN (our extension), 2 layers bidirectional, and its cell (float64, finite differences)', () => {
  const rnn = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 2, nonlinearity: 'sigmoid', bidirectional: true, dtype: 'float64', generator: new Generator(6) });
  const x = r([4, 2, 2], 1), h0 = r([4, 2, 3]);
  assert.equal(gradcheck((xx, hh) => {
    const [out, h] = rnn.forward(xx!, hh!);
    return out.mul(out).sum().add(h.sum());
  }, [x, h0]), true);
  assert.equal(gradcheck(() => rnn.forward(x)[0].sum(), rnn.parameters()), true);
  // Every output is a sigmoid: in (0, 1).
  const [out] = rnn.forward(r([6, 2, 2], 3));
  assert.ok(out.data.every((v) => v > 0 && v < 1));
  const cell = new RNNCell(3, 2, { nonlinearity: 'sigmoid', dtype: 'float64', generator: new Generator(8) });
  assert.equal(cell.nonlinearity, 'sigmoid');
  const xc = r([2, 3]), hc = r([2, 2]);
  const named = Object.fromEntries(cell.namedParameters());
  const w: DirectionWeights = { weightIh: named.weight_ih!, weightHh: named.weight_hh!, biasIh: named.bias_ih!, biasHh: named.bias_hh!, weightHr: null, peephole: null };
  assert.ok(maxDiff(cell.forward(xc, hc).data, reference.rnnStep(xc, hc, w, 'sigmoid').data) < 1e-12);
  assert.equal(gradcheck((xx, hh) => cell.forward(xx!, hh!), [xc, hc]), true);
});

// Its stepper: test/recurrent-stepper.test.ts (the cases of helpers/stepping.ts include it).
test('sigmoid RNN in float32 (the wasm kernels) matches the float64 reference', () => {
  const rnn = new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, nonlinearity: 'sigmoid', generator: new Generator(11) });
  const x = randn([6, 2, 3], { generator: gen });
  const [out] = rnn.forward(x);
  const wide = new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, nonlinearity: 'sigmoid', dtype: 'float64', generator: new Generator(11) });
  const [want] = wide.forward(new Tensor(Float64Array.from(x.data), x.shape));
  assert.ok(maxDiff(out.data, want.data) < 1e-5, `float32 vs float64: ${maxDiff(out.data, want.data)}`);
});

test('cells match one step of the reference', () => {
  const cell = new LSTMCell(3, 4, { dtype: 'float64', peephole: true, generator: new Generator(4) });
  const x = r([2, 3]), h = r([2, 4]), cs = r([2, 4]);
  const [h1, c1] = cell.forward(x, [h, cs]);
  const named = Object.fromEntries(cell.namedParameters());
  const w: DirectionWeights = { weightIh: named.weight_ih!, weightHh: named.weight_hh!, biasIh: named.bias_ih!, biasHh: named.bias_hh!, weightHr: null, peephole: [named.weight_ci!, named.weight_cf!, named.weight_co!] };
  const ref = reference.lstmStep(x, h, cs, w);
  assert.ok(maxDiff(h1.data, ref.h.data) < 1e-12 && maxDiff(c1.data, ref.c.data) < 1e-12);
  assert.equal(gradcheck((xx) => new GRUCell(3, 2, { dtype: 'float64', generator: new Generator(5) }).forward(xx!), [r([2, 3])]), true);
  const rc = new RNNCell(3, 2, { dtype: 'float64' });
  assert.deepEqual(rc.forward(r([3])).shape, [2]);
});

test('PyTorch parameter names, shapes and order', () => {
  const lstm = new LSTM({ inputSize: 8, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 4 });
  const names = [...lstm.namedParameters()].map(([n, t]) => `${n}:${t.shape.join('x')}`);
  assert.deepEqual(names.slice(0, 10), [
    'weight_ih_l0:24x8', 'weight_hh_l0:24x4', 'bias_ih_l0:24', 'bias_hh_l0:24', 'weight_hr_l0:4x6',
    'weight_ih_l0_reverse:24x8', 'weight_hh_l0_reverse:24x4', 'bias_ih_l0_reverse:24', 'bias_hh_l0_reverse:24', 'weight_hr_l0_reverse:4x6',
  ]);
  assert.equal(names[10], 'weight_ih_l1:24x8');
  const peep = new LSTM({ inputSize: 2, hiddenSize: 3, peephole: true });
  assert.deepEqual([...peep.namedParameters()].map(([n]) => n), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ci_l0', 'weight_cf_l0', 'weight_co_l0']);
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, bias: false });
  assert.deepEqual([...gru.namedParameters()].map(([n, t]) => `${n}:${t.shape.join('x')}`), ['weight_ih_l0:9x2', 'weight_hh_l0:9x3']);
});

test('initialisation is U(-1/sqrt(hidden), 1/sqrt(hidden)) and seeded', () => {
  const a = new LSTM({ inputSize: 5, hiddenSize: 16, generator: new Generator(9) });
  const b = new LSTM({ inputSize: 5, hiddenSize: 16, generator: new Generator(9) });
  const bound = 1 / 4;
  for (const [[, p], [, q]] of [...a.namedParameters()].map((e, i) => [e, [...b.namedParameters()][i]!] as const)) {
    assert.deepEqual(p.data, q.data);
    assert.ok(p.data.every((v) => Math.abs(v) <= bound));
    assert.ok(p.data.some((v) => Math.abs(v) > bound / 2));
  }
});

test('shape errors name the layer, the argument and both shapes', () => {
  const lstm = new LSTM({ inputSize: 8, hiddenSize: 4, numLayers: 2 });
  const x = randn([5, 3, 7]);
  assert.throws(() => lstm.forward(x), /LSTM: input must be \[seq, batch, 8\], got \[seq, batch, 7\]/);
  assert.throws(() => lstm.forward(randn([5, 3, 8]), [randn([1, 3, 4]), randn([2, 3, 4])]), /LSTM: h0 must be \[2, 3, 4\], got \[1, 3, 4\]/);
  assert.throws(() => lstm.forward(randn([5, 3, 8]), [randn([2, 3, 4]), randn([2, 2, 4])]), /LSTM: c0 must be \[2, 3, 4\], got \[2, 2, 4\]/);
  assert.throws(() => lstm.forward(randn([8])), /LSTM: input must be 3-D/);
  assert.throws(() => lstm.forward(randn([5, 3, 8], { dtype: 'float64' })), /input dtype must be float32/);
  assert.throws(() => new GRU({ inputSize: 0, hiddenSize: 3 }), /GRU: inputSize must be a positive integer, got 0/);
  assert.throws(() => new LSTM({ inputSize: 2, hiddenSize: 3, dropout: NaN }), /dropout must be a number in \[0, 1\)/);
  assert.throws(() => new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'softsign' as 'tanh' }), /nonlinearity must be one of 'tanh', 'relu', 'sigmoid'/);
  assert.throws(() => new RNNCell(2, 3, { nonlinearity: 'Sigmoid' as 'tanh' }), /RNNCell: nonlinearity must be one of 'tanh', 'relu', 'sigmoid'/);
  assert.throws(() => new LSTM({ inputSize: 2, hiddenSize: 3, projSize: 2, peephole: true }), /peephole/);
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true });
  assert.throws(() => gru.forward(randn([4, 6, 3])), /GRU: input must be \[batch, seq, 2\], got \[batch, seq, 3\]/);
});

test('unbatched input [seq, features] and omitted states', () => {
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2 });
  const [out, h] = gru.forward(randn([5, 2]));
  assert.deepEqual(out.shape, [5, 3]);
  assert.deepEqual(h.shape, [2, 3]);
  const [ob] = gru.forward(randn([5, 2]).reshape([5, 1, 2]));
  assert.deepEqual(ob.shape, [5, 1, 3]);
});

test('omitted states are zeros on every call; returned final states are the call\'s own', () => {
  for (const numLayers of [1, 2]) {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers, generator: new Generator(3) });
    const x = randn([4, 2, 2], { generator: gen });
    const zeros = [new Tensor(new Float32Array(numLayers * 6), [numLayers, 2, 3]), new Tensor(new Float32Array(numLayers * 6), [numLayers, 2, 3])] as [Tensor, Tensor];
    const [out1, [h1, c1]] = lstm.forward(x);
    const kept = [Float32Array.from(h1.data), Float32Array.from(c1.data)];
    // A caller writing into the returned states changes neither the next call nor the zeros it starts from.
    h1.data.fill(7);
    c1.data.fill(7);
    const [out2, [h2, c2]] = lstm.forward(x);
    const [out3, [h3, c3]] = lstm.forward(x, zeros);
    assert.deepEqual(out2.data, out1.data, `${numLayers} layer(s): output`);
    assert.deepEqual(h2.data, kept[0], `${numLayers} layer(s): h_n`);
    assert.deepEqual(c2.data, kept[1], `${numLayers} layer(s): c_n`);
    assert.deepEqual([out3.data, h3.data, c3.data], [out2.data, h2.data, c2.data], `${numLayers} layer(s): explicit zeros`);
    // A batch of another size gets zeros of its own shape.
    const [, [h4]] = lstm.forward(randn([4, 5, 2], { generator: gen }));
    assert.deepEqual(h4.shape, [numLayers, 5, 3]);
  }
});

/** One-hot rows (the first one all zero when there are several), as a text model feeds characters:
 * the layer gathers columns. */
function oneHotInput(T: number, B: number, I: number, dtype: 'float32' | 'float64'): Tensor {
  const data = dtype === 'float64' ? new Float64Array(T * B * I) : new Float32Array(T * B * I);
  for (let row = T * B > 1 ? 1 : 0; row < T * B; row++) data[row * I + ((row * 7 + 2) % I)] = 1;
  return new Tensor(data, [T, B, I], { requiresGrad: true });
}

for (const kind of ['rnn_tanh', 'rnn_sigmoid', 'lstm', 'gru'] as const) {
  for (const [T, B] of [[4, 3], [1, 1]] as const) {
    test(`fused ${kind} with one-hot input [${T}, ${B}, 5] (gather path) matches the op-by-op reference`, () => {
      const I = 5, H = 4;
      const w = makeWeights({ kind }, I, H);
      const x = oneHotInput(T, B, I, 'float64');
      const h0 = r([B, H]), c0 = kind === 'lstm' ? r([B, H]) : null;
      const inputs = allInputs(x, h0, c0, w);
      const cot = randn([T, B, H], { dtype: 'float64', generator: gen });
      const run = (f: typeof recurrentDirection) => {
        for (const t of inputs) t.grad = null;
        const out = f(kind, x, h0, c0, w, T > 1);
        out.output.mul(cot).sum().backward();
        return { value: out.output.data, grads: inputs.map((t) => t.grad!.data) };
      };
      const fused = run(recurrentDirection);
      const ref = run(reference.runDirection);
      assert.ok(maxDiff(fused.value, ref.value) < 1e-12, `value: max diff ${maxDiff(fused.value, ref.value)}`);
      fused.grads.forEach((g, i) => assert.ok(maxDiff(g, ref.grads[i]!) < 1e-10, `gradient of input ${i}: max diff ${maxDiff(g, ref.grads[i]!)}`));
      // Columns of W_ih that no row selects get no gradient; the selected ones do.
      const dWih = fused.grads[inputs.indexOf(w.weightIh)]!;
      assert.ok(dWih.some((v) => v !== 0));
    });
  }
}

test('gathering one-hot columns with the biases gives the bits of a gather and two addRowVector passes', () => {
  const n = 19, width = 7;
  const random = (size: number, seed: number): Float32Array => Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898 + seed) * 3.7);
  const w = random(n * width, 1), bIh = random(n, 2), bHh = random(n, 3);
  // More rows than columns takes the transposed table; fewer reads W_ih in place. Row 1 is all zero.
  for (const rows of [12, 4]) {
    const ids = Int32Array.from({ length: rows }, (_, r) => (r === 1 ? -1 : (r * 5 + 3) % width));
    const scratch = rows > width ? new Float32Array(width * n) : null;
    for (const biases of [[bIh, bHh], [bIh, null], [null, bHh]]) {
      const expected = new Float32Array(rows * n);
      gatherColumns(ids, w, n, width, expected, scratch ? new Float32Array(width * n) : null);
      for (const b of biases) if (b) jsKernels.addRowVector(rows, n, expected, 0, b, 0);
      const fused = new Float32Array(rows * n);
      gatherColumns(ids, w, n, width, fused, scratch, biases);
      assert.deepEqual(fused, expected, `${rows} rows, biases ${biases.map((b) => (b ? 'yes' : 'no')).join('/')}`);
    }
  }
});

test('one-hot input in float32 on the default backend agrees with the float64 reference', () => {
  const T = 6, B = 4, I = 9, H = 8;
  const w64 = makeWeights({ kind: 'lstm' }, I, H);
  const to32 = (t: Tensor | null): Tensor | null => (t ? new Tensor(Float32Array.from(t.data), t.shape, { requiresGrad: true }) : null);
  const w32: DirectionWeights = {
    weightIh: to32(w64.weightIh)!, weightHh: to32(w64.weightHh)!, biasIh: to32(w64.biasIh), biasHh: to32(w64.biasHh), weightHr: null, peephole: null,
  };
  const h0 = new Tensor(new Float32Array(B * H), [B, H]), c0 = new Tensor(new Float32Array(B * H), [B, H]);
  const out32 = recurrentDirection('lstm', oneHotInput(T, B, I, 'float32'), h0, c0, w32, false);
  out32.output.sum().backward();
  const h064 = new Tensor(new Float64Array(B * H), [B, H]), c064 = new Tensor(new Float64Array(B * H), [B, H]);
  const out64 = reference.runDirection('lstm', oneHotInput(T, B, I, 'float64'), h064, c064, w64, false);
  out64.output.sum().backward();
  assert.ok(maxDiff(out32.output.data, out64.output.data) < 1e-5, `values: ${maxDiff(out32.output.data, out64.output.data)}`);
  assert.ok(maxDiff(w32.weightIh.grad!.data, w64.weightIh.grad!.data) < 1e-4, `dW_ih: ${maxDiff(w32.weightIh.grad!.data, w64.weightIh.grad!.data)}`);
});

for (const c of [...cases, { kind: 'gru' as const, oneHot: true }, { kind: 'lstm' as const, oneHot: true }]) {
  const oneHot = 'oneHot' in c;
  const label = `${c.kind}${'peephole' in c && c.peephole ? ' peephole' : ''}${'proj' in c && c.proj ? ' proj' : ''}${'bias' in c && c.bias === false ? ' no bias' : ''}${oneHot ? ' one-hot' : ''}`;
  test(`fused ${label}: retainGraph runs the recurrent node again with the same gradients; then it is freed`, () => {
    const T = 4, B = 2, I = 5, H = 3, P = ('proj' in c && c.proj) || H;
    const w = makeWeights(c, I, H);
    const x = oneHot ? oneHotInput(T, B, I, 'float64') : r([T, B, I], 1);
    const h0 = r([B, P]), c0 = c.kind === 'lstm' ? r([B, H]) : null;
    const inputs = allInputs(x, h0, c0, w);
    const out = recurrentDirection(c.kind, x, h0, c0, w, true);
    let loss = out.output.tanh().sum().add(out.h.mul(out.h).sum());
    if (out.c) loss = loss.add(out.c.sum());
    loss.backward(undefined, { retainGraph: true });
    const once = inputs.map((t) => Float64Array.from(t.grad!.data));
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    inputs.forEach((t, i) => assert.ok(maxDiff(t.grad!.data, once[i]!.map((v) => 3 * v)) < 1e-12, `input ${i}: three passes give three times the gradient`));
    assert.throws(() => loss.backward(), /trying to backward through the graph a second time/);
    assert.throws(() => out.output.sum().backward(), /second time/, 'another output of the same call reaches the freed node');
    inputs.forEach((t, i) => assert.ok(maxDiff(t.grad!.data, once[i]!.map((v) => 3 * v)) < 1e-12, `input ${i}: untouched by the refused passes`));
  });
}

test('fused node: weights or input changed in place between forward and backward make backward throw', () => {
  for (const changed of ['weightHh', 'x'] as const) {
    const w = makeWeights({ kind: 'lstm' }, 3, 2);
    const x = r([3, 1, 3], 1), h0 = r([1, 2]), c0 = r([1, 2]);
    const out = recurrentDirection('lstm', x, h0, c0, w, false);
    (changed === 'x' ? x : w[changed]).bumpVersion();
    assert.throws(() => out.output.sum().backward(), /^Error: backward: a tensor saved by LSTM for the backward pass was modified in place after it was used \(version 0, now 1\)/, changed);
    assert.equal(w.weightIh.grad, null, `${changed}: nothing ran`);
  }
});

test('a sigmoid RNN refuses export to PyTorch, naming the module; tanh and relu pass', async () => {
  const { checkPytorchExportable, Sequential, Linear } = await import('../src/nn/index.js');
  const model = new Sequential(new Linear(2, 3), new RNN({ inputSize: 3, hiddenSize: 2, nonlinearity: 'sigmoid' }));
  assert.throws(() => checkPytorchExportable(model, 'export --pytorch'), /export --pytorch: 1 is an RNN with nonlinearity 'sigmoid', our extension; PyTorch's offers only 'tanh' and 'relu'/);
  assert.throws(() => checkPytorchExportable(new RNNCell(2, 2, { nonlinearity: 'sigmoid' }), 'to PyTorch'), /the model is an RNNCell with nonlinearity 'sigmoid'/);
  for (const nonlinearity of ['tanh', 'relu'] as const) checkPytorchExportable(new RNN({ inputSize: 2, hiddenSize: 2, nonlinearity }), 'export');
});

// Where gradients live: a parameter's gradient stays in kernel memory for the parameter's life (the
// optimizer reads it in place), a recurrent layer lends its weight gradients from its workspace only
// as long as autograd needs them, and the arrays of a backward pass never leak into what callers keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim, tensor, randn, Generator, noGrad, Tensor } from './helpers/api.js';
import { recurrentDirection, type DirectionWeights } from '../src/nn/index.js';
import { backends, onBackend } from './helpers/backends.js';
import { kernelsFor } from '../src/kernels/index.js';


const isPlainArray = (t: Tensor): boolean => ArrayBuffer.isView(t.rawStorage);

function lstmLoss(lstm: InstanceType<typeof nn.LSTM>, x: Tensor): Tensor {
  const [out] = lstm.forward(x);
  return out.mul(out).sum();
}

for (const backend of backends) {
  test(`${backend}: a parameter's gradient keeps one buffer in kernel memory across zeroGrad()`, onBackend(backend, () => {
    const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, generator: new Generator(1) });
    const x = randn([5, 2, 3], { generator: new Generator(2) });
    const opt = new optim.SGD([...lstm.parameters()], { lr: 0.1 });
    lossAndGrads();
    const first = new Map([...lstm.namedParameters()].map(([name, p]) => [name, p.grad!]));
    for (const [name, g] of first) assert.ok(!isPlainArray(g), `${name}.grad should live in kernel memory`);
    const firstValues = new Map([...first].map(([name, g]) => [name, g.data.slice()]));

    // The same inputs and weights again: the same buffers, holding the same values (not doubled).
    opt.zeroGrad();
    for (const [, p] of lstm.namedParameters()) assert.equal(p.grad, null, 'zeroGrad sets gradients to null');
    lossAndGrads();
    for (const [name, p] of lstm.namedParameters()) {
      assert.equal(p.grad!.rawStorage, first.get(name)!.rawStorage, `${name}.grad reuses its buffer`);
      assert.deepEqual([...p.grad!.data], [...firstValues.get(name)!], `${name}.grad is recomputed, not accumulated`);
    }

    // Without zeroGrad, a second backward adds into the same buffer.
    lossAndGrads();
    for (const [name, p] of lstm.namedParameters()) {
      const want = firstValues.get(name)!;
      p.grad!.data.forEach((v, i) => assert.ok(Math.abs(v - 2 * want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `${name}[${i}] accumulates`));
    }

    function lossAndGrads(): void {
      lstmLoss(lstm, x).backward();
    }
  }));

  test(`${backend}: the same layer called twice in one graph gets both calls' gradients`, onBackend(backend, () => {
    const gen = new Generator(3);
    const gru = new nn.GRU({ inputSize: 2, hiddenSize: 3, generator: gen });
    const a = randn([4, 1, 2], { generator: gen });
    const b = randn([4, 1, 2], { generator: gen });
    const gradsOf = (inputs: Tensor[]): Map<string, number[]> => {
      gru.zeroGrad();
      let loss: Tensor | null = null;
      for (const x of inputs) {
        const [out] = gru.forward(x);
        const term = out.mul(out).sum();
        loss = loss ? loss.add(term) : term;
      }
      loss!.backward();
      return new Map([...gru.namedParameters()].map(([name, p]) => [name, [...p.grad!.data]]));
    };
    const alone = [gradsOf([a]), gradsOf([b])];
    const together = gradsOf([a, b]);
    for (const [name, g] of together) {
      g.forEach((v, i) => {
        const want = alone[0]!.get(name)![i]! + alone[1]!.get(name)![i]!;
        assert.ok(Math.abs(v - want) <= 1e-5 * (1 + Math.abs(want)), `${name}[${i}]: ${v} vs ${want}`);
      });
    }
  }));
}

for (const backend of backends) {
  test(`${backend}: backward passes over a retained graph reuse their workspace; weights stepped before backward are refused`, onBackend(backend, () => {
    const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, generator: new Generator(7) });
    const x = randn([6, 2, 3], { generator: new Generator(8) });
    const loss = lstmLoss(lstm, x);
    loss.backward(undefined, { retainGraph: true });
    const once = [...lstm.parameters()].map((p) => Float32Array.from(p.grad!.data));
    const heap = (kernelsFor('float32') as { heap?: { used: number } }).heap;
    const passes = 20;
    let usedAfterFirst = 0;
    for (let k = 1; k < passes; k++) {
      loss.backward(undefined, { retainGraph: true });
      if (k === 1) usedAfterFirst = heap?.used ?? 0;
    }
    // Each pass's buffers go back to the pool: the 20th pass allocates no more than the 2nd did.
    if (heap) assert.equal(heap.used, usedAfterFirst, 'kernel memory high-water mark after 20 retained passes');
    [...lstm.parameters()].forEach((p, i) => p.grad!.data.forEach((v, j) => {
      const want = passes * once[i]![j]!;
      assert.ok(Math.abs(v - want) <= 1e-4 * (1 + Math.abs(want)), `parameter ${i}[${j}]: ${v} vs ${want}`);
    }));

    // The classic mistake: an optimizer step between forward and backward.
    const opt = new optim.SGD([...lstm.parameters()], { lr: 0.1 });
    const next = lstmLoss(lstm, x);
    opt.step();
    opt.zeroGrad();
    assert.throws(() => next.backward(), /a tensor saved by LSTM for the backward pass was modified in place after it was used \(version 1, now 2\)/);
    for (const p of lstm.parameters()) assert.equal(p.grad, null, 'the refused pass wrote no gradient');
  }));
}

test('weights that are not leaves get their own copy of the workspace gradient', () => {
  // Weights computed from leaves (a scaled weight, as weight normalisation would make): their gradient
  // waits in autograd for the multiplication's backward, after the workspace has been reused.
  const gen = new Generator(4);
  const H = 3, I = 2;
  const leaves = {
    weightIh: randn([H, I], { generator: gen, requiresGrad: true }),
    weightHh: randn([H, H], { generator: gen, requiresGrad: true }),
  };
  const x1 = randn([5, 1, I], { generator: gen });
  const x2 = randn([5, 1, I], { generator: gen });
  const h0 = tensor(new Float32Array(H), [1, H]);
  const run = (scale: number, xs: Tensor[]): number[] => {
    leaves.weightIh.grad = null;
    leaves.weightHh.grad = null;
    const w: DirectionWeights = {
      weightIh: leaves.weightIh.mul(scale), weightHh: leaves.weightHh.mul(scale),
      biasIh: null, biasHh: null, weightHr: null, peephole: null,
    };
    let loss: Tensor | null = null;
    for (const x of xs) {
      const { output } = recurrentDirection('rnn_tanh', x, h0, null, w, false);
      const term = output.sum();
      loss = loss ? loss.add(term) : term;
    }
    loss!.backward();
    return [...leaves.weightIh.grad!.data, ...leaves.weightHh.grad!.data];
  };
  const both = run(0.5, [x1, x2]);
  const one = run(0.5, [x1]);
  const two = run(0.5, [x2]);
  both.forEach((v, i) => assert.ok(Math.abs(v - (one[i]! + two[i]!)) <= 1e-5, `gradient ${i}: ${v} vs ${one[i]! + two[i]!}`));
});

test('a backward pass hands callers arrays of their own, never a window of a shared slab', () => {
  const x = randn([6, 2], { generator: new Generator(5), requiresGrad: true });
  const w = randn([2, 40], { generator: new Generator(6), requiresGrad: true });
  const y = x.matmul(w).tanh().sum();
  y.backward();
  for (const t of [x.grad!, w.grad!]) {
    const data = t.data;
    assert.equal(data.byteOffset, 0);
    assert.equal(data.buffer.byteLength, data.byteLength, 'a plain leaf gradient owns its whole buffer');
  }
  // Outside backward, results own their buffers too (a kept tensor must not pin other memory).
  const z = noGrad(() => x.matmul(w));
  assert.equal(z.data.buffer.byteLength, z.data.byteLength);
});

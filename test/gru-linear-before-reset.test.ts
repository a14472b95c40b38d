// GRU with linearBeforeReset: false (ONNX's linear_before_reset = 0, Keras' reset_after = False): its
// formula by hand, its gradients by finite differences, its fused forward, and what it does not offer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../src/ops/index.js';
import { Generator, gradcheck, nn, noGrad, randn, zeros, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { kernelCalls } from './helpers/kernel-calls.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

test('GRU linearBeforeReset: false computes n = tanh(W_in x + b_in + W_hn (r h) + b_hn), checked by hand', () => {
  const g = new Generator(4);
  const gru = new nn.GRU({ inputSize: 2, hiddenSize: 3, linearBeforeReset: false, generator: g, dtype: 'float64' });
  const x = randn([2, 1, 2], { generator: g, dtype: 'float64' }), h0 = randn([1, 1, 3], { generator: g, dtype: 'float64' });
  const [out, hn] = noGrad(() => gru.forward(x, h0));
  const p = gru.stateDict();
  const W = p.weight_ih_l0!.data, R = p.weight_hh_l0!.data, bi = p.bias_ih_l0!.data, bh = p.bias_hh_l0!.data;
  let h = Array.from(h0.data);
  for (let t = 0; t < 2; t++) {
    const xt = [x.data[t * 2]!, x.data[t * 2 + 1]!];
    const row = (M: ArrayLike<number>, k: number, v: number[]) => v.reduce((s, vi, j) => s + M[k * v.length + j]! * vi, 0);
    const r = [0, 1, 2].map((j) => sigmoid(row(W, j, xt) + bi[j]! + row(R, j, h) + bh[j]!));
    const z = [0, 1, 2].map((j) => sigmoid(row(W, 3 + j, xt) + bi[3 + j]! + row(R, 3 + j, h) + bh[3 + j]!));
    const rh = h.map((v, j) => r[j]! * v);
    const n = [0, 1, 2].map((j) => Math.tanh(row(W, 6 + j, xt) + bi[6 + j]! + row(R, 6 + j, rh) + bh[6 + j]!));
    h = [0, 1, 2].map((j) => (1 - z[j]!) * n[j]! + z[j]! * h[j]!);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(out.data[t * 3 + j]! - h[j]!) < 1e-12, `step ${t} unit ${j}`);
  }
  assert.deepEqual(Array.from(hn.data), Array.from(out.data.subarray(3)));
  // The two formulas differ: the option is not ignored.
  const pytorch = new nn.GRU({ inputSize: 2, hiddenSize: 3, dtype: 'float64' });
  pytorch.loadStateDict(p);
  const [other] = noGrad(() => pytorch.forward(x, h0));
  assert.ok(Math.abs(other.data[5]! - out.data[5]!) > 1e-6);
});

test('GRU linearBeforeReset: false passes gradcheck (inputs, state and every weight; 2 layers, bidirectional)', () => {
  const g = new Generator(8);
  const gru = new nn.GRU({ inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true, linearBeforeReset: false, generator: g, dtype: 'float64' });
  const x = randn([3, 2, 2], { generator: g, dtype: 'float64', requiresGrad: true });
  const h0 = randn([4, 2, 2], { generator: g, dtype: 'float64', requiresGrad: true });
  assert.equal(gradcheck((xi, hi) => {
    const [out, hn] = gru.forward(xi!, hi!);
    return out.sum().add(hn.mul(hn).sum());
  }, [x, h0, ...gru.parameters()]), true);
});

test('GRU linearBeforeReset: only booleans; no stepper (its kernels compute PyTorch\'s formula)', () => {
  assert.throws(() => new nn.GRU({ inputSize: 2, hiddenSize: 2, linearBeforeReset: 0 as unknown as boolean }), /GRU: linearBeforeReset must be true or false, got 0/);
  const gru = new nn.GRU({ inputSize: 2, hiddenSize: 2, linearBeforeReset: false });
  assert.throws(() => gru.stepper(), /GRU: stepper\(\) needs linearBeforeReset: true/);
  assert.equal(new nn.GRU({ inputSize: 2, hiddenSize: 2 }).linearBeforeReset, true);
});

const { PackedSequence, packPaddedSequence } = nn.utils.rnn;

test('GRU linearBeforeReset: false runs on the fused kernels without gradients (dense and packed, float32 and float64) and agrees with the recorded reference', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const g = new Generator(15);
    const gru = new nn.GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, linearBeforeReset: false, generator: g, dtype });
    const x = randn([6, 3, 3], { generator: g, dtype }), h0 = randn([4, 3, 5], { generator: g, dtype });
    const tol = dtype === 'float64' ? 1e-12 : 1e-5;
    for (const lengths of [null, [6, 2, 4]]) {
      const input = () => (lengths ? packPaddedSequence(x, lengths, { enforceSorted: false }) : x);
      const flat = (out: unknown): Tensor => (out instanceof PackedSequence ? out.data as Tensor : out as Tensor);
      let fused: [unknown, Tensor] = [null, h0];
      const calls = kernelCalls(dtype, 'gruResetBeforeGates', () => (fused = noGrad(() => gru.forward(input() as Tensor, h0))));
      // 2 layers x 2 directions x the longest sequence's 6 steps.
      assert.equal(calls, 24, `${dtype} lengths ${String(lengths)}: fused steps`);
      // With gradients recorded: the op-by-op reference, no fused step.
      let recorded: [unknown, Tensor] = [null, h0];
      assert.equal(kernelCalls(dtype, 'gruResetBeforeGates', () => (recorded = gru.forward(input() as Tensor, h0))), 0);
      assertClose(flat(fused[0]), flat(recorded[0]).detach(), tol, 0, `${dtype} lengths ${String(lengths)} output`);
      assertClose(fused[1], recorded[1].detach(), tol, 0, `${dtype} lengths ${String(lengths)} h`);
    }
  }
});

test('GRU linearBeforeReset: false, one step at a time without gradients (generation) equals the whole sequence', () => {
  const g = new Generator(16);
  const gru = new nn.GRU({ inputSize: 3, hiddenSize: 6, linearBeforeReset: false, generator: g });
  const x = randn([4, 2, 3], { generator: g });
  const [whole, hWhole] = noGrad(() => gru.forward(x));
  let h = zeros([1, 2, 6]);
  const steps: Tensor[] = [];
  const calls = kernelCalls('float32', 'gruResetBeforeGates', () => {
    for (let t = 0; t < 4; t++) {
      const [out, next] = noGrad(() => gru.forward(x.narrow(0, t, 1), h));
      steps.push(out);
      h = next;
    }
  });
  assert.equal(calls, 4, 'each one-step call runs on the fused kernels');
  steps.forEach((out, t) => assertClose(out, whole.narrow(0, t, 1), 1e-6, 0, `step ${t}`));
  assertClose(h, hWhole, 1e-6, 0, 'final state');
});

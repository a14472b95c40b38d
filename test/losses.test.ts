// New losses against PyTorch 1.13 (test/fixtures/losses.safetensors from tools/make_fixtures.py
// losses): value and input gradient of every case, in float64; the modules and gradchecks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, readSafetensorsMetadata } from '../src/io/index.js';
import { Generator, gradcheck, nn, randn, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';

const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL('./fixtures/losses.safetensors', import.meta.url))));
const f = loadSafetensors(bytes);
const cases = JSON.parse(readSafetensorsMetadata(bytes).cases!) as { name: string; loss: string; options: Record<string, unknown>; input: string; target: string; targetGrad?: boolean }[];

const functions: Record<string, (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor> = {
  mseLoss: (a, b, o) => nn.mseLoss(a, b, o.reduction as nn.Reduction | undefined),
  l1Loss: (a, b, o) => nn.l1Loss(a, b, o.reduction as nn.Reduction | undefined),
  huberLoss: (a, b, o) => nn.huberLoss(a, b, o),
  klDiv: (a, b, o) => nn.klDiv(a, b, o),
  crossEntropy: (a, b, o) => nn.crossEntropy(a, b, o),
  nllLoss: (a, b, o) => nn.nllLoss(a, b, o),
  bceWithLogits: (a, b, o) => nn.bceWithLogits(a, b, o),
  binaryCrossEntropy: (a, b, o) => nn.binaryCrossEntropy(a, b, o),
};

test('losses match PyTorch 1.13: value and gradient, with weight, posWeight, ignoreIndex and labelSmoothing', () => {
  assert.ok(cases.length >= 36, `${cases.length} cases`);
  const binary = cases.filter((c) => c.loss === 'bceWithLogits' || c.loss === 'binaryCrossEntropy');
  assert.ok(binary.filter((c) => c.targetGrad).length >= 13, 'binary cases with target gradients');
  for (const c of cases) {
    const options = { ...c.options };
    // Tensor-valued options (weight, posWeight) are stored as fixture keys.
    for (const key of ['weight', 'posWeight']) if (typeof options[key] === 'string') options[key] = f[options[key] as string]!;
    const input = f[c.input]!.clone();
    input.requiresGrad = true;
    const target = f[c.target]!.clone();
    target.requiresGrad = c.targetGrad === true;
    const value = functions[c.loss]!(input, target, options);
    const expected = f[`case.${c.name}.value`]!;
    assertClose(value.reshape([-1]), expected, 1e-12, 1e-10, `${c.name} value`);
    // PyTorch reduced a non-scalar result with weights 1..n (see make_loss_cases).
    const g = value.size === 1 && value.shape.length === 0 ? undefined : tensor(Float64Array.from({ length: value.size }, (_, i) => i + 1), value.shape);
    value.backward(g);
    assertClose(input.grad!, f[`case.${c.name}.grad`]!, 1e-12, 1e-10, `${c.name} gradient`);
    if (c.targetGrad) assertClose(target.grad!, f[`case.${c.name}.target_grad`]!, 1e-12, 1e-10, `${c.name} target gradient`);
  }
});

test('bceWithLogits stays finite at logits of ±100 in float32, where the naive formula overflows', () => {
  const x = tensor([100, -100, 88.8, -88.8], [4], { requiresGrad: true });
  const y = tensor([0, 1, 0, 1], [4]);
  // y·log(1 + e^−x) + (1 − y)·log(1 + e^x): e^100 is beyond float32's range.
  const naive = y.mul(x.neg().exp().add(1).log()).add(y.neg().add(1).mul(x.exp().add(1).log())).mean();
  assert.ok(!Number.isFinite(naive.item()), `the naive form overflows (${naive.item()})`);
  const loss = nn.bceWithLogits(x, y, { posWeight: tensor([2]) });
  assertClose(loss.reshape([1]), tensor([(100 + 200 + 88.8 + 2 * 88.8) / 4]), 1e-5, 1e-6, "loss");
  loss.backward();
  assertClose(x.grad!, tensor([0.25, -0.5, 0.25, -0.5]), 1e-6, 1e-7, 'gradient: sigmoid saturates, nothing is NaN');
});

test('bceWithLogits and binaryCrossEntropy: shape and option errors name the argument and both shapes', () => {
  const x = tensor(new Float64Array(6), [2, 3]), y = tensor(new Float64Array(6), [2, 3]);
  assert.throws(() => nn.bceWithLogits(x, y, { posWeight: tensor([1, 2]) }), /bceWithLogits: posWeight \[2\] does not broadcast to the input's shape \[2, 3\]/);
  assert.throws(() => nn.bceWithLogits(x, y, { weight: tensor(new Float64Array(24), [4, 2, 3]) }), /bceWithLogits: weight \[4, 2, 3\] does not broadcast to the input's shape \[2, 3\]/);
  assert.throws(() => nn.bceWithLogits(x, tensor(new Float64Array(3), [3])), /bceWithLogits: target must have the input's shape \[2, 3\], got \[3\]/);
  assert.throws(() => nn.bceWithLogits(x, y, { weight: [1, 2, 3] as never }), /bceWithLogits: weight must be a Tensor that broadcasts to the input's shape \[2, 3\], got a plain array/);
  assert.throws(() => nn.bceWithLogits(x, y, { pos_weight: tensor([1]) } as object), /bceWithLogits: unknown option 'pos_weight'; did you mean 'posWeight'\?/);
  assert.throws(() => nn.bceWithLogits(x, y, { reduction: 'avg' as never }), /bceWithLogits: reduction must be one of 'mean', 'sum', 'none', got "avg"/);
  assert.throws(() => nn.bceWithLogits(x, y, { weight: tensor([1, 2, 3], [3], { requiresGrad: true }) }), /bceWithLogits: weight cannot require gradients/);
  assert.throws(() => nn.binaryCrossEntropy(tensor([0.5, 1.5]), tensor([1, 0])), /binaryCrossEntropy: input must hold probabilities in \[0, 1\], got 1\.5 at position 1/);
  assert.throws(() => nn.binaryCrossEntropy(tensor([0.5, NaN]), tensor([1, 0])), /got NaN at position 1/);
  assert.throws(() => nn.binaryCrossEntropy(x, y, { weight: tensor([1, 2]) }), /binaryCrossEntropy: weight \[2\] does not broadcast to the input's shape \[2, 3\]/);
  assert.throws(() => new nn.BCELoss({ posWeight: tensor([1]) } as object), /BCELoss: unknown option 'posWeight'/);
});

test('bceWithLogits at a logit of exactly 0 has gradient sigmoid(0) - y, not a subgradient of |x|', () => {
  const x = tensor(new Float64Array([0, 0]), [2], { requiresGrad: true });
  nn.bceWithLogits(x, tensor(new Float64Array([1, 0])), 'sum').backward();
  assert.deepEqual([...x.grad!.data], [-0.5, 0.5]);
});

const f64 = (shape: number[], seed: number): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed), requiresGrad: true });

test('new losses pass float64 gradchecks (both inputs where both are differentiable)', () => {
  gradcheck((x, y) => nn.l1Loss(x!, y!), [f64([3, 2], 1), f64([3, 2], 2)]);
  gradcheck((x, y) => nn.huberLoss(x!, y!, { delta: 0.7 }), [f64([4, 2], 3), f64([4, 2], 4)]);
  const target = tensor(new Float64Array([0.2, 0.3, 0.5, 0, 0.6, 0.4]), [2, 3]);
  gradcheck((x) => nn.klDiv(x!.logSoftmax(1), target, { reduction: 'batchmean' }), [f64([2, 3], 5)]);
  const weight = tensor(new Float64Array([1, 0.5, 2]));
  gradcheck((x) => nn.crossEntropy(x!, [2, 0, 1, 1], { weight, labelSmoothing: 0.15, ignoreIndex: 0 }), [f64([4, 3], 6)]);
  gradcheck((x) => nn.nllLoss(x!.logSoftmax(1), [2, 0], { weight }), [f64([2, 3], 7)]);
  const rows = tensor(new Float64Array([0.5, 2]), [2, 1]), classes = tensor(new Float64Array([3, 0.25, 1]));
  gradcheck((x, y) => nn.bceWithLogits(x!, y!.sigmoid(), { weight: rows, posWeight: classes }), [f64([2, 3], 8), f64([2, 3], 9)]);
  gradcheck((x, y) => nn.binaryCrossEntropy(x!.sigmoid(), y!.sigmoid(), { weight: classes, reduction: 'sum' }), [f64([2, 3], 10), f64([2, 3], 11)]);
});

test('loss modules hold their options; activation modules wrap the ops; functional names exist', () => {
  const x = randn([4, 3], { generator: new Generator(1) }), y = randn([4, 3], { generator: new Generator(2) });
  assert.equal(new nn.MSELoss().forward(x, y).item(), nn.mseLoss(x, y).item());
  assert.equal(new nn.L1Loss({ reduction: 'sum' }).forward(x, y).item(), nn.l1Loss(x, y, 'sum').item());
  assert.equal(new nn.HuberLoss({ delta: 0.5 }).forward(x, y).item(), nn.huberLoss(x, y, { delta: 0.5 }).item());
  const probabilities = y.sigmoid();
  assert.equal(new nn.BCEWithLogitsLoss().forward(x, probabilities).item(), nn.bceWithLogits(x, probabilities).item());
  assert.equal(new nn.BCEWithLogitsLoss({ reduction: 'sum' }).forward(x, probabilities).item(), nn.bceWithLogits(x, probabilities, 'sum').item());
  const weight3 = tensor([1, 0.5, 2]), posWeight = tensor([3, 1, 0.25]);
  const bce = new nn.BCEWithLogitsLoss({ weight: weight3, posWeight, reduction: 'sum' });
  assert.equal(bce.forward(x, probabilities).item(), nn.bceWithLogits(x, probabilities, { weight: weight3, posWeight, reduction: 'sum' }).item());
  assert.deepEqual(Object.keys(bce.stateDict()), ['weight', 'pos_weight'], 'as PyTorch names the buffers');
  assert.throws(() => new nn.BCEWithLogitsLoss({ pos_weight: tensor([2]) } as object), /BCEWithLogitsLoss: unknown option 'pos_weight'; did you mean 'posWeight'\?/);
  assert.equal(new nn.BCELoss({ weight: weight3 }).forward(x.sigmoid(), probabilities).item(), nn.binaryCrossEntropy(x.sigmoid(), probabilities, { weight: weight3 }).item());
  const logp = x.logSoftmax(1), p = y.softmax(1);
  assert.equal(new nn.KLDivLoss({ reduction: 'batchmean' }).forward(logp, p).item(), nn.klDiv(logp, p, { reduction: 'batchmean' }).item());
  const weight = tensor([1, 2, 3]);
  const ce = new nn.CrossEntropyLoss({ weight, labelSmoothing: 0.1 });
  assert.equal(ce.forward(x, [0, 1, 2, 1]).item(), nn.crossEntropy(x, [0, 1, 2, 1], { weight, labelSmoothing: 0.1 }).item());
  assert.deepEqual(Object.keys(ce.stateDict()), ['weight'], 'the class weight is a buffer, as in PyTorch');
  assert.equal(new nn.NLLLoss({ ignoreIndex: 1 }).forward(logp, [0, 1, 2, 1]).item(), nn.nllLoss(logp, [0, 1, 2, 1], { ignoreIndex: 1 }).item());
  assert.throws(() => new nn.CrossEntropyLoss({ label_smoothing: 0.1 } as object), /CrossEntropyLoss: unknown option 'label_smoothing'; did you mean 'labelSmoothing'\?/);
  assert.throws(() => nn.crossEntropy(x, [0, 1, 2, 1], { labelSmoothing: 2 }), /labelSmoothing must be a number in \[0, 1\], got 2/);
  assert.throws(() => nn.crossEntropy(x, [0, 1, 2, 1], { weight: tensor([1, 2]) }), /crossEntropy: weight must be a Tensor \[3\] \(one per class\), got \[2\]/);

  assert.deepEqual([...new nn.Tanh().forward(x).data], [...x.tanh().data]);
  assert.deepEqual([...new nn.Sigmoid().forward(x).data], [...x.sigmoid().data]);
  assert.deepEqual([...new nn.ReLU().forward(x).data], [...x.relu().data]);
  assert.deepEqual([...new nn.Softmax({ dim: 0 }).forward(x).data], [...x.softmax(0).data]);
  assert.deepEqual([...new nn.LogSoftmax({ dim: 1 }).forward(x).data], [...x.logSoftmax(1).data]);
  const seq = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2), new nn.LogSoftmax({ dim: 1 }));
  assert.deepEqual(seq.forward(x).shape, [4, 2]);
  assert.throws(() => new nn.Tanh().forward([1, 2] as never), /Tanh: input must be a Tensor of any shape, got a plain array/);
  assert.deepEqual([...nn.functional.relu(x).data], [...x.relu().data]);
  assert.equal(typeof nn.functional.crossEntropy, 'function');
});

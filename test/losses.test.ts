// New losses against PyTorch 1.13 (test/fixtures/losses.safetensors from tools/make_fixtures.py
// losses): value and input gradient of every case, in float64; the modules and gradchecks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensorsMetadata } from '../src/io/index.js';
import { Generator, gradcheck, nn, randn, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { loadFixtureTensors } from './helpers/fixtures.js';

const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL('./fixtures/losses.safetensors', import.meta.url))));
const f = loadFixtureTensors(bytes);
const cases = JSON.parse(readSafetensorsMetadata(bytes).cases!) as { name: string; loss: string; options: Record<string, unknown>; input: string; target: string }[];

const functions: Record<string, (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor> = {
  mseLoss: (a, b, o) => nn.mseLoss(a, b, o.reduction as nn.Reduction | undefined),
  l1Loss: (a, b, o) => nn.l1Loss(a, b, o.reduction as nn.Reduction | undefined),
  huberLoss: (a, b, o) => nn.huberLoss(a, b, o),
  klDiv: (a, b, o) => nn.klDiv(a, b, o),
  crossEntropy: (a, b, o) => nn.crossEntropy(a, b, o),
  nllLoss: (a, b, o) => nn.nllLoss(a, b, o),
  bceWithLogits: (a, b, o) => nn.bceWithLogits(a, b, o.reduction as nn.Reduction | undefined),
};

test('losses match PyTorch 1.13: value and gradient, with weight, ignoreIndex and labelSmoothing', () => {
  assert.ok(cases.length >= 20, `${cases.length} cases`);
  for (const c of cases) {
    const options = { ...c.options };
    if (typeof options.weight === 'string') options.weight = f[options.weight]!;
    const input = f[c.input]!.clone();
    input.requiresGrad = true;
    const value = functions[c.loss]!(input, f[c.target]!, options);
    const expected = f[`case.${c.name}.value`]!;
    assertClose(value.reshape([-1]), expected, 1e-12, 1e-10, `${c.name} value`);
    // PyTorch reduced a non-scalar result with weights 1..n (see make_loss_cases).
    const g = value.size === 1 && value.shape.length === 0 ? undefined : tensor(Float64Array.from({ length: value.size }, (_, i) => i + 1), value.shape);
    value.backward(g);
    assertClose(input.grad!, f[`case.${c.name}.grad`]!, 1e-12, 1e-10, `${c.name} gradient`);
  }
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
});

test('loss modules hold their options; activation modules wrap the ops; functional names exist', () => {
  const x = randn([4, 3], { generator: new Generator(1) }), y = randn([4, 3], { generator: new Generator(2) });
  assert.equal(new nn.MSELoss().forward(x, y).item(), nn.mseLoss(x, y).item());
  assert.equal(new nn.L1Loss({ reduction: 'sum' }).forward(x, y).item(), nn.l1Loss(x, y, 'sum').item());
  assert.equal(new nn.HuberLoss({ delta: 0.5 }).forward(x, y).item(), nn.huberLoss(x, y, { delta: 0.5 }).item());
  const probabilities = y.sigmoid();
  assert.equal(new nn.BCEWithLogitsLoss().forward(x, probabilities).item(), nn.bceWithLogits(x, probabilities).item());
  assert.equal(new nn.BCEWithLogitsLoss({ reduction: 'sum' }).forward(x, probabilities).item(), nn.bceWithLogits(x, probabilities, 'sum').item());
  assert.throws(() => new nn.BCEWithLogitsLoss({ posWeight: tensor([2]) } as object), /BCEWithLogitsLoss: unknown option 'posWeight'/);
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

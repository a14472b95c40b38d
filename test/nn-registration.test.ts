import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, nn, optim, randn, tensor, type Tensor } from './helpers/api.js';

class Net extends nn.Module {
  encoder: nn.Embedding;
  rnn: nn.LSTM;
  decoder: nn.Linear;
  constructor(tie: boolean) {
    super();
    const generator = new Generator(3);
    this.encoder = new nn.Embedding(7, 4, { generator });
    this.rnn = new nn.LSTM({ inputSize: 4, hiddenSize: 4, generator });
    this.decoder = new nn.Linear(4, 7, { generator });
    if (tie) this.decoder.weight = this.encoder.weight;
  }

  forward(ids: Tensor): Tensor {
    const [out] = this.rnn.forward(this.encoder.forward(ids));
    return this.decoder.forward(out);
  }
}

test('modules and parameters assigned to properties register, in declaration order', () => {
  const net = new Net(false);
  assert.deepEqual([...net.namedParameters()].map(([n]) => n), [
    'encoder.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'decoder.weight', 'decoder.bias',
  ]);
  assert.deepEqual(Object.keys(net.stateDict()), [...net.namedParameters()].map(([n]) => n));
  assert.deepEqual(net.children(), [net.encoder, net.rnn, net.decoder]);
  net.eval();
  assert.equal(net.rnn.training, false);
  net.train();
  assert.equal(net.decoder.training, true);

  class WithTensors extends nn.Module {
    scale = tensor([2], undefined, { requiresGrad: true });
    notAParameter = tensor([1]);
    constructor() {
      super();
      this.registerBuffer('runningMean', tensor([0, 0]));
    }
  }
  const m = new WithTensors();
  assert.deepEqual([...m.namedParameters()].map(([n]) => n), ['scale']);
  assert.deepEqual(Object.keys(m.stateDict()), ['scale', 'runningMean']);
  m.scale.requiresGrad = false;
  assert.deepEqual([...m.namedParameters()].map(([n]) => n), ['scale'], 'a frozen parameter stays a parameter');
  assert.throws(() => m.registerModule('scale', new nn.Linear(1, 1)), /WithTensors: 'scale' is already registered/);
});

test('a registered module is disposed, zeroed and trained with its parent, and the optimizer sees it', () => {
  const net = new Net(false);
  const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
  const before = net.decoder.weight.clone();
  nn.crossEntropy(net.forward(tensor([[1, 2], [3, 4]])).reshape([-1, 7]), [0, 1, 2, 3]).backward();
  assert.ok(net.parameters().every((p) => p.grad !== null));
  opt.step();
  assert.ok(net.decoder.weight.data.some((v, i) => v !== before.data[i]), 'the decoder was trained');
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  net.dispose();
  assert.ok(net.rnn.disposed && net.decoder.disposed && net.encoder.disposed);
});

test('weight tying: one parameter, both state-dict keys, trained once per step, tied after loading', () => {
  const net = new Net(true);
  const params = net.parameters();
  assert.equal(params.length, 6, 'the tied weight is listed once');
  assert.equal(params.filter((p) => p === net.encoder.weight).length, 1);
  const dict = net.stateDict();
  assert.equal(dict['encoder.weight'], dict['decoder.weight'], 'both keys name the one tensor');

  const opt = new optim.SGD(net.parameters(), { lr: 0.5 });
  const ids = tensor([[1, 2], [3, 4]]);
  nn.crossEntropy(net.forward(ids).reshape([-1, 7]), [0, 1, 2, 3]).backward();
  const grad = net.encoder.weight.grad!.clone();
  const before = net.encoder.weight.clone();
  opt.step();
  // One SGD step with the summed gradient of both uses (the embedding rows and the decoder).
  net.encoder.weight.data.forEach((v, i) => assert.ok(Math.abs(v - (before.data[i]! - 0.5 * grad.data[i]!)) < 1e-6));
  assert.ok(grad.data.some((v, i) => i >= 20 && v !== 0), 'the decoder use contributes to rows the embedding never looked up');

  const other = new Net(true);
  other.loadStateDict(net.stateDict());
  assert.equal(other.decoder.weight, other.encoder.weight, 'still tied after loading');
  assert.deepEqual([...other.decoder.weight.data], [...net.encoder.weight.data]);
  noGrad(() => other.encoder.weight.data.fill(0.25));
  assert.equal(other.decoder.weight.data[3], 0.25);
});

test('explicit registration still works; recurrent parameters refuse replacement with a clear error', () => {
  class Explicit extends nn.Module {
    head = this.registerModule('head', new nn.Linear(2, 1));
    gain = this.registerParameter('gain', tensor([1]));
  }
  const e = new Explicit();
  // PyTorch's order: a module's own parameters, then its children's.
  assert.deepEqual(Object.keys(e.stateDict()), ['gain', 'head.weight', 'head.bias']);
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3 });
  assert.equal((lstm as unknown as Record<string, Tensor>).weight_ih_l0, lstm.parameters()[0], 'PyTorch exposes lstm.weight_ih_l0');
  assert.throws(() => { (lstm as unknown as Record<string, Tensor>).weight_ih_l0 = randn([12, 2]); }, /LSTM: parameter 'weight_ih_l0' cannot be replaced/);
  assert.throws(() => e.registerModule('x', {} as nn.Module), /registerModule: 'x' must be a Module, got a Object/);
});

test('module.apply visits children first, then the module; Parameter marks a tensor', () => {
  const net = new Net(false);
  const seen: string[] = [];
  net.apply((m) => seen.push(m.constructor.name));
  assert.deepEqual(seen, ['Embedding', 'LSTM', 'Linear', 'Net']);
  net.apply((m) => { if (m instanceof nn.Linear) noGrad(() => m.bias!.data.fill(0)); });
  assert.ok(net.decoder.bias!.data.every((v) => v === 0));
  const p = nn.Parameter(tensor([1, 2]));
  assert.equal(p.requiresGrad, true);
  assert.throws(() => nn.Parameter(tensor([1], undefined, { requiresGrad: true }).mul(2)), /Parameter: expected a leaf tensor/);
});

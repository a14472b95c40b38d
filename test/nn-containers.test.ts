import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, nn, optim, randn, type Tensor } from './helpers/api.js';

const generator = new Generator(5);

/** The same program as in PyTorch 1.13, whose state_dict keys the assertions below quote. */
class Net extends nn.Module {
  layers: nn.ModuleList;
  heads: nn.ModuleDict<nn.Linear>;
  constructor() {
    super();
    this.layers = new nn.ModuleList([new nn.Linear(2, 3, { generator }), new nn.Linear(3, 1, { generator })]);
    this.layers.insert(1, new nn.Tanh());
    this.layers.insert(0, new nn.Linear(2, 2, { bias: false, generator }));
    // Pairs, not an object literal: JavaScript enumerates an object's integer-like keys first.
    this.heads = new nn.ModuleDict([['b', new nn.Linear(1, 1, { generator })], ['10', new nn.Linear(1, 2, { generator })], ['2', new nn.Linear(1, 3, { generator })]]);
  }

  forward(x: Tensor): Tensor[] {
    let h = x;
    for (const layer of this.layers) h = (layer as nn.Linear).forward(h);
    return this.heads.values().map((head) => head.forward(h));
  }
}

test('ModuleList and ModuleDict register their modules with PyTorch state_dict keys, in PyTorch order', () => {
  const net = new Net();
  // PyTorch 1.13 prints exactly these keys for the same construction.
  assert.deepEqual(Object.keys(net.stateDict()), [
    'layers.0.weight', 'layers.1.weight', 'layers.1.bias', 'layers.3.weight', 'layers.3.bias',
    'heads.b.weight', 'heads.b.bias', 'heads.10.weight', 'heads.10.bias', 'heads.2.weight', 'heads.2.bias',
  ]);
  assert.deepEqual([...net.heads], ['b', '10', '2']);
  assert.equal(net.layers.length, 4);
  assert.ok(net.layers[2] instanceof nn.Tanh, 'list[i] reads the registered module');
  assert.equal(net.layers.at(-1), net.layers[3]);
  assert.equal(net.parameters().length, 11);

  net.heads.set('b', new nn.Linear(1, 4, { generator }));
  assert.deepEqual(net.heads.keys(), ['b', '10', '2'], 'a replaced key keeps its place');
  assert.equal(net.heads.get('b').outFeatures, 4);
  const popped = net.layers.pop(1);
  assert.equal((popped as nn.Linear).outFeatures, 3);
  assert.deepEqual(Object.keys(net.stateDict()), [
    'layers.0.weight', 'layers.2.weight', 'layers.2.bias',
    'heads.b.weight', 'heads.b.bias', 'heads.10.weight', 'heads.10.bias', 'heads.2.weight', 'heads.2.bias',
  ]);
  assert.equal(net.layers[3], undefined, 'the last slot is gone after renumbering');
  assert.equal(net.heads.pop('10').outFeatures, 2);
  assert.deepEqual([...net.heads.entries()].map(([k, m]) => [k, m.outFeatures]), [['b', 4], ['2', 3]]);
  assert.equal(net.heads.size, 2);
});

test('containers pass train/eval, dtype conversion and state dicts through to their members', () => {
  const net = new Net();
  net.eval();
  assert.equal(net.layers.at(0).training, false);
  assert.equal(net.heads.get('2').training, false);
  net.double();
  assert.equal((net.layers[0] as nn.Linear).weight.dtype, 'float64');
  assert.equal(net.heads.get('b').bias!.dtype, 'float64');

  const copy = new Net().double();
  copy.loadStateDict(net.stateDict());
  const x = randn([3, 2], { generator, dtype: 'float64' });
  const a = net.forward(x);
  const b = copy.forward(x);
  a.forEach((t, i) => assert.deepEqual([...t.data], [...b[i]!.data]));
});

test('an optimizer trains the parameters of modules held in a ModuleList', () => {
  const list = new nn.ModuleList([new nn.Linear(2, 4, { generator }), new nn.Linear(4, 1, { generator })]);
  const opt = new optim.SGD(list.parameters(), { lr: 0.1 });
  const x = randn([8, 2], { generator });
  const y = randn([8, 1], { generator });
  const loss = (): Tensor => nn.mseLoss(list.at(1).forward(list.at(0).forward(x).tanh()) as Tensor, y);
  const before = loss().item();
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
  }
  assert.ok(loss().item() < before, `loss fell from ${before} to ${loss().item()}`);
});

test('container misuse is a clear error', () => {
  const list = new nn.ModuleList<nn.Module>([new nn.Tanh()]);
  assert.throws(() => list.at(1), /ModuleList\.at: index 1 is out of range for 1 module/);
  assert.throws(() => list.append({} as nn.Module), /ModuleList\.append: expected a Module, got a Object/);
  assert.throws(() => new nn.ModuleList([new nn.Tanh(), 3 as unknown as nn.Module]), /ModuleList: item 1: expected a Module, got 3/);
  assert.throws(() => new nn.ModuleList(7 as unknown as nn.Module[]), /ModuleList: expected an iterable of modules, got 7/);
  const dict = new nn.ModuleDict();
  assert.throws(() => dict.set('training', new nn.Tanh()), /the key "training" is the name of a ModuleDict property/);
  assert.throws(() => dict.set('a.b', new nn.Tanh()), /without '\.'/);
  assert.throws(() => dict.get('x'), /no module under "x" \(keys: none\)/);
  assert.throws(() => new nn.ModuleDict([['a']] as unknown as [string, nn.Module][]), /item 0 must be a \[key, module\] pair/);
});

test('a plain array of modules is not registered, as in PyTorch', () => {
  class Plain extends nn.Module {
    layers = [new nn.Linear(2, 2, { generator })];
  }
  assert.equal(new Plain().parameters().length, 0);
});

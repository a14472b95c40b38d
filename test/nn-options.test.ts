import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, nn, optim, randn, rand, zeros, ones, tensor, type Tensor } from './helpers/api.js';

test('unknown option keys name the key and the closest valid one, in every constructor', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new nn.Linear(2, 2, { baias: false } as object), /Linear: unknown option 'baias'; did you mean 'bias'\?/],
    [() => new nn.Embedding(4, 2, { padding_idx: 0 } as object), /Embedding: unknown option 'padding_idx'; did you mean 'paddingIdx'\?/],
    [() => new nn.Dropout(0.1, { generater: new Generator(1) } as object), /Dropout: unknown option 'generater'; did you mean 'generator'\?/],
    [() => new nn.LSTM({ inputSize: 2, hiddenSize: 3, dropuot: 0.1 } as never), /LSTM: unknown option 'dropuot'; did you mean 'dropout'\?/],
    [() => new nn.GRU({ inputSize: 2, hiddenSize: 3, peephole: true } as never), /GRU: unknown option 'peephole'/],
    [() => new nn.RNN({ inputSize: 2, hiddenSize: 3, batch_first: true } as never), /RNN: unknown option 'batch_first'; did you mean 'batchFirst'\?/],
    [() => new nn.LSTMCell(2, 3, { dtpye: 'float64' } as object), /LSTMCell: unknown option 'dtpye'; did you mean 'dtype'\?/],
    [() => new nn.GRUCell(2, 3, { nonlinearity: 'relu' } as object), /GRUCell: unknown option 'nonlinearity'/],
    [() => new optim.SGD([tensor([1], undefined, { requiresGrad: true })], { lr: 0.1, momentun: 0.9 } as never), /SGD: unknown option 'momentun'; did you mean 'momentum'\?/],
    [() => randn([2], { sdt: 2 } as object), /randn: unknown option 'sdt'; did you mean 'std'\?/],
    [() => tensor([1], undefined, { requires_grad: true } as object), /tensor: unknown option 'requires_grad'; did you mean 'requiresGrad'\?/],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  assert.throws(() => new nn.Linear(2, 2, { zzzzzz: 1 } as object), (e: Error) => !/did you mean/.test(e.message) && /known options: bias, generator, dtype/.test(e.message));
});

test('dtype is honoured by Linear, Embedding, cells and layers', () => {
  const lin = new nn.Linear(3, 2, { dtype: 'float64' });
  assert.ok(lin.parameters().every((p) => p.dtype === 'float64'));
  assert.equal(lin.forward(randn([4, 3], { dtype: 'float64' })).dtype, 'float64');
  assert.throws(() => lin.forward(randn([4, 3])), /Linear: input dtype must be float64 like the weight, got float32/);
  assert.equal(new nn.Embedding(5, 2, { dtype: 'float64' }).forward([1, 2]).dtype, 'float64');
  const cell = new nn.GRUCell(3, 2, { dtype: 'float64' });
  assert.equal(cell.forward(randn([1, 3], { dtype: 'float64' })).dtype, 'float64');
  const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 2, dtype: 'float64' });
  assert.equal(lstm.forward(randn([2, 1, 3], { dtype: 'float64' }))[0].dtype, 'float64');
  assert.throws(() => new nn.Linear(2, 2, { dtype: 'int32' as never }), /Linear: dtype must be one of 'float32', 'float64', got "int32"/);
});

test('Embedding paddingIdx: the row starts at zero, is looked up as is, and gets no gradient', () => {
  const emb = new nn.Embedding(4, 3, { paddingIdx: -1, generator: new Generator(2) });
  assert.equal(emb.paddingIdx, 3);
  assert.deepEqual([...emb.weight.data.subarray(9, 12)], [0, 0, 0]);
  const out = emb.forward(tensor([[1, 3], [3, 1]]));
  assert.deepEqual([...out.data.subarray(3, 6)], [0, 0, 0]);
  out.mul(tensor([1, 2, 3])).sum().backward();
  assert.deepEqual([...emb.weight.grad!.data], [0, 0, 0, 2, 4, 6, 0, 0, 0, 0, 0, 0], 'row 1 twice, padding row masked');
  assert.throws(() => new nn.Embedding(4, 3, { paddingIdx: 4 }), /Embedding: paddingIdx must be an integer in \[-4, 4\), got 4/);
});

test('optimizer.step(closure) calls the closure first and returns its loss', () => {
  const w = tensor([3], undefined, { requiresGrad: true });
  const opt = new optim.SGD([w], { lr: 0.25 });
  let calls = 0;
  const loss = opt.step(() => {
    calls++;
    opt.zeroGrad();
    const l = w.mul(w).sum();
    l.backward();
    return l;
  });
  assert.equal(calls, 1);
  assert.equal(loss!.item(), 9);
  assert.equal(w.item(), 3 - 0.25 * 6);
  assert.equal(opt.step(), undefined);
  assert.equal(w.item(), 0, 'a step without a closure uses the gradient already there');
  noGrad(() => w.fill_(2));
  const underNoGrad = noGrad(() => opt.step(() => {
    opt.zeroGrad();
    const l = w.mul(w).sum();
    l.backward();
    return l;
  }));
  assert.equal(underNoGrad!.item(), 4, 'the closure records its graph even under noGrad, as in PyTorch');
  assert.equal(w.item(), 2 - 0.25 * 4);
  assert.throws(() => opt.step(5 as never), /SGD.step: closure must be a function, got 5/);
});

test('state of the wrong form and plain arrays get messages, not TypeErrors', () => {
  const gru = new nn.GRU({ inputSize: 2, hiddenSize: 3 });
  const x = randn([4, 1, 2]);
  const h = zeros([1, 1, 3]);
  assert.throws(() => gru.forward(x, [h] as never), /GRU: h0 must be a Tensor \[numLayers \* directions, batch, hidden\] \(an LSTM takes \[h0, c0\], a GRU h0 alone\), got an array of 1/);
  assert.throws(() => new nn.RNN({ inputSize: 2, hiddenSize: 3 }).forward(x, [h] as never), /RNN: h0 must be a Tensor/);
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3 });
  assert.throws(() => lstm.forward(x, h as never), /LSTM: state must be a pair \[h0, c0\] \(or omitted for zeros\), got a single Tensor/);
  assert.throws(() => lstm.forward(x, [h, [1]] as never), /LSTM: c0 must be a Tensor \[1, 1, 3\], got an array/);
  assert.throws(() => new nn.LSTMCell(2, 3).forward(randn([1, 2]), [zeros([1, 3])] as never), /LSTMCell: state must be a pair \[h, c\]/);
  assert.throws(() => new nn.GRUCell(2, 3).forward(randn([1, 2]), [zeros([1, 3])] as never), /GRUCell: h must be a Tensor \[batch, 3\], got an array/);
  assert.throws(() => lstm.forward([[[1, 2]]] as never), /LSTM: input must be a Tensor \[seq, batch, 2\], got a plain array \(make a tensor with tensor\(\[\.\.\.\]\)\)/);
  assert.throws(() => new nn.Linear(2, 1).forward([1, 2] as never), /Linear: input must be a Tensor \[\.\.\., 2\], got a plain array/);
  assert.throws(() => new nn.Linear(2, 1).forward(new Float32Array(2) as never), /Linear: input must be a Tensor \[\.\.\., 2\], got a Float32Array/);
});

test('Sequential passes a recurrent layer\'s output on; creation functions take varargs shapes', () => {
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3, generator: new Generator(1) });
  const head = new nn.Linear(3, 1, { generator: new Generator(2) });
  const model = new nn.Sequential(lstm, head);
  const x = randn(5, 2, 2);
  const y: Tensor = model.forward(x);
  assert.deepEqual(y.shape, [5, 2, 1]);
  assert.deepEqual([...y.data], [...head.forward(lstm.forward(x)[0]).data]);
  assert.deepEqual(Object.keys(model.stateDict()).slice(0, 2), ['0.weight_ih_l0', '0.weight_hh_l0']);
  assert.equal(model.at(-1), head);
  assert.throws(() => new nn.Sequential(lstm, (() => 1) as never), /Sequential: argument 1 must be a module with a forward method/);

  assert.deepEqual(randn(5, 2, 3).shape, [5, 2, 3]);
  assert.deepEqual(randn([5, 2, 3]).shape, [5, 2, 3]);
  assert.equal(randn(2, 2, { dtype: 'float64' }).dtype, 'float64');
  const a = randn(3, { generator: new Generator(7) }), b = randn([3], { generator: new Generator(7) });
  assert.deepEqual([...a.data], [...b.data]);
  assert.deepEqual([...ones(2, 2).data], [1, 1, 1, 1]);
  assert.deepEqual(zeros(3).shape, [3]);
  assert.deepEqual(rand(1, 4).shape, [1, 4]);
  assert.throws(() => randn(2, '3' as never), /randn: expected a shape as an array \(\[2, 3\]\) or as numbers \(2, 3\), got \(2, 3\)/);
});

test('options of nn.utils.rnn, stepper(), loadStateDict and clipGradNorm are checked as constructors\' are; option-less modules refuse one', () => {
  const x = randn([3, 2, 1]);
  const cases: [() => unknown, RegExp][] = [
    [() => nn.utils.rnn.packPaddedSequence(x, [3, 2], { batch_first: true } as object), /packPaddedSequence: unknown option 'batch_first'; did you mean 'batchFirst'\?/],
    [() => nn.utils.rnn.padPackedSequence(nn.utils.rnn.packPaddedSequence(x, [3, 2]), { total_length: 4 } as object), /padPackedSequence: unknown option 'total_length'; did you mean 'totalLength'\?/],
    [() => nn.utils.rnn.padSequence([randn([2, 1])], { padding_value: 1 } as object), /padSequence: unknown option 'padding_value'; did you mean 'paddingValue'\?/],
    [() => nn.utils.rnn.packSequence([randn([2, 1])], { enforce_sorted: false } as object), /packSequence: unknown option 'enforce_sorted'; did you mean 'enforceSorted'\?/],
    [() => new nn.LSTM({ inputSize: 1, hiddenSize: 2 }).stepper({ bach: 4 } as object), /LSTM\.stepper: unknown option 'bach'; did you mean 'batch'\?/],
    [() => new nn.Linear(1, 1).loadStateDict(new nn.Linear(1, 1).stateDict(), { stric: false } as object), /Linear\.loadStateDict: unknown option 'stric'; did you mean 'strict'\?/],
    [() => new nn.ReLU({ inplace: true } as never), /ReLU takes no options, got \{ inplace \}/],
    [() => new nn.Tanh({ inplace: true } as never), /Tanh takes no options, got \{ inplace \}/],
    [() => new nn.Sigmoid(true as never), /Sigmoid takes no options, got true/],
    [() => nn.init.uniform_(zeros(2), 0, 1, { seed: 1 } as never), /init\.uniform_: generator must be a Generator \(new Generator\(seed\)\), got an object \{ seed \}/],
    [() => nn.init.normal_(zeros(2), 0, 1, 7 as never), /init\.normal_: generator must be a Generator \(new Generator\(seed\)\), got 7/],
    [() => optim.clipGradNorm([tensor([1], undefined, { requiresGrad: true })], 1, 2, { error_if_nonfinite: true } as object), /clipGradNorm: unknown option 'error_if_nonfinite'; did you mean 'errorIfNonfinite'\?/],
    [() => optim.clipGradNorm([tensor([1], undefined, { requiresGrad: true })], 1, { errorIfNonfinite: true } as never), /clipGradNorm: normType must be a positive number or Infinity, got an object \(options come fourth/],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  // Before these checks, { batch_first: true } was ignored and the batch read as [seq, batch]: a silent wrong answer.
  const batchFirst = nn.utils.rnn.packPaddedSequence(randn([2, 3, 1], { generator: new Generator(4) }), [3, 2], { batchFirst: true });
  assert.deepEqual([...batchFirst.batchSizes], [2, 2, 1]);
  assert.deepEqual(Object.keys(new nn.ReLU({}).stateDict()), [], 'an empty options object is fine');
});

test('nn.functional.embedding takes PyTorch\'s argument order, shapes and paddingIdx (gradient masked)', () => {
  const weight = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2], { requiresGrad: true });
  const ids = tensor([[2, 0], [1, 2]]);
  const out = nn.functional.embedding(ids, weight, { paddingIdx: -1 });
  assert.deepEqual(out.shape, [2, 2, 2]);
  assert.deepEqual([...out.data], [5, 6, 1, 2, 3, 4, 5, 6], 'the padding row is looked up as it is');
  out.sum().backward();
  assert.deepEqual([...weight.grad!.data], [1, 1, 1, 1, 0, 0], 'row 2 (paddingIdx -1) gets no gradient');
  assert.deepEqual(nn.functional.embedding([0, 1, 1], weight).shape, [3, 2]);
  assert.throws(() => nn.functional.embedding(weight, ids as never), /embedding: weight must be a Tensor \[num, dim\]|embedding: index/);
  assert.throws(() => nn.functional.embedding(ids, weight, { paddingIdx: 3 }), /embedding: paddingIdx must be an integer in \[-3, 3\), got 3/);
  assert.throws(() => nn.functional.embedding(ids, weight, { padding_idx: 0 } as object), /embedding: unknown option 'padding_idx'; did you mean 'paddingIdx'\?/);
});

test('a batch of no sequences gives empty outputs and states at once, whatever its length; an empty sequence is refused', () => {
  for (const [Layer, states] of [[nn.RNN, 1], [nn.LSTM, 2], [nn.GRU, 1]] as const) {
    for (const batchFirst of [false, true]) {
      const layer = new Layer({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst }) as unknown as { forward(x: Tensor): [Tensor, Tensor | [Tensor, Tensor]] };
      const shape = batchFirst ? [0, 1e9, 3] : [1e9, 0, 3];
      const result = layer.forward(zeros(shape));
      assert.deepEqual(result[0].shape, batchFirst ? [0, 1e9, 8] : [1e9, 0, 8]);
      const finals = states === 2 ? (result[1] as [Tensor, Tensor]) : [result[1] as Tensor];
      for (const s of finals) assert.deepEqual(s.shape, [4, 0, 4]);
      assert.throws(() => layer.forward(zeros(batchFirst ? [2, 0, 3] : [0, 2, 3])), /input has an empty sequence \(shape/);
    }
  }
});

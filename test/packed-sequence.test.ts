// Variable-length batches (nn.utils.rnn, packed sequences through the recurrent layers): PyTorch 1.13
// parity on both backends, the fused path against the op-by-op reference (peephole LSTM included, and
// batches big enough for the wasm threads to share the time loop), float64 gradchecks, and the
// utilities' layouts and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backends, onBackend } from './helpers/backends.js';
import { readSafetensorsMetadata } from '../src/io/index.js';
import { Generator, gradcheck, nn, randn, tensor, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { loadFixtureTensors } from './helpers/fixtures.js';
import { gateCount, recurrentDirection, reference, type CellKind, type DirectionWeights } from '../src/nn/recurrent/index.js';

const { PackedSequence, padSequence, packPaddedSequence, padPackedSequence, packSequence } = nn.utils.rnn;

const fixture = (name: string): { tensors: Record<string, Tensor>; meta: Record<string, string> } => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}.safetensors`, import.meta.url))));
  return { tensors: loadFixtureTensors(bytes), meta: readSafetensorsMetadata(bytes) };
};

const packedCases = [
  'packed_rnn_tanh', 'packed_rnn_relu_bidirectional', 'packed_lstm_1layer', 'packed_lstm_2layer_bidirectional',
  'packed_lstm_batch_first', 'packed_lstm_proj', 'packed_gru_2layer_bidirectional', 'packed_gru_batch_first',
  // 12 rows falling to 1: with the native BLAS, the wide steps' products go to it and the narrow ones stay ours.
  'packed_lstm_batch12',
];

for (const backend of backends) for (const name of packedCases) {
  test(`PyTorch parity, packed sequence (${backend} backend): ${name}`, onBackend(backend, () => {
    const { tensors: f, meta } = fixture(name);
    const options = JSON.parse(meta.options!);
    const enforceSorted = JSON.parse(meta.enforceSorted!) as boolean;
    const module = meta.module === 'LSTM' ? new nn.LSTM(options) : meta.module === 'GRU' ? new nn.GRU(options) : new nn.RNN(options);
    module.loadStateDict(Object.fromEntries(Object.entries(f).filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v])));
    const x = f['input.x']!.clone(), h0 = f['input.h0']!.clone();
    const c0 = f['input.c0']?.clone() ?? null;
    for (const t of [x, h0, c0]) if (t) t.requiresGrad = true;
    const packed = packPaddedSequence(x, f['input.lengths']!, { batchFirst: options.batchFirst, enforceSorted });
    assert.deepEqual([...packed.batchSizes], [...f['expected.batch_sizes']!.data]);
    if (f['expected.sorted_indices']) assert.deepEqual([...packed.sortedIndices!], [...f['expected.sorted_indices'].data]);
    else assert.equal(packed.sortedIndices, null);

    let out: nn.utils.rnn.PackedSequence, hn: Tensor, cn: Tensor | null = null;
    if (module instanceof nn.LSTM) [out, [hn, cn]] = module.forward(packed, [h0, c0!]);
    else [out, hn] = (module as InstanceType<typeof nn.GRU>).forward(packed, h0);
    assert.ok(out instanceof PackedSequence);
    assert.equal(out.batchSizes, packed.batchSizes);
    const [padded, lengths] = padPackedSequence(out, { batchFirst: options.batchFirst, totalLength: x.shape[options.batchFirst ? 1 : 0] });
    assert.deepEqual([...lengths.data], [...f['input.lengths']!.data]);
    assertClose(out.data, f['expected.data']!, 1e-5, 1e-4, 'packed output data');
    assertClose(padded, f['expected.padded']!, 1e-5, 1e-4, 'padded output');
    assertClose(hn, f['expected.hn']!, 1e-5, 1e-4, 'hn');
    if (cn) assertClose(cn, f['expected.cn']!, 1e-5, 1e-4, 'cn');

    let loss = padded.mul(f['cotangent.padded']!).sum().add(hn.mul(f['cotangent.hn']!).sum());
    if (cn) loss = loss.add(cn.mul(f['cotangent.cn']!).sum());
    loss.backward();
    assertClose(x.grad!, f['grad.x']!, 2e-5, 1e-3, 'grad.x');
    assertClose(h0.grad!, f['grad.h0']!, 2e-5, 1e-3, 'grad.h0');
    if (c0) assertClose(c0.grad!, f['grad.c0']!, 2e-5, 1e-3, 'grad.c0');
    let checked = 0;
    for (const [pname, p] of module.namedParameters()) {
      assertClose(p.grad!, f[`grad.${pname}`]!, 2e-5, 1e-3, `grad.${pname}`);
      checked++;
    }
    assert.equal(checked, Object.keys(f).filter((k) => k.startsWith('param.')).length);
  }));
}

// ---- the fused direction against the op-by-op reference ----

interface Case { kind: CellKind; peephole?: boolean; proj?: number }
const cases: Case[] = [{ kind: 'rnn_tanh' }, { kind: 'rnn_relu' }, { kind: 'lstm' }, { kind: 'lstm', peephole: true }, { kind: 'lstm', proj: 3 }, { kind: 'gru' }];

function directionWeights(c: Case, I: number, H: number, dtype: 'float32' | 'float64', generator: Generator): DirectionWeights {
  const G = gateCount(c.kind), P = c.proj ?? H;
  // PyTorch's scale, 1/√H: a contracting recurrence, in which float32 rounding does not grow with the steps.
  const r = (shape: number[]): Tensor => randn(shape, { dtype, generator, std: 1 / Math.sqrt(H), requiresGrad: true });
  return {
    weightIh: r([G * H, I]), weightHh: r([G * H, P]), biasIh: r([G * H]), biasHh: r([G * H]),
    weightHr: c.proj ? r([P, H]) : null, peephole: c.peephole ? [r([H]), r([H]), r([H])] : null,
  };
}

/** Batch sizes of sorted lengths. */
const batchSizesOf = (sortedLengths: number[]): Int32Array => {
  const sizes = new Int32Array(sortedLengths[0]!);
  for (const len of sortedLengths) for (let t = 0; t < len; t++) sizes[t]!++;
  return sizes;
};

function compareDirection(c: Case, reverse: boolean, dtype: 'float32' | 'float64', lengths: number[], I: number, H: number, tolerance: number): void {
  const generator = new Generator(11);
  const w = directionWeights(c, I, H, dtype, generator);
  const batchSizes = batchSizesOf(lengths);
  const N = lengths.reduce((a, n) => a + n, 0), B = lengths.length, P = c.proj ?? H;
  const x = randn([N, I], { dtype, generator, requiresGrad: true });
  const h0 = randn([B, P], { dtype, generator, requiresGrad: true });
  const c0 = c.kind === 'lstm' ? randn([B, H], { dtype, generator, requiresGrad: true }) : null;
  const inputs = [x, h0, ...(c0 ? [c0] : []), w.weightIh, w.weightHh, w.biasIh!, w.biasHh!, ...(w.weightHr ? [w.weightHr] : []), ...(w.peephole ?? [])];
  const cot = [randn([N, P], { dtype, generator }), randn([B, P], { dtype, generator }), randn([B, H], { dtype, generator })];
  const run = (f: typeof recurrentDirection): { values: Tensor[]; grads: Tensor[] } => {
    for (const t of inputs) t.grad = null;
    const r = f(c.kind, x, h0, c0, w, reverse, batchSizes);
    let loss = r.output.mul(cot[0]!).sum().add(r.h.mul(cot[1]!).sum());
    if (r.c) loss = loss.add(r.c.mul(cot[2]!).sum());
    loss.backward();
    return { values: [r.output, r.h, ...(r.c ? [r.c] : [])], grads: inputs.map((t) => t.grad!) };
  };
  const fused = run(recurrentDirection);
  const ref = run(reference.runDirection);
  fused.values.forEach((v, i) => assertClose(v, ref.values[i]!, tolerance, tolerance, `value ${i}`));
  fused.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, tolerance, tolerance * 10, `gradient of input ${i}`));
}

for (const c of cases) for (const reverse of [false, true]) {
  const label = `${c.kind}${c.peephole ? ' peephole' : ''}${c.proj ? ' proj' : ''}${reverse ? ' reverse' : ''}`;
  test(`packed fused ${label} matches the op-by-op reference (float64: values and every gradient)`, () => {
    compareDirection(c, reverse, 'float64', [5, 4, 4, 2, 1], 3, 4, 1e-12);
  });
  for (const backend of backends) {
    // 40 rows of 64 units: big enough for the wasm backend to share the whole time loop by rows.
    test(`packed fused ${label} (${backend} backend, float32, 40 sequences of 1..23 steps) matches the reference`, onBackend(backend, () => {
      const lengths = Array.from({ length: 40 }, (_, b) => 23 - Math.floor(b / 2) - (b % 3 === 0 ? 0 : 1)).sort((a, b) => b - a);
      compareDirection(c, reverse, 'float32', lengths, 8, 64, 2e-5);
    }));
  }
}

test('gradcheck: packed 2-layer bidirectional LSTM (float64, finite differences, unsorted lengths)', () => {
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, dtype: 'float64', generator: new Generator(21) });
  const generator = new Generator(22);
  const x = randn([4, 3, 2], { dtype: 'float64', generator, requiresGrad: true });
  const h0 = randn([4, 3, 3], { dtype: 'float64', generator, requiresGrad: true });
  const c0 = randn([4, 3, 3], { dtype: 'float64', generator, requiresGrad: true });
  const lengths = [2, 4, 1];
  assert.equal(gradcheck((xx, hh, cc) => {
    const [out, [h, c]] = lstm.forward(packPaddedSequence(xx!, lengths, { enforceSorted: false }), [hh!, cc!]);
    return padPackedSequence(out)[0].sum().add(h.mul(h).sum()).add(c.sum());
  }, [x, h0, c0]), true);
  assert.equal(gradcheck(() => lstm.forward(packPaddedSequence(x, lengths, { enforceSorted: false }))[0].data.tanh().sum(), lstm.parameters()), true);
});

test('gradcheck: packed 2-layer bidirectional GRU (float64, finite differences, batchFirst)', () => {
  const gru = new nn.GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, batchFirst: true, dtype: 'float64', generator: new Generator(23) });
  const generator = new Generator(24);
  const x = randn([3, 5, 2], { dtype: 'float64', generator, requiresGrad: true });
  const h0 = randn([4, 3, 3], { dtype: 'float64', generator, requiresGrad: true });
  const lengths = [5, 3, 2];
  assert.equal(gradcheck((xx, hh) => {
    const [out, h] = gru.forward(packPaddedSequence(xx!, lengths, { batchFirst: true }), hh!);
    return padPackedSequence(out, { batchFirst: true })[0].sum().add(h.mul(h).sum());
  }, [x, h0]), true);
  assert.equal(gradcheck(() => gru.forward(packPaddedSequence(x, lengths, { batchFirst: true }))[1].tanh().sum(), gru.parameters()), true);
});

// ---- layers: running each sequence alone, dropout ----

for (const backend of backends) {
  test(`packed layers (${backend} backend) give what each sequence gives alone: peephole LSTM, GRU, RNN, 2 layers, bidirectional`, onBackend(backend, () => {
    const generator = new Generator(31);
    const layers = [
      new nn.LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, peephole: true, generator }),
      new nn.GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, generator }),
      new nn.RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: 'relu', bidirectional: true, generator }),
    ];
    const lengths = [3, 7, 1, 4];
    const sequences = lengths.map((len) => randn([len, 3], { generator }));
    for (const layer of layers) {
      const [out, state] = (layer as InstanceType<typeof nn.GRU>).forward(packSequence(sequences, { enforceSorted: false }));
      const hn = Array.isArray(state) ? (state as Tensor[])[0]! : state;
      const [padded, got] = padPackedSequence(out);
      assert.deepEqual([...got.data], lengths);
      const width = padded.shape[2]!, layersDirs = hn.shape[0]!, stateWidth = hn.shape[2]!;
      sequences.forEach((s, b) => {
        const [alone, aloneState] = (layer as InstanceType<typeof nn.GRU>).forward(s.reshape([s.shape[0]!, 1, 3]));
        const aloneH = Array.isArray(aloneState) ? (aloneState as Tensor[])[0]! : aloneState;
        const rows = Array.from({ length: s.shape[0]! * width }, (_, i) => padded.data[(Math.floor(i / width) * 4 + b) * width + (i % width)]!);
        assertClose(tensor(rows, [s.shape[0]!, 1, width]), alone, 1e-6, 1e-5, `${layer.layerName} output of sequence ${b}`);
        const finals = Array.from({ length: layersDirs * stateWidth }, (_, i) => hn.data[(Math.floor(i / stateWidth) * 4 + b) * stateWidth + (i % stateWidth)]!);
        assertClose(tensor(finals, [layersDirs, 1, stateWidth]), aloneH, 1e-6, 1e-5, `${layer.layerName} final state of sequence ${b}`);
        // Padding is zero, as PyTorch's.
        for (let t = s.shape[0]!; t < 7; t++) for (let j = 0; j < width; j++) assert.equal(padded.data[(t * 4 + b) * width + j], 0);
      });
    }
  }));
}

test('packed input with dropout between layers: applied in training only, seeded', () => {
  const make = (): InstanceType<typeof nn.LSTM> => new nn.LSTM({ inputSize: 2, hiddenSize: 4, numLayers: 2, dropout: 0.5, bidirectional: true, generator: new Generator(41) });
  const x = randn([5, 3, 2], { generator: new Generator(42) });
  const packed = packPaddedSequence(x, [5, 4, 2]);
  const [a, b] = [make(), make()];
  const trainA = a.forward(packed)[0].data, trainB = b.forward(packed)[0].data;
  assert.deepEqual([...trainA.data], [...trainB.data]);
  a.eval();
  const evalA = a.forward(packed)[0].data;
  assert.ok(evalA.data.some((v, i) => Math.abs(v - trainA.data[i]!) > 1e-3), 'dropout changed nothing in training mode');
  const plain = make();
  plain.eval();
  assert.deepEqual([...plain.forward(packed)[0].data.data], [...evalA.data]);
});

// ---- the utilities ----

test('padSequence stacks and pads, time-major or batchFirst, with a padding value; gradients reach each sequence', () => {
  const a = tensor([[1, 2], [3, 4], [5, 6]]), b = tensor([[7, 8]]);
  a.requiresGrad = true;
  b.requiresGrad = true;
  const padded = padSequence([a, b], { paddingValue: -1 });
  assert.deepEqual(padded.shape, [3, 2, 2]);
  assert.deepEqual([...padded.data], [1, 2, 7, 8, 3, 4, -1, -1, 5, 6, -1, -1]);
  const first = padSequence([a, b], { batchFirst: true });
  assert.deepEqual(first.shape, [2, 3, 2]);
  assert.deepEqual([...first.data], [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
  first.mul(tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]])).sum().backward();
  assert.deepEqual([...a.grad!.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...b.grad!.data], [7, 8]);
  assert.throws(() => padSequence([]), /padSequence: sequences must be a non-empty array/);
  assert.throws(() => padSequence([a, tensor([[1, 2, 3]])]), /padSequence: sequences\[1\] must be \[length, 2\] like sequences\[0\], got \[1, 3\]/);
});

test('packPaddedSequence: PyTorch layout, sorted and unsorted; padPackedSequence inverts it; lengths as an array or a tensor', () => {
  // x[t, b] = 10 * b + t: the packed data shows which rows were taken.
  const T = 4, B = 3;
  const x = tensor(Array.from({ length: T * B }, (_, i) => 10 * (i % B) + Math.floor(i / B)), [T, B, 1]);
  const sorted = packPaddedSequence(x, [4, 2, 1]);
  assert.deepEqual([...sorted.batchSizes], [3, 2, 1, 1]);
  assert.deepEqual([...sorted.data.data], [0, 10, 20, 1, 11, 2, 3]);
  assert.equal(sorted.sortedIndices, null);
  const unsorted = packPaddedSequence(x, tensor([1, 4, 2]), { enforceSorted: false });
  assert.deepEqual([...unsorted.sortedIndices!], [1, 2, 0]);
  assert.deepEqual([...unsorted.unsortedIndices!], [2, 0, 1]);
  assert.deepEqual([...unsorted.data.data], [10, 20, 0, 11, 21, 12, 13]);
  assert.deepEqual(unsorted.lengths(), [1, 4, 2]);
  const [padded, lengths] = padPackedSequence(unsorted, { paddingValue: -1, totalLength: 5 });
  assert.deepEqual(padded.shape, [5, 3, 1]);
  assert.deepEqual([...lengths.data], [1, 4, 2]);
  assert.deepEqual([...padded.data], [0, 10, 20, -1, 11, 21, -1, 12, -1, -1, 13, -1, -1, -1, -1]);
  const [first] = padPackedSequence(unsorted, { batchFirst: true });
  assert.deepEqual(first.shape, [3, 4, 1]);
  assert.deepEqual([...first.data], [0, 0, 0, 0, 10, 11, 12, 13, 20, 21, 0, 0]);
  // batchFirst input: the same packing.
  const xFirst = tensor(Array.from({ length: T * B }, (_, i) => 10 * Math.floor(i / T) + (i % T)), [B, T, 1]);
  assert.deepEqual([...packPaddedSequence(xFirst, [1, 4, 2], { batchFirst: true, enforceSorted: false }).data.data], [...unsorted.data.data]);
  // packSequence: the same as padding then packing.
  const seqs = [tensor([[0]]), tensor([[10], [11], [12], [13]]), tensor([[20], [21]])];
  const viaPack = packSequence(seqs, { enforceSorted: false });
  assert.deepEqual([...viaPack.data.data], [...unsorted.data.data]);
  assert.deepEqual([...viaPack.batchSizes], [...unsorted.batchSizes]);
});

test('packing errors name the argument, the expected and the received value', () => {
  const x = randn([4, 3, 2]);
  assert.throws(() => packPaddedSequence(x, [4, 2]), /packPaddedSequence: lengths must have one entry per sequence \(3\), got 2/);
  assert.throws(() => packPaddedSequence(x, [4, 0, 1]), /lengths\[1\] must be an integer in \[1, 4\] \(zero-length sequences cannot be packed\), got 0/);
  assert.throws(() => packPaddedSequence(x, [5, 2, 1]), /lengths\[0\] must be an integer in \[1, 4\].*got 5/);
  assert.throws(() => packPaddedSequence(x, [2.5, 2, 1]), /lengths\[0\] must be an integer/);
  assert.throws(() => packPaddedSequence(x, [2, 4, 1]), /lengths must be sorted in decreasing order with enforceSorted \(lengths\[0\] = 2 < lengths\[1\] = 4\); pass \{ enforceSorted: false \}/);
  assert.throws(() => packPaddedSequence(randn([4]), [4]), /packPaddedSequence: input must be a tensor \[seq, batch, \*features\], got \[4\]/);
  const packed = packPaddedSequence(x, [4, 2, 1]);
  assert.throws(() => padPackedSequence(packed, { totalLength: 3 }), /totalLength must be an integer at least the longest sequence's length \(4\), got 3/);
  assert.throws(() => new PackedSequence(randn([5, 2]), new Int32Array([3, 2, 1])), /PackedSequence: data must have 6 rows \(the sum of batchSizes\), got 5/);
  assert.throws(() => new PackedSequence(randn([6, 2]), new Int32Array([2, 3, 1])), /batchSizes must be positive and non-increasing, got \[2, 3, 1\]/);
  assert.throws(() => new PackedSequence(randn([6, 2]), new Int32Array([3, 2, 1]), new Int32Array([0, 0, 1])), /sortedIndices must be a permutation of 0..2/);
  const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3 });
  assert.throws(() => lstm.forward(packPaddedSequence(randn([4, 3, 5]), [4, 2, 1])), /LSTM: packed input data must be \[N, 2\], got \[7, 5\]/);
  assert.throws(() => lstm.forward(packed, [randn([1, 2, 3]), randn([1, 3, 3])]), /LSTM: h0 must be \[1, 3, 3\], got \[1, 2, 3\]/);
});

test('packed states come back in the caller\'s order: h0 of a sequence is the one it was given', () => {
  const gru = new nn.GRU({ inputSize: 1, hiddenSize: 2, generator: new Generator(51) });
  const x = randn([3, 3, 1], { generator: new Generator(52) });
  const h0 = randn([1, 3, 2], { generator: new Generator(53) });
  const lengths = [1, 3, 2];
  const [, hn] = gru.forward(packPaddedSequence(x, lengths, { enforceSorted: false }), h0);
  for (let b = 0; b < 3; b++) {
    const alone = x.narrow(1, b, 1).narrow(0, 0, lengths[b]!);
    const [, hAlone] = gru.forward(alone, h0.narrow(1, b, 1));
    assertClose(hn.narrow(1, b, 1), hAlone, 1e-6, 1e-5, `sequence ${b}`);
  }
});

test('recurrentDirection refuses a packed layout that does not fit its input, before any kernel runs', () => {
  const w = directionWeights({ kind: 'gru' }, 2, 3, 'float32', new Generator(61));
  const x = randn([6, 2]), h0 = randn([3, 3]);
  assert.throws(() => recurrentDirection('gru', x, h0, null, w, false, new Int32Array([3, 2, 2])), /recurrentDirection: data must have 7 rows \(the sum of batchSizes\), got 6/);
  assert.throws(() => recurrentDirection('gru', x, h0, null, w, false, new Int32Array([2, 3, 1])), /batchSizes must be positive and non-increasing/);
  assert.throws(() => recurrentDirection('gru', x, randn([2, 3]), null, w, false, new Int32Array([3, 2, 1])), /h0 must have 3 rows \(batchSizes\[0\]\), got \[2, 3\]/);
  assert.throws(() => recurrentDirection('gru', randn([6, 1, 2]), h0, null, w, false, new Int32Array([3, 2, 1])), /packed input must be \[N, input\], got \[6, 1, 2\]/);
});

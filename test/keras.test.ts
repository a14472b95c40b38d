// Keras 3 weights: the .keras and .weights.h5 fixtures in test/fixtures/keras were saved by Keras 3
// itself (numpy backend) and keras_outputs.json holds Keras' own outputs for them
// (tools/make_keras_fixtures_keras.py); the seeded weights and inputs come from cases.json
// (tools/keras-reference/make_cases.mjs). See the fixtures' README.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import '../src/ops/index.js';
import { loadKerasModel, loadKerasWeights } from '../src/keras.js';
import { nn, noGrad, tensor, Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';

const DIR = fileURLToPath(new URL('./fixtures/keras/', import.meta.url));
interface ArrayJson { shape: number[]; data: number[] }
interface Case { name: string; config: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weights: Record<string, ArrayJson>; input: ArrayJson }
const { cases } = JSON.parse(readFileSync(`${DIR}/cases.json`, 'utf8')) as { cases: Case[] };
const kerasRun = JSON.parse(readFileSync(`${DIR}/keras_outputs.json`, 'utf8')) as { producer: string; cases: { name: string; output: ArrayJson }[] };
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(`${DIR}/${name}`));
const asTensor = (a: ArrayJson): Tensor => tensor(Float32Array.from(a.data)).reshape(a.shape);
/** What Keras itself computed for a case's input. */
const kerasOutput = (name: string): Tensor => asTensor(kerasRun.cases.find((k) => k.name === name)!.output);

test('keras_outputs.json was written by Keras for every case', () => {
  assert.match(kerasRun.producer, /Keras 3\.\d+\.\d+ \(backend numpy\)/);
  assert.deepEqual(kerasRun.cases.map((k) => k.name), cases.map((c) => c.name));
});

for (const c of cases) {
  test(`loadKerasModel on a .keras file Keras saved agrees with Keras' output: ${c.name}`, async () => {
    const model = await loadKerasModel(file(`${c.name}.keras`));
    const out = noGrad(() => model.forward(asTensor(c.input)));
    const expected = kerasOutput(c.name);
    assert.deepEqual(out.shape, expected.shape);
    assertClose(out, expected, 1e-5, 1e-5, c.name);
  });

  test(`loadKerasModel on a .weights.h5 Keras saved, with the config.json Keras wrote, agrees with Keras: ${c.name}`, async () => {
    const config = strFromU8(unzipSync(file(`${c.name}.keras`))['config.json']!);
    const model = await loadKerasModel(file(`${c.name}.weights.h5`), { config });
    assertClose(noGrad(() => model.forward(asTensor(c.input))), kerasOutput(c.name), 1e-5, 1e-5, c.name);
  });
}

test('loadKerasModel takes a .weights.h5 with its config, and says it needs one without', async () => {
  const c = cases.find((k) => k.name === 'gru_reset_before')!;
  const model = await loadKerasModel(file(`${c.name}.weights.h5`), { config: JSON.stringify(c.config) });
  assertClose(noGrad(() => model.forward(asTensor(c.input))), kerasOutput(c.name), 1e-5, 1e-5, c.name);
  assert.deepEqual(model.layerNames, ['gru', 'dense']);
  assert.ok('gru.weight_ih_l0' in model.stateDict());
  await assert.rejects(loadKerasModel(file(`${c.name}.weights.h5`)), /holds no architecture; pass \{ config \}/);
});

test('loadKerasWeights fills modules built by hand, by Keras layer name, with the gate order mapped', async () => {
  const c = cases.find((k) => k.name === 'stacked_lstm')!;
  const first = new nn.LSTM({ inputSize: 2, hiddenSize: 5, batchFirst: true });
  const second = new nn.LSTM({ inputSize: 5, hiddenSize: 3, batchFirst: true });
  const dense = new nn.Linear(3, 2);
  await loadKerasWeights(file(`${c.name}.weights.h5`), { lstm: first, lstm_1: second, dense });
  const [seq] = first.forward(asTensor(c.input));
  const [, [h]] = second.forward(seq);
  const out = noGrad(() => dense.forward(h.reshape([c.input.shape[0]!, 3])).tanh());
  assertClose(out, kerasOutput(c.name), 1e-5, 1e-5, c.name);
  // Keras' kernel [input, 4*units] (gates i, f, c, o) is weight_ih transposed, same gate order.
  const kernel = c.weights['layers/lstm/cell/vars/0']!;
  assert.equal(first.stateDict()['weight_ih_l0']!.data[1 * 2 + 0], Math.fround(kernel.data[0 * 20 + 1]!));
});

test('loadKerasWeights maps GRU gates z, r, h onto r, z, n and checks reset_after against linearBeforeReset', async () => {
  const c = cases.find((k) => k.name === 'gru_reset_after')!;
  const gru = new nn.GRU({ inputSize: 3, hiddenSize: 4, batchFirst: true });
  const dense = new nn.Linear(4, 3);
  await loadKerasWeights(file(`${c.name}.weights.h5`), { gru, dense });
  const [seq] = gru.forward(asTensor(c.input));
  assertClose(noGrad(() => dense.forward(seq)), kerasOutput(c.name), 1e-5, 1e-5, c.name);
  // PyTorch's r block (rows 0..3) is Keras' second block (columns 4..7) of the kernel.
  const kernel = c.weights['layers/gru/cell/vars/0']!;
  assert.equal(gru.stateDict()['weight_ih_l0']!.data[0 * 3 + 0], Math.fround(kernel.data[0 * 12 + 4]!));
  const before = new nn.GRU({ inputSize: 3, hiddenSize: 4, batchFirst: true, linearBeforeReset: false });
  await assert.rejects(loadKerasWeights(file(`${c.name}.weights.h5`), { gru: before, dense }), /reset_after=True, which is the GRU option linearBeforeReset: true; the GRU has linearBeforeReset: false/);
});

test('loadKerasWeights: wrong names, shapes and module kinds are errors that change nothing', async () => {
  const bytes = file('lstm_dense.weights.h5');
  const lstm = new nn.LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true });
  const before = lstm.stateDict()['weight_ih_l0']!.data.slice();
  await assert.rejects(loadKerasWeights(bytes, { lstm, dense: new nn.Linear(4, 5) }), /Keras layer 'dense' is Dense 4 → 2, but the Linear is 4 → 5/);
  assert.deepEqual(lstm.stateDict()['weight_ih_l0']!.data, before);
  await assert.rejects(loadKerasWeights(bytes, { lstm }), /no module given for the file's layer dense/);
  await assert.rejects(loadKerasWeights(bytes, { lstm, dense: new nn.Linear(4, 2), gru: new nn.Linear(1, 1) }), /the file has no layer 'gru' \(its layers with weights: lstm, dense\)|the file has no layer 'gru' \(its layers with weights: dense, lstm\)/);
  await assert.rejects(loadKerasWeights(bytes, { lstm: new nn.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 }), dense: new nn.Linear(4, 2) }), /a Keras recurrent layer is one layer; the LSTM has numLayers 2/);
  await assert.rejects(loadKerasWeights(bytes, { lstm: new nn.GRU({ inputSize: 3, hiddenSize: 4 }), dense: new nn.Linear(4, 2) }), /recurrent_kernel must be \[units, 3\*units\] for GRU, got \[4, 16\]/);
  await assert.rejects(loadKerasWeights(bytes, { lstm: new nn.Tanh(), dense: new nn.Linear(4, 2) }), /cannot load into a Tanh/);
});

/** A .keras zip holding `config` and the weights of `base`. */
function kerasWith(base: string, edit: (config: Case['config']) => void): Uint8Array {
  const c = cases.find((k) => k.name === base)!;
  const config = structuredClone(c.config);
  edit(config);
  return zipSync({ 'config.json': strToU8(JSON.stringify(config)), 'model.weights.h5': file(`${base}.weights.h5`) });
}

test('loadKerasModel: unsupported layers and options are errors naming the layer and the option', async () => {
  const layer = (config: Case['config'], className: string): Record<string, unknown> => config.config.layers.find((l) => l.class_name === className)!.config;
  const cases: [Uint8Array, RegExp][] = [
    [kerasWith('lstm_dense', (c) => { layer(c, 'LSTM')['recurrent_activation'] = 'hard_sigmoid'; }), /layer 1 \(LSTM 'lstm'\): recurrent_activation 'hard_sigmoid' is not supported/],
    [kerasWith('lstm_dense', (c) => { layer(c, 'LSTM')['activation'] = 'relu'; }), /LSTM 'lstm'\): activation 'relu' is not supported for LSTM/],
    [kerasWith('lstm_dense', (c) => { layer(c, 'LSTM')['return_state'] = true; }), /return_state=True is not supported/],
    [kerasWith('lstm_dense', (c) => { layer(c, 'LSTM')['go_backwards'] = true; }), /go_backwards=True is not supported outside a Bidirectional/],
    [kerasWith('lstm_dense', (c) => { layer(c, 'Dense')['activation'] = 'gelu'; }), /Dense 'dense'\): activation 'gelu' is not supported/],
    [kerasWith('lstm_dense', (c) => { c.config.layers.push({ class_name: 'Conv1D', config: { name: 'conv1d' } }); }), /layer 3 \(Conv1D 'conv1d'\): Conv1D layers are not supported/],
    [kerasWith('lstm_dense', (c) => { (c as unknown as Record<string, unknown>)['class_name'] = 'Functional'; }), /the model is a Functional; only Sequential models are supported/],
    [kerasWith('lstm_dense', (c) => { c.config.layers.splice(2, 1); }), /the weights file has layers the config does not list: dense/],
    [kerasWith('lstm_dense', (c) => { layer(c, 'LSTM')['units'] = 9; c.config.layers.splice(1, 1, { class_name: 'GRU', config: { name: 'gru' } }); }), /no variables at layers\/gru\/cell\/vars/],
    [kerasWith('embedding_bidirectional_lstm', (c) => { layer(c, 'Embedding')['mask_zero'] = true; }), /mask_zero=True is not supported/],
    [kerasWith('embedding_bidirectional_lstm', (c) => { layer(c, 'Bidirectional')['merge_mode'] = 'sum'; }), /merge_mode 'sum' is not supported \(only concat\)/],
  ];
  for (const [bytes, pattern] of cases) await assert.rejects(loadKerasModel(bytes), pattern);
});

test('loadKerasModel / loadKerasWeights: damaged files are clear errors, not crashes or giant allocations', async () => {
  const h5 = file('lstm_dense.weights.h5');
  await assert.rejects(loadKerasModel(new Uint8Array([1, 2, 3]), { config: {} }), /not an HDF5 file/);
  await assert.rejects(loadKerasWeights(h5.subarray(0, 2000), {}), /could not open the file \(truncated or damaged\)|could not be read/);
  await assert.rejects(loadKerasModel(zipSync({ 'config.json': strToU8('{}') })), /the .keras archive has no model.weights.h5/);
  await assert.rejects(loadKerasModel(zipSync({ 'config.json': strToU8('{nope'), 'model.weights.h5': h5 })), /config.json is not valid JSON/);
  const keras = file('lstm_dense.keras');
  await assert.rejects(loadKerasModel(keras.subarray(0, keras.length - 200)), /not a readable .keras zip/);
  // A dataset missing from the file.
  await assert.rejects(loadKerasModel(h5, { config: { class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'lstm_9' } }] } } }), /no variables at layers\/lstm\/cell\/vars|layers the config does not list/);
  // Datasets deleted from the file Keras wrote (tools/make_keras_fixtures.py): never a layer built
  // without them, nor variables loaded into the wrong parameters.
  const config = strFromU8(unzipSync(keras)['config.json']!);
  const byHand = () => ({ lstm: new nn.LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true }), dense: new nn.Linear(4, 2) });
  await assert.rejects(loadKerasModel(file('bad_missing_dense_bias.weights.h5'), { config }),
    /layer 2 \(Dense 'dense'\): the config says use_bias=True, but the file has no bias under layers\/dense/);
  await assert.rejects(loadKerasWeights(file('bad_missing_dense_bias.weights.h5'), byHand()), /Keras layer 'dense' is Dense 4 → 2 without bias, but the Linear is 4 → 2 with bias/);
  await assert.rejects(loadKerasModel(file('bad_missing_lstm_bias.weights.h5'), { config }), /\(LSTM 'lstm'\): the config says use_bias=True, but the file has no bias under layers\/lstm/);
  await assert.rejects(loadKerasWeights(file('bad_missing_lstm_bias.weights.h5'), byHand()), /Keras layer 'lstm' is LSTM with input 3, 4 units, no bias, but the LSTM has inputSize 3, hiddenSize 4, bias: true/);
  for (const load of [loadKerasModel(file('bad_missing_lstm_kernel.weights.h5'), { config }), loadKerasWeights(file('bad_missing_lstm_kernel.weights.h5'), byHand())]) {
    await assert.rejects(load, /the dataset layers\/lstm\/cell\/vars\/0 is missing \(the file has vars\/1, vars\/2 under layers\/lstm\/cell\)/);
  }
  // A dataset declaring 100000 × 100000 floats in a small file (chunked, never written).
  await assert.rejects(loadKerasWeights(file('bad_huge_dataset.weights.h5'), { dense: new nn.Linear(1, 1) }), /dataset 'layers\/dense\/vars\/0' declares shape \[100000, 100000\] of 4-byte values, more than the file's \d+ bytes hold/);
});

test('examples/keras-import.ts loads a .keras file through recurrent/keras and trains it', { skip: existsSync(fileURLToPath(new URL('../dist/keras.js', import.meta.url))) ? false : 'dist/ is missing: run `npm run build`' }, () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/keras-import.ts'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 120_000 });
  assert.match(out, /layers: embedding -> bidirectional -> dense/);
  assert.match(out, /output \[2,5,7\]/);
  const [first, last] = /cross-entropy ([\d.]+) -> ([\d.]+)/.exec(out)!.slice(1).map(Number) as [number, number];
  assert.ok(first > 1 && last < 0.1, out);
});

// `recurrent export`: a run folder's model as ONNX (inputs, outputs and numbers checked against the
// run's own model) and as a PyTorch package (its files and the names in them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/ops/index.js';
import { importOnnx } from '../src/interop/index.js';
import { trainedModel } from '../src/cli/export.js';
import { PACKAGE_FILES } from '../src/cli/pytorch-package.js';
import { loadSafetensors } from '../src/io/index.js';
import { noGrad, randn, tensor, Generator } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { runCli } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-export-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const runs = {
  text: ['train', 'text', '--steps', '2', '--hidden', '8', '--seq-len', '8', '--batch', '2', '--cell', 'gru', '--layers', '2'],
  onehot: ['train', 'text', '--steps', '2', '--hidden', '8', '--seq-len', '8', '--batch', '2', '--embedding', '0', '--cell', 'peephole'],
  series: ['train', 'series', '--data', 'sine', '--steps', '2', '--hidden', '6', '--cell', 'rnn', '--bidirectional'],
};

before(async () => {
  for (const [name, args] of Object.entries(runs)) {
    const r = await runCli([...args, '--out', join(TMP, name)]);
    assert.equal(r.code, 0, r.stderr);
  }
});

for (const name of Object.keys(runs)) {
  test(`recurrent export --onnx (${name}): the file runs and gives the run's model's numbers`, async () => {
    const out = join(TMP, `${name}.onnx`);
    const r = await runCli(['export', '--model', join(TMP, name), '--onnx', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*\.onnx \(.* KB, ONNX opset 14\) from .*best\.safetensors/);
    const imported = importOnnx(new Uint8Array(readFileSync(out)));
    const { model } = await trainedModel(join(TMP, name));
    const lstm = model.rnn.layerName === 'LSTM';
    assert.deepEqual(imported.inputNames, lstm ? ['input', 'h0', 'c0'] : ['input', 'h0']);
    assert.deepEqual(imported.outputNames, lstm ? ['output', 'hn', 'cn'] : ['output', 'hn']);
    const steps = 6, batch = 2;
    const dense = model.config.input.kind === 'dense';
    const ids = Int32Array.from({ length: steps * batch }, (_, i) => (i * 5) % 20);
    const x = dense ? randn([steps, batch, 1], { generator: new Generator(1) }) : null;
    const D = model.config.bidirectional ? 2 : 1;
    const h0 = randn([model.config.numLayers * D, batch, model.config.hiddenSize], { generator: new Generator(2) });
    const c0 = randn(h0.shape, { generator: new Generator(3) });
    const state = lstm ? ([h0, c0] as [typeof h0, typeof h0]) : h0;
    const ours = noGrad(() => model.forward({ data: x ? (x.data as Float32Array) : ids, steps, batch }, state));
    const got = imported.run({ input: x ?? tensor(Array.from(ids), [steps, batch]), h0, ...(lstm ? { c0 } : {}) });
    assertClose(got.output!, ours.output, 1e-5, 0, `${name} output`);
    assertClose(got.hn!, Array.isArray(ours.state) ? ours.state[0] : ours.state, 1e-5, 0, `${name} hn`);
  });
}

test('recurrent export without a target, or on a folder that is not a run: one clear line, exit 1', async () => {
  const none = await runCli(['export', '--model', join(TMP, 'text')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^recurrent: error: nothing to write: give --onnx FILE and\/or --pytorch DIR\n$/);
  const missing = await runCli(['export', '--model', join(TMP, 'nope'), '--onnx', join(TMP, 'x.onnx')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--model .*nope: no such folder/);
});

test('recurrent export --pytorch: the package holds the Python sources, the weights under the model\'s own names and the run\'s data', async () => {
  const out = join(TMP, 'pytorch-text');
  const r = await runCli(['export', '--model', join(TMP, 'text'), '--pytorch', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /torchrun --nproc_per_node 2 train\.py/);
  assert.deepEqual(readdirSync(out).sort(), [...PACKAGE_FILES].sort());
  const { model, config } = await trainedModel(join(TMP, 'text'));
  const weights = loadSafetensors(new Uint8Array(readFileSync(join(out, 'weights.safetensors'))));
  const ours = model.stateDict();
  assert.deepEqual(Object.keys(weights).sort(), Object.keys(ours).sort());
  assert.ok(Object.keys(weights).includes('rnn.weight_hh_l1') && Object.keys(weights).includes('embedding.weight'));
  for (const [name, t] of Object.entries(ours)) assert.deepEqual(Array.from(weights[name]!.data), Array.from(t.data), name);
  const modelConfig = JSON.parse(readFileSync(join(out, 'model_config.json'), 'utf8'));
  assert.deepEqual(modelConfig, JSON.parse(JSON.stringify(model.config)));
  const modelPy = readFileSync(join(out, 'model.py'), 'utf8');
  // The attribute names that make PyTorch's state_dict keys equal ours.
  for (const attribute of ['self.embedding = ', 'self.rnn = nn.GRU(', 'self.rnn = PeepholeLSTM(', 'self.head = nn.Linear(', 'def load_weights(']) assert.ok(modelPy.includes(attribute), attribute);
  for (const gate of ['weight_ci', 'weight_cf', 'weight_co']) assert.ok(modelPy.includes(`"${gate}"`), gate);
  const trainPy = readFileSync(join(out, 'train.py'), 'utf8');
  for (const part of ['DistributedDataParallel(model)', 'dist.init_process_group(backend)', '"format": "recurrent-checkpoint"', 'task.train_loss(parallel, state)']) assert.ok(trainPy.includes(part), part);
  const tasksPy = readFileSync(join(out, 'tasks.py'), 'utf8');
  for (const part of ['class TextTask', 'class SeriesTask', 'class MusicTask', 'class DenoiseTask', 'TASKS = {"text": TextTask, "series": SeriesTask, "music": MusicTask, "denoise": DenoiseTask}']) assert.ok(tasksPy.includes(part), part);
  const data = loadSafetensors(new Uint8Array(readFileSync(join(out, 'data.safetensors'))));
  const summary = config.summary as { characters: number; splitIndex: number; testIndex: number };
  assert.ok(summary.testIndex < summary.characters, 'the run holds out a test part');
  assert.equal(data.train_ids!.shape[0], summary.splitIndex);
  // Validation only: the test part is not the package's to see.
  assert.equal(data.val_ids!.shape[0], summary.testIndex - summary.splitIndex);
});

test('recurrent export --pytorch for series, music and denoise runs: the recipe\'s own prepared data and split', async () => {
  const out = join(TMP, 'pytorch-series');
  const r = await runCli(['export', '--model', join(TMP, 'series'), '--pytorch', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /torchrun --nproc_per_node 2 train\.py --steps 100 --out RUN; then recurrent eval series --model RUN/);
  assert.deepEqual(readdirSync(out).sort(), [...PACKAGE_FILES].sort());
  const { config } = await trainedModel(join(TMP, 'series'));
  const summary = config.summary as { length: number; splitIndex: number; testIndex: number; target: string };
  const bytes = new Uint8Array(readFileSync(join(out, 'data.safetensors')));
  const data = loadSafetensors(bytes);
  assert.deepEqual(data.z!.shape, [summary.length]);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))))).__metadata__;
  assert.equal(Number(meta.splitIndex), summary.splitIndex);
  assert.equal(Number(meta.testIndex), summary.testIndex);
  assert.equal(meta.target, summary.target);
  for (const [name, args, keys] of [
    ['music', ['train', 'music', '--steps', '2', '--hidden', '8', '--seq-len', '16', '--batch', '2'], ['ids']],
    ['denoise', ['train', 'denoise', '--steps', '2', '--hidden', '8', '--seq-len', '16', '--batch', '2'], ['val_clean', 'val_noisy']],
  ] as const) {
    const run = join(TMP, name);
    assert.equal((await runCli([...args, '--out', run])).code, 0);
    const pkg = join(TMP, `pytorch-${name}`);
    const e = await runCli(['export', '--model', run, '--pytorch', pkg]);
    assert.equal(e.code, 0, e.stderr);
    const exported = loadSafetensors(new Uint8Array(readFileSync(join(pkg, 'data.safetensors'))));
    assert.deepEqual(Object.keys(exported).sort(), [...keys].sort(), name);
    if (name === 'denoise') assert.deepEqual(exported.val_clean!.shape, exported.val_noisy!.shape);
  }
});

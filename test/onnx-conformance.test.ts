// ONNX's backend node tests for RNN, LSTM and GRU (test/fixtures/onnx-node, see its README) through
// importOnnx, on every kernel backend: each output equals ONNX's reference output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../src/ops/index.js';
import { importOnnx, readOnnxTensor } from '../src/interop/index.js';
import { backends, onBackend } from './helpers/backends.js';
import { assertClose } from './helpers/close.js';
import { kernelCalls } from './helpers/kernel-calls.js';

const ROOT = fileURLToPath(new URL('./fixtures/onnx-node/', import.meta.url));
const cases = readdirSync(ROOT).filter((name) => name.startsWith('test_'));

test('the ONNX node tests for every recurrent operator are here', () => {
  assert.deepEqual(cases.map((c) => c.split('_')[1]).filter((v, i, a) => a.indexOf(v) === i).sort(), ['gru', 'lstm', 'rnn', 'simple']);
  assert.ok(cases.length >= 12, `${cases.length} cases`);
});

for (const backend of backends) for (const name of cases) {
  test(`ONNX node test ${name} (${backend} backend)`, onBackend(backend, () => {
    const model = importOnnx(new Uint8Array(readFileSync(`${ROOT}/${name}/model.onnx`)));
    const dir = `${ROOT}/${name}/test_data_set_0`;
    const files = readdirSync(dir);
    const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).sort((a, b) => parseInt(a.slice(prefix.length)) - parseInt(b.slice(prefix.length)))
      .map((f) => readOnnxTensor(new Uint8Array(readFileSync(`${dir}/${f}`))));
    const inputs = read('input_'), expected = read('output_');
    assert.equal(inputs.length, model.inputNames.length, 'one .pb per graph input');
    assert.equal(expected.length, model.outputNames.length, 'one .pb per graph output');
    let got: ReturnType<typeof model.run> = {};
    const fusedSteps = kernelCalls('float32', 'gruResetBeforeGates', () => (got = model.run(Object.fromEntries(model.inputNames.map((n, i) => [n, inputs[i]!])))));
    // ONNX's GRU tests use its default linear_before_reset = 0, which runs on the fused kernels.
    if (name.startsWith('test_gru_')) assert.ok(fusedSteps > 0, `${name} ran on the fused kernels`);
    model.outputNames.forEach((n, i) => assertClose(got[n]!, expected[i]!, 1e-5, 1e-5, `${name} ${n}`));
  }));
}

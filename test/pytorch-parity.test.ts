// Parity with PyTorch 1.13: fixtures written by tools/make_fixtures.py (see test/fixtures/README.md).
// Each case loads PyTorch's weights by name, runs forward from the stored states, backpropagates
// sum(output·g_out) + sum(hn·g_hn) [+ sum(cn·g_cn)], and compares outputs, states and every gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../src/ops/index.js';
import { onProvider, providers } from './helpers/backends.js';
import { getBackendInfo } from '../src/kernels/index.js';
import { readSafetensorsMetadata } from '../src/io/index.js';
import { nn, type Tensor } from './helpers/api.js';
import { assertClose } from './helpers/close.js';
import { loadFixtureTensors } from './helpers/fixtures.js';

const fixture = (name: string): { tensors: Record<string, Tensor>; meta: Record<string, string> } => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}.safetensors`, import.meta.url))));
  return { tensors: loadFixtureTensors(bytes), meta: readSafetensorsMetadata(bytes) };
};

const layerCases = [
  'rnn_tanh', 'rnn_relu', 'rnn_2layer', 'rnn_bidirectional', 'rnn_batch_first',
  'lstm_1layer', 'lstm_2layer', 'lstm_bidirectional', 'lstm_proj', 'lstm_nobias', 'lstm_batch_first',
  'gru_1layer', 'gru_2layer', 'gru_bidirectional', 'lstm_200steps', 'gru_200steps',
  // Batches of 12: per-step products wide enough for the native BLAS where it is built.
  'rnn_batch12', 'lstm_batch12', 'gru_batch12',
];

function paramsOf(tensors: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v]));
}

// test/relaxed-simd.test.ts runs this file on the relaxed-SIMD build, and says so.
test('the kernels are the build the caller expects', () => {
  if (process.env['RECURRENT_EXPECT_RELAXED_SIMD'] === '1') assert.equal(getBackendInfo().relaxedSimd, true);
  else assert.equal(typeof getBackendInfo().relaxedSimd, 'boolean');
});

// The same cases run on every GEMM provider present (the TypeScript reference, WebAssembly, and
// WebAssembly with the system BLAS under its large products where the native addon was built).

for (const provider of providers) for (const name of layerCases) {
  test(`PyTorch parity (${provider}): ${name}`, onProvider(provider, () => {
    const { tensors: f, meta } = fixture(name);
    const options = JSON.parse(meta.options!);
    const module = meta.module === 'LSTM' ? new nn.LSTM(options) : meta.module === 'GRU' ? new nn.GRU(options) : new nn.RNN(options);
    module.loadStateDict(paramsOf(f));
    const x = f['input.x']!.clone(), h0 = f['input.h0']!.clone();
    x.requiresGrad = true;
    h0.requiresGrad = true;
    const gradAtol = name.includes('200') ? 1e-4 : 2e-5;
    let loss: Tensor;
    let c0: Tensor | null = null;
    if (module instanceof nn.LSTM) {
      c0 = f['input.c0']!.clone();
      c0.requiresGrad = true;
      const [out, [hn, cn]] = module.forward(x, [h0, c0]);
      assertClose(out, f['expected.output']!, 1e-5, 1e-4, 'output');
      assertClose(hn, f['expected.hn']!, 1e-5, 1e-4, 'hn');
      assertClose(cn, f['expected.cn']!, 1e-5, 1e-4, 'cn');
      loss = out.mul(f['cotangent.output']!).sum().add(hn.mul(f['cotangent.hn']!).sum()).add(cn.mul(f['cotangent.cn']!).sum());
    } else {
      const [out, hn] = (module as InstanceType<typeof nn.GRU>).forward(x, h0);
      assertClose(out, f['expected.output']!, 1e-5, 1e-4, 'output');
      assertClose(hn, f['expected.hn']!, 1e-5, 1e-4, 'hn');
      loss = out.mul(f['cotangent.output']!).sum().add(hn.mul(f['cotangent.hn']!).sum());
    }
    loss.backward();
    assertClose(x.grad!, f['grad.x']!, gradAtol, 1e-3, 'grad.x');
    assertClose(h0.grad!, f['grad.h0']!, gradAtol, 1e-3, 'grad.h0');
    if (c0) assertClose(c0.grad!, f['grad.c0']!, gradAtol, 1e-3, 'grad.c0');
    let checked = 0;
    for (const [pname, p] of module.namedParameters()) {
      assertClose(p.grad!, f[`grad.${pname}`]!, gradAtol, 1e-3, `grad.${pname}`);
      checked++;
    }
    assert.equal(checked, Object.keys(paramsOf(f)).length);
  }));
}

for (const provider of providers) for (const name of ['rnncell_tanh', 'lstmcell', 'grucell']) {
  test(`PyTorch parity (${provider}): ${name}`, onProvider(provider, () => {
    const { tensors: f, meta } = fixture(name);
    const o = JSON.parse(meta.options!);
    const x = f['input.x']!.clone(), h0 = f['input.h0']!.clone();
    x.requiresGrad = true;
    h0.requiresGrad = true;
    let loss: Tensor;
    let cell: nn.Module;
    if (meta.module === 'LSTMCell') {
      const lstm = new nn.LSTMCell(o.inputSize, o.hiddenSize, { bias: o.bias });
      lstm.loadStateDict(paramsOf(f));
      const [h, c] = lstm.forward(x, [h0, f['input.c0']!]);
      assertClose(h, f['expected.h']!, 1e-5, 1e-4, 'h');
      assertClose(c, f['expected.c']!, 1e-5, 1e-4, 'c');
      loss = h.mul(f['cotangent.h']!).sum().add(c.mul(f['cotangent.c']!).sum());
      cell = lstm;
    } else {
      const c = meta.module === 'GRUCell' ? new nn.GRUCell(o.inputSize, o.hiddenSize, { bias: o.bias }) : new nn.RNNCell(o.inputSize, o.hiddenSize, { bias: o.bias, nonlinearity: o.nonlinearity });
      c.loadStateDict(paramsOf(f));
      const h = c.forward(x, h0);
      assertClose(h, f['expected.h']!, 1e-5, 1e-4, 'h');
      loss = h.mul(f['cotangent.h']!).sum();
      cell = c;
    }
    loss.backward();
    assertClose(x.grad!, f['grad.x']!, 2e-5, 1e-3, 'grad.x');
    assertClose(h0.grad!, f['grad.h0']!, 2e-5, 1e-3, 'grad.h0');
    for (const [pname, p] of cell.namedParameters()) assertClose(p.grad!, f[`grad.${pname}`]!, 2e-5, 1e-3, `grad.${pname}`);
  }));
}

test('a PyTorch state_dict (Embedding + 2-layer LSTM + Linear) loads by name and gives PyTorch\'s logits', () => {
  class CharModel extends nn.Module {
    embed = this.registerModule('embed', new nn.Embedding(10, 4));
    lstm = this.registerModule('lstm', new nn.LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2 }));
    head = this.registerModule('head', new nn.Linear(6, 10));
    forward(tokens: Tensor): Tensor {
      return this.head.forward(this.lstm.forward(this.embed.forward(tokens))[0]);
    }
  }
  const model = new CharModel();
  model.loadStateDict(fixture('char_model').tensors);
  const io = fixture('char_model_io').tensors;
  assertClose(model.forward(io['input.tokens']!), io['expected.logits']!, 1e-5, 1e-4, 'logits');
});

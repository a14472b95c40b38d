// Gradient checkpointing (checkpointEvery): the same outputs and gradients as the plain path, bit for
// bit, for every cell kind, layer count, direction and backend; a finite-difference check; the
// refusals; and a long sequence trained in bounded WebAssembly memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { Generator, gradcheck, noGrad, randn, Tensor } from '../src/tensor/index.js';
import '../src/ops/index.js';
import { GRU, LSTM, RNN } from '../src/nn/index.js';
import { packSequence } from '../src/nn/recurrent/packed.js';
import { kernelsFor, type DType } from '../src/kernels/index.js';
import type { WasmKernels } from '../src/kernels/wasm/index.js';
import { CHUNK_ROWS, chunkSteps } from '../src/nn/recurrent/fused.js';
import { onProvider, providers, type Provider } from './helpers/backends.js';
import { SGD } from '../src/optim/index.js';

type Layer = RNN | LSTM | GRU;
interface Config { name: string; make: (extra: { checkpointEvery?: number; dtype: DType; generator: Generator }) => Layer }

const common = { inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true };
const configs: Config[] = [
  { name: 'RNN tanh, 2 layers', make: (o) => new RNN({ ...common, ...o }) },
  { name: 'RNN relu, 2 layers', make: (o) => new RNN({ ...common, nonlinearity: 'relu', ...o }) },
  { name: 'LSTM, 2 layers', make: (o) => new LSTM({ ...common, ...o }) },
  { name: 'LSTM peephole, 2 layers', make: (o) => new LSTM({ ...common, peephole: true, ...o }) },
  { name: 'LSTM projSize, 2 layers', make: (o) => new LSTM({ ...common, projSize: 3, ...o }) },
  { name: 'GRU, 2 layers', make: (o) => new GRU({ ...common, ...o }) },
  { name: 'GRU no bias, 1 layer', make: (o) => new GRU({ ...common, numLayers: 1, bias: false, ...o }) },
];

/** Whether two arrays hold the same bits (NaN payloads and signed zeros included). */
function sameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

interface Run { values: (Float32Array | Float64Array)[]; grads: Map<string, Float32Array | Float64Array> }

/** Forward and backward of a weighted sum of every output, returning the outputs and all gradients. */
function runLayer(layer: Layer, x: Tensor, h0: Tensor, c0: Tensor | null, cot: Tensor[]): Run {
  const out = layer instanceof LSTM ? layer.forward(x, [h0, c0!]) : (layer as GRU).forward(x, h0);
  const h = Array.isArray(out[1]) ? out[1][0] : out[1];
  const c = Array.isArray(out[1]) ? out[1][1] : null;
  let loss = out[0].mul(cot[0]!).sum().add(h.mul(cot[1]!).sum());
  if (c) loss = loss.add(c.mul(cot[2]!).sum());
  loss.backward();
  const grads = new Map<string, Float32Array | Float64Array>();
  for (const [name, p] of layer.namedParameters()) grads.set(name, p.grad!.data.slice());
  grads.set('x', x.grad!.data.slice());
  grads.set('h0', h0.grad!.data.slice());
  if (c0) grads.set('c0', c0.grad!.data.slice());
  return { values: [out[0], h, ...(c ? [c] : [])].map((t) => t.data.slice()), grads };
}

function compare(config: Config, dtype: DType, T: number, B: number, everyValues: number[], oneHot = false): void {
  const gen = new Generator(11);
  const layerSize = (l: Layer): { P: number; H: number; D: number; LD: number } => ({ P: l.outputSize, H: l.hiddenSize, D: l.bidirectional ? 2 : 1, LD: l.numLayers * (l.bidirectional ? 2 : 1) });
  const plain = config.make({ dtype, generator: new Generator(3) });
  const { P, H, D, LD } = layerSize(plain);
  let x: Tensor;
  if (oneHot) {
    const data = new (dtype === 'float32' ? Float32Array : Float64Array)(T * B * 4);
    for (let r = 0; r < T * B; r++) data[r * 4 + ((r * 7) % 5) % 4] = r % 9 === 0 ? 0 : 1;
    x = new Tensor(data, [T, B, 4], { requiresGrad: true });
  } else x = randn([T, B, 4], { dtype, generator: gen, requiresGrad: true });
  const h0 = randn([LD, B, P], { dtype, generator: gen, std: 0.5, requiresGrad: true });
  const c0 = plain instanceof LSTM ? randn([LD, B, H], { dtype, generator: gen, std: 0.5, requiresGrad: true }) : null;
  const cot = [randn([T, B, D * P], { dtype, generator: gen }), randn([LD, B, P], { dtype, generator: gen }), randn([LD, B, H], { dtype, generator: gen })];
  const reset = (): void => { for (const t of [x, h0, c0]) if (t) t.grad = null; };
  const want = runLayer(plain, x, h0, c0, cot);
  for (const every of everyValues) {
    reset();
    const got = runLayer(config.make({ dtype, generator: new Generator(3), checkpointEvery: every }), x, h0, c0, cot);
    got.values.forEach((v, i) => assert.ok(sameBits(v, want.values[i]!), `${config.name} ${dtype} T=${T} every=${every}: output ${i} differs`));
    for (const [name, g] of want.grads) assert.ok(sameBits(got.grads.get(name)!, g), `${config.name} ${dtype} T=${T} every=${every}: gradient of ${name} differs`);
  }
}

// Float32 on every GEMM provider (TypeScript, wasm, wasm with the system BLAS under its large
// products); float64 runs on the TypeScript kernels only.
const runs: { label: string; dtype: DType; provider: Provider }[] = [
  ...providers.map((provider) => ({ label: `${provider} float32`, dtype: 'float32' as const, provider })),
  { label: 'js float64', dtype: 'float64', provider: 'js' },
];
const wasmProvider: Provider = providers.includes('wasm+blas') ? 'wasm+blas' : providers.at(-1)!;

for (const { label, dtype, provider } of runs) {
  for (const config of configs) {
    test(`checkpointEvery: ${config.name}, bidirectional, on ${label} gives the plain path's outputs and gradients bit for bit`, () => {
      // 1 (every state), dividing T, not dividing T, T - 1.
      onProvider(provider, () => compare(config, dtype, 12, 3, [1, 3, 5, 11]))();
    });
  }
  test(`checkpointEvery: one-hot inputs on ${label}, bit for bit`, () => {
    onProvider(provider, () => {
      compare(configs[2]!, dtype, 10, 2, [3, 4], true);
      compare(configs[5]!, dtype, 10, 2, [3, 4], true);
    })();
  });
}

test(`checkpointEvery: several row chunks (T·batch above CHUNK_ROWS), segments across chunk edges, bit for bit on ${wasmProvider}`, () => {
  const B = 2, T = Math.floor(CHUNK_ROWS / B) + 37;
  const small = (o: { checkpointEvery?: number; dtype: DType; generator: Generator }): Layer => new GRU({ inputSize: 4, hiddenSize: 3, bidirectional: true, ...o });
  const smallLstm = (o: { checkpointEvery?: number; dtype: DType; generator: Generator }): Layer => new LSTM({ inputSize: 4, hiddenSize: 3, projSize: 2, ...o });
  onProvider(wasmProvider, () => {
    compare({ name: 'GRU', make: small }, 'float32', T, B, [97, 1500, T - 1]);
    compare({ name: 'LSTM projSize', make: smallLstm }, 'float32', T, B, [301]);
  })();
});

test('checkpointEvery: finite-difference gradients through a checkpointed LSTM and GRU (float64)', () => {
  const gen = new Generator(5);
  const r = (shape: number[]): Tensor => randn(shape, { dtype: 'float64', generator: gen, std: 0.5, requiresGrad: true });
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 3, peephole: true, checkpointEvery: 2, dtype: 'float64', generator: new Generator(1) });
  assert.equal(gradcheck((xx, hh, cc) => lstm.forward(xx!, [hh!, cc!])[0].tanh(), [r([5, 2, 3]), r([1, 2, 3]), r([1, 2, 3])]), true);
  const x = r([5, 2, 3]);
  assert.equal(gradcheck(() => lstm.forward(x)[0].sum(), lstm.parameters()), true);
  const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, checkpointEvery: 3, dtype: 'float64', generator: new Generator(2) });
  assert.equal(gradcheck((xx, hh) => gru.forward(xx!, hh!)[0], [r([7, 2, 2]), r([2, 2, 3])]), true);
});

test('checkpointEvery: bad values and unsupported inputs are refused with a message', () => {
  for (const bad of [0, -2, 1.5, Number.NaN, '4' as unknown as number]) {
    assert.throws(() => new GRU({ inputSize: 2, hiddenSize: 3, checkpointEvery: bad }), /GRU: checkpointEvery must be a positive integer, got/);
  }
  assert.throws(() => new GRU({ inputSize: 2, hiddenSize: 3, checkpointEvery: 4, linearBeforeReset: false }), /checkpointEvery needs linearBeforeReset: true .*; use linearBeforeReset: true \(PyTorch's GRU\) or leave checkpointEvery unset$/);
  const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, checkpointEvery: 2 });
  const packed = packSequence([randn([5, 2]), randn([3, 2])]);
  assert.throws(() => lstm.forward(packed), /LSTM: checkpointEvery \(2\) does not support packed sequences \(5 steps\)/);
  // At least as long as the sequence: the plain path, packed sequences included.
  const long = new LSTM({ inputSize: 2, hiddenSize: 3, checkpointEvery: 5 });
  assert.equal(long.forward(packed)[0].data.shape[0], 8);
});

const wasm = kernelsFor('float32').name === 'wasm' ? (kernelsFor('float32') as WasmKernels) : null;

test('checkpointEvery: a 200,000-step GRU trains a step in bounded WebAssembly memory, with the plain path\'s gradients', { skip: wasm ? false : 'the WebAssembly backend is not available here' }, () => {
  const heap = wasm!.heap;
  const [T, B, I, H, every] = [200_000, 1, 1, 8, 500];
  const make = (checkpointEvery?: number): GRU => new GRU({ inputSize: I, hiddenSize: H, generator: new Generator(1), checkpointEvery });
  const x = randn([T, B, I], { generator: new Generator(2) });
  const step = (gru: GRU): { loss: number; grads: Float32Array[] } => {
    const opt = new SGD(gru.parameters(), { lr: 0.01 });
    const [out] = gru.forward(x);
    const loss = out.mul(out).mean();
    loss.backward();
    const grads = gru.parameters().map((p) => p.grad!.data.slice() as Float32Array);
    opt.step();
    return { loss: loss.item(), grads };
  };
  // What may stay in kernel memory at once (float32): the T/k checkpoints, and during the backward one
  // segment (gates, gh, states, output gradient) plus one chunk (gate gradients, inputs, previous
  // states, input gradient, projections); counted generously as 8H + I floats per row of each.
  const C = chunkSteps(B);
  const bound = 4 * ((Math.ceil(T / every) + 1) * B * H + 2 * (every + 1 + 2 * C) * B * (8 * H + I)) + 2 ** 20;
  // The plain path saves x, gates, gh and states for every step: the bound must be far below that.
  const plainSaved = 4 * T * B * (I + 3 * H + 3 * H + H);
  assert.ok(bound * 4 < plainSaved, `the bound (${bound} bytes) is not far below the plain path's saved activations (${plainSaved})`);
  const checkpointed = make(every);
  const start = heap.used;
  heap.resetPeak();
  const got = step(checkpointed);
  const rise = heap.peak - start;
  assert.ok(rise <= bound, `checkpointed: the heap's top rose ${(rise / 2 ** 20).toFixed(2)} MiB, bound ${(bound / 2 ** 20).toFixed(2)} MiB`);
  assert.ok(Number.isFinite(got.loss) && got.grads.every((g) => g.every(Number.isFinite)), 'finite loss and gradients');
  checkpointed.dispose();
  // The plain path at the same length: the same loss and gradients, bit for bit.
  const plain = make();
  const want = step(plain);
  plain.dispose();
  assert.equal(got.loss, want.loss);
  got.grads.forEach((g, i) => assert.ok(sameBits(g, want.grads[i]!), `gradient ${i} differs from the plain path's`));
});

test('recurrent train --checkpoint-every: saved in the run config, and the run trains to the plain run\'s losses exactly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recurrent-ckpt-'));
  try {
    const common = ['train', 'series', '--data', 'sine', '--cell', 'gru', '--hidden', '8', '--seq-len', '40', '--batch', '4', '--steps', '6', '--val-every', '3', '--json'];
    const plain = await runCli([...common, '--out', join(dir, 'plain')]);
    assert.equal(plain.code, 0, plain.stderr);
    const checkpointed = await runCli([...common, '--checkpoint-every', '7', '--out', join(dir, 'ckpt')]);
    assert.equal(checkpointed.code, 0, checkpointed.stderr);
    const config = JSON.parse(readFileSync(join(dir, 'ckpt', 'config.json'), 'utf8'));
    assert.equal(config.model.checkpointEvery, 7);
    assert.equal(JSON.parse(readFileSync(join(dir, 'plain', 'config.json'), 'utf8')).model.checkpointEvery, undefined);
    // Every loss in the progress lines, in order: the same numbers (timings left out).
    const losses = (run: { stdout: string }): unknown[] => run.stdout.trim().split('\n').map((line) => JSON.parse(line))
      .filter((e) => 'loss' in e || 'valLoss' in e).map((e) => [e.step, e.loss, e.valLoss]);
    assert.ok(losses(plain).length >= 2, `progress lines with losses: ${plain.stdout}`);
    assert.deepEqual(losses(checkpointed), losses(plain));
    const bad = await runCli([...common, '--checkpoint-every', '0', '--out', join(dir, 'bad')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--checkpoint-every/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpointEvery: under noGrad the same outputs; a retained graph backpropagates twice like the plain path', () => {
  const make = (checkpointEvery?: number): LSTM => new LSTM({ inputSize: 3, hiddenSize: 4, generator: new Generator(8), checkpointEvery });
  const x = randn([9, 2, 3], { generator: new Generator(9) });
  const plain = make(), checkpointed = make(4);
  const [a] = noGrad(() => plain.forward(x));
  const [b] = noGrad(() => checkpointed.forward(x));
  assert.equal(b.requiresGrad, false);
  assert.ok(sameBits(a.data, b.data), 'noGrad outputs differ');
  const twice = (layer: LSTM): Float32Array[] => {
    const [out] = layer.forward(x);
    const loss = out.mul(out).sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    return layer.parameters().map((p) => p.grad!.data.slice() as Float32Array);
  };
  const want = twice(plain), got = twice(checkpointed);
  got.forEach((g, i) => assert.ok(sameBits(g, want[i]!), `parameter ${i}: gradients after two backward passes differ`));
});

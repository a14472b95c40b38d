// The native GEMM provider (native/blas.c over the system BLAS, src/kernels/native/): loading and its
// absence, products in place on WebAssembly memory against the TypeScript reference, memory growth
// between calls, bits independent of the BLAS thread count (k summed in blocks), which products a
// layer hands it, and dgemm under the float64 path.
// The parity suite (pytorch-parity.test.ts) runs on it too, as provider 'wasm+blas'.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsKernels } from '../src/kernels/js/index.js';
import { getBackendInfo, kernelsFor, setNativeBlas } from '../src/kernels/index.js';
import { float64KernelsOver } from '../src/kernels/native/float64.js';
import { loadNativeBlas, parseBlasVariable, type NativeBlasAddon } from '../src/kernels/native/addon.js';
import { K_BLOCK, NativeGemm, sgemmThreadsAgree } from '../src/kernels/native/gemm.js';
import { loadWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/index.js';
import { Generator, gradcheck, nn, noGrad, optim, randn, tensor } from './helpers/api.js';
import { lastJsonLine, runNodeScript, TSX } from './helpers/node-script.js';

const loaded = loadNativeBlas('auto');
const addon = loaded.addon;
const skipWithout = addon ? false : `the native BLAS addon is absent here (${loaded.reason})`;

/** The addon with sgemm and dgemm reporting each call's shape first (its own functions are read-only). */
function recording(shapes: string[]): NativeBlasAddon {
  const native = addon!;
  return {
    sgemm: (memory, transA, transB, m, n, k, ...rest) => {
      shapes.push(`${+transA}${+transB}:${m}x${n}x${k}`);
      native.sgemm(memory, transA, transB, m, n, k, ...rest);
    },
    dgemm: (transA, transB, m, n, k, ...rest) => {
      shapes.push(`f64 ${+transA}${+transB}:${m}x${n}x${k}`);
      native.dgemm(transA, transB, m, n, k, ...rest);
    },
    setThreads: (threads) => native.setThreads(threads),
    describe: () => native.describe(),
    peakLoop: (iterations, seed) => native.peakLoop(iterations, seed),
  };
}

function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

/** The largest |got - want| over the arrays. */
function maxDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

test('RECURRENT_BLAS is read as on, off or auto, and anything else is named in the error', () => {
  assert.deepEqual(parseBlasVariable(undefined), { mode: 'auto' });
  assert.deepEqual(parseBlasVariable(' ON '), { mode: 'on' });
  assert.deepEqual(parseBlasVariable('off'), { mode: 'off' });
  const bad = parseBlasVariable('yes');
  assert.ok('error' in bad && bad.error.includes('"yes"'), JSON.stringify(bad));
});

test('an absent addon is no provider under auto, and an error that says why under on', () => {
  const missing = new URL('./no-such-dir/recurrent_blas.node', import.meta.url);
  const auto = loadNativeBlas('auto', missing);
  assert.equal(auto.addon, null);
  assert.match(auto.reason!, /not built .*no-such-dir/);
  assert.throws(() => loadNativeBlas('on', missing), /RECURRENT_BLAS=on but the native BLAS cannot be used: the addon was not built/);
  assert.deepEqual(loadNativeBlas('off', missing), { addon: null, reason: 'RECURRENT_BLAS=off' });
});

test('with RECURRENT_BLAS=off every product runs on the wasm kernels and training still matches the reference', async () => {
  const script = `
    import { getBackendInfo, manualSeed, nn, tensor, setBackend } from './src/index.ts';
    const run = () => {
      manualSeed(3);
      const lstm = new nn.LSTM({ inputSize: 5, hiddenSize: 7 });
      const x = tensor(Array.from({ length: 12 * 4 * 5 }, (_, i) => Math.sin(i)), [12, 4, 5]);
      const [out] = lstm.forward(x);
      out.sum().backward();
      return [...out.data.slice(0, 5), ...lstm.parameters()[0].grad.data.slice(0, 5)];
    };
    const info = getBackendInfo();
    const wasm = run();
    setBackend('js');
    const js = run();
    console.log(JSON.stringify({ info, difference: Math.max(...wasm.map((v, i) => Math.abs(v - js[i]))) }));
  `;
  const result = lastJsonLine<{ info: { gemm: string; blas: string }; difference: number }>(
    await runNodeScript([...TSX, '--input-type=module', '-e', script], 60_000, { RECURRENT_BLAS: 'off' }), 'RECURRENT_BLAS=off',
  );
  assert.equal(result.info.gemm, 'wasm');
  assert.equal(result.info.blas, 'RECURRENT_BLAS=off');
  assert.ok(result.difference < 1e-4, `wasm against js: ${result.difference}`);
});

test('RECURRENT_BLAS=on uses the addon, and getBackendInfo() names the library', { skip: skipWithout }, async () => {
  const script = "import { getBackendInfo } from './src/index.ts'; console.log(JSON.stringify(getBackendInfo()));";
  const info = lastJsonLine<{ gemm: string; blas: string }>(
    await runNodeScript([...TSX, '--input-type=module', '-e', script], 60_000, { RECURRENT_BLAS: 'on' }), 'RECURRENT_BLAS=on',
  );
  assert.equal(info.gemm, 'native');
  assert.equal(info.blas, new NativeGemm(addon!, 8).library);
  assert.ok(info.blas.startsWith(addon!.describe()), info.blas);
});

/** C = alpha op(A) op(B) + beta C on `kernels` (native under it) and on the reference, with A, B, C
 * allocated in kernel memory at the given strides; returns the largest difference. */
function compareProduct(kernels: WasmKernels, transA: boolean, transB: boolean, m: number, n: number, k: number, beta: number, seed: number): number {
  const lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 2;
  const aLength = (transA ? k : m) * lda, bLength = (transB ? n : k) * ldb, cLength = m * ldc;
  const a = seeded(aLength, seed), b = seeded(bLength, seed + 1), c = seeded(cLength, seed + 2);
  // beta = 0 must ignore C, NaN included, as BLAS does.
  if (beta === 0) c.fill(NaN);
  const want = c.slice();
  if (beta === 0) for (let i = 0; i < m; i++) want.fill(0, i * ldc, i * ldc + n);
  jsKernels.gemm(transA, transB, m, n, k, 0.75, a, 0, lda, b, 0, ldb, beta, want, 0, ldc);
  const [ka, kb, kc] = [a, b, c].map((x) => {
    const buffer = kernels.allocate(x.length, 'float32');
    buffer.view().set(x);
    return buffer;
  });
  kernels.gemm(transA, transB, m, n, k, 0.75, ka!.view(), 0, lda, kb!.view(), 0, ldb, beta, kc!.view(), 0, ldc);
  const got = (kc!.view() as Float32Array).slice();
  for (const x of [ka!, kb!, kc!]) kernels.release(x);
  // The padding between rows of C is left as it was.
  for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) assert.ok(Object.is(got[i * ldc + j], want[i * ldc + j]), `padding at ${i}, ${j}`);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    const row = (x: Float32Array): Float32Array => x.subarray(i * ldc, i * ldc + n);
    worst = Math.max(worst, maxDifference(row(got), row(want)));
  }
  return worst;
}

test('the native provider computes every transpose case in place on shared and on plain wasm memory', { skip: skipWithout }, () => {
  for (const shared of [true, false]) {
    const kernels = loadWasmKernelsSync(shared);
    const calls: string[] = [];
    kernels.nativeGemm = new NativeGemm(recording(calls), kernels.exports.gemmSmallRows());
    let seed = 1;
    for (const [m, n, k] of [[9, 17, 33], [65, 3, 130], [200, 70, 1]]) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const beta of [0, 0.5]) {
        const difference = compareProduct(kernels, transA, transB, m!, n!, k!, beta, seed++);
        assert.ok(difference < 1e-5 * Math.sqrt(k!) * 4, `${shared ? 'shared' : 'plain'} ${+transA}${+transB} ${m}x${n}x${k} beta ${beta}: ${difference}`);
      }
    }
    assert.equal(calls.length, 24, 'every product above takes the native path');
  }
});

test('the addon re-reads the memory on every call: products after the memory grew are right', { skip: skipWithout }, () => {
  for (const shared of [true, false]) {
    const kernels = loadWasmKernelsSync(shared);
    kernels.nativeGemm = new NativeGemm(addon!, kernels.exports.gemmSmallRows());
    const before = kernels.heap.buffer.byteLength;
    // Every allocation grows the memory, so each product runs on a memory larger than the last one's.
    kernels.heap.growOnEveryAlloc = true;
    for (let round = 0; round < 3; round++) {
      const difference = compareProduct(kernels, false, true, 40, 24, 16, 1, 10 + round);
      assert.ok(difference < 1e-5, `round ${round}: ${difference}`);
      // A large block far above the operands: the next product's operands lie beyond this memory's old end.
      kernels.allocate(1 << 20, 'float32');
    }
    assert.ok(kernels.heap.buffer.byteLength > before + 3 * (4 << 20), 'the memory grew between the products');
  }
});

test('the addon refuses operands outside the memory with a RangeError instead of reading past it', { skip: skipWithout }, () => {
  const memory = new Float32Array(64);
  assert.throws(() => addon!.sgemm(memory, false, false, 4, 4, 4, 1, 60, 4, 0, 4, 0, 16, 4), /A does not fit/);
  assert.throws(() => addon!.sgemm(memory, false, false, 4, 4, 4, 1, 0, 4, 0, 3, 0, 16, 4), /B does not fit/);
  assert.throws(() => addon!.sgemm(memory, false, false, 4, 4, 4, 1, 0, 4, 0, 4, 0, 62, 4), /C does not fit/);
  assert.throws(() => addon!.sgemm(new Float64Array(64) as unknown as Float32Array, false, false, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1), /Float32Array/);
});

test('where OpenBLAS sums k up to K_BLOCK with the same bits on one thread and on two, NativeGemm shares products; where not, the probe says so and they stay on one thread', { skip: skipWithout }, () => {
  const differing: string[] = [];
  for (const [m, n] of [[300, 260], [384, 88], [88, 384]]) for (const transA of [false, true]) for (const transB of [false, true]) {
    const k = K_BLOCK;
    const memory = new Float32Array(new SharedArrayBuffer(4 * (m! * k + k * n! + 2 * m! * n!)));
    memory.set(seeded(m! * k + k * n!, 7));
    const product = (threads: number, c: number): Float32Array => {
      addon!.setThreads(threads);
      addon!.sgemm(memory, transA, transB, m!, n!, k, 1, 0, transA ? m! : k, m! * k, transB ? k : n!, 0, c, n!);
      return memory.slice(c, c + m! * n!);
    };
    const one = product(1, m! * k + k * n!);
    const two = product(2, m! * k + k * n! + m! * n!);
    addon!.setThreads(1);
    if (two.some((v, i) => !Object.is(v, one[i]))) differing.push(`${+transA}${+transB}:${m}x${n}x${k}`);
  }
  const agree = sgemmThreadsAgree(addon!);
  if (differing.length > 0) assert.equal(agree, false, `the probe missed ${differing.join(', ')}`);
  // What NativeGemm asks of the BLAS for a two-thread product, with timing out of the choice.
  const threadCounts: number[] = [];
  const counting: NativeBlasAddon = { ...recording([]), setThreads: (t) => (threadCounts.push(t), addon!.setThreads(t)) };
  const gemm = new NativeGemm(counting, 8);
  gemm.adaptive = false;
  const memory = new Float32Array(3 * 64 * 64);
  gemm.run(memory, 2, false, false, 64, 64, 64, 1, 0, 64, 4 * 64 * 64, 64, 0, 4 * 2 * 64 * 64, 64);
  addon!.setThreads(1);
  assert.deepEqual(threadCounts, [agree ? 2 : 1], agree ? 'the counts agree: products are shared' : 'the counts disagree: one BLAS thread');
  assert.equal(gemm.library.includes('on one thread'), !agree);
});

// OpenBLAS 0.3.21 (SkylakeX) cuts k of 500, 700, 1000 or 1500 differently on one thread and on two,
// and the bits differ; which count NativeGemm uses is chosen by timing, so both counts must agree.
test('NativeGemm gives the same bits on one BLAS thread and on two for long k, which it sums in blocks', { skip: skipWithout }, () => {
  const gemm = new NativeGemm(addon!, 8);
  gemm.adaptive = false; // two threads always mean two BLAS threads
  for (const k of [500, 700, 1000, 1500, 2 * K_BLOCK + 37]) for (const transA of [false, true]) for (const transB of [false, true]) {
    const m = 130, n = 88;
    const memory = new Float32Array(new SharedArrayBuffer(4 * (m * k + k * n + 2 * m * n)));
    memory.set(seeded(m * k + k * n, k));
    const product = (threads: number, c: number): Float32Array => {
      gemm.run(memory, threads, transA, transB, m, n, k, 1, 0, transA ? m : k, 4 * m * k, transB ? k : n, 0, 4 * c, n);
      return memory.slice(c, c + m * n);
    };
    const one = product(1, m * k + k * n);
    const two = product(2, m * k + k * n + m * n);
    assert.deepEqual(two, one, `${+transA}${+transB}:${m}x${n}x${k}`);
  }
  addon!.setThreads(1);
});

test('a product over k longer than K_BLOCK is summed in blocks and is right in every transpose case', { skip: skipWithout }, () => {
  const kernels = loadWasmKernelsSync(true);
  const calls: string[] = [];
  kernels.nativeGemm = new NativeGemm(recording(calls), kernels.exports.gemmSmallRows());
  const k = 2 * K_BLOCK + 37;
  let seed = 40;
  for (const transA of [false, true]) for (const transB of [false, true]) for (const beta of [0, 0.5]) {
    const difference = compareProduct(kernels, transA, transB, 40, 30, k, beta, seed++);
    assert.ok(difference < 1e-5 * Math.sqrt(k) * 4, `${+transA}${+transB} 40x30x${k} beta ${beta}: ${difference}`);
  }
  assert.deepEqual(calls.slice(0, 3), [`00:40x30x${K_BLOCK}`, `00:40x30x${K_BLOCK}`, '00:40x30x37']);
  assert.equal(calls.length, 8 * 3);
});

test('a GRU\'s gradients over T*B = 1000 rows are the same bits with the BLAS on one thread and on two', { skip: skipWithout }, async () => {
  const kernels = kernelsFor('float32');
  if (kernels.name !== 'wasm' || !(kernels as WasmKernels).nativeGemm) return;
  const wasm = kernels as WasmKernels;
  const gradients = (): Float32Array[] => {
    const generator = new Generator(0);
    const gru = new nn.GRU({ inputSize: 88, hiddenSize: 64, generator });
    const x = tensor(seeded(50 * 20 * 88, 3), [50, 20, 88]);
    const [out] = gru.forward(x);
    out.mul(out).sum().backward();
    return [...gru.parameters()].map((p) => Float32Array.from(p.grad!.data));
  };
  const threadsBefore = wasm.threads;
  wasm.adaptiveThreads = false; // two threads always mean two BLAS threads
  try {
    await wasm.setThreads(1);
    const one = gradients();
    await wasm.setThreads(2);
    const two = gradients();
    assert.equal(wasm.threads, 2);
    two.forEach((g, i) => assert.ok(g.every((v, j) => Object.is(v, one[i]![j])), `parameter ${i}`));
  } finally {
    await wasm.setThreads(threadsBefore);
    wasm.adaptiveThreads = true;
  }
});

test('a layer hands its input projection and weight gradients to the BLAS, and the time loop of a narrow batch to the wasm kernels', { skip: skipWithout }, () => {
  const kernels = kernelsFor('float32');
  if (kernels.name !== 'wasm') return;
  const wasm = kernels as WasmKernels;
  const before = wasm.nativeGemm;
  const shapes: string[] = [];
  wasm.nativeGemm = new NativeGemm(recording(shapes), wasm.exports.gemmSmallRows());
  try {
    const lstm = new nn.LSTM({ inputSize: 6, hiddenSize: 10 });
    const x = tensor(Array.from({ length: 20 * 3 * 6 }, (_, i) => Math.cos(i)), [20, 3, 6]);
    x.requiresGrad = true;
    const [out] = lstm.forward(x);
    out.sum().backward();
  } finally {
    wasm.nativeGemm = before;
  }
  // T*B = 60 rows: x W_ih^T, then dW_ih = dG^T x, dW_hh = dG^T h and dx = dG W_ih; the per-step
  // products of 3 rows stay on the wasm kernels (few rows stream faster there).
  for (const shape of ['01:60x40x6', '10:40x6x60', '10:40x10x60', '00:60x6x40']) assert.ok(shapes.includes(shape), `${shape} in ${shapes.join(' ')}`);
  assert.ok(shapes.every((s) => !/:3x/.test(s)), shapes.join(' '));
});

test('a wide batch hands its per-step products to the BLAS and narrow steps keep them, with the results of the wasm kernels', { skip: skipWithout }, () => {
  const kernels = kernelsFor('float32');
  if (kernels.name !== 'wasm') return;
  const wasm = kernels as WasmKernels;
  const before = wasm.nativeGemm;
  // 12 sequences of lengths 20 down to 3, packed: steps with 12 down to 1 active rows.
  const lengths = Array.from({ length: 12 }, (_, b) => 20 - Math.floor((17 * b) / 11));
  const run = (native: NativeGemm | null): Float32Array[] => {
    wasm.nativeGemm = native;
    try {
      const gru = new nn.GRU({ inputSize: 5, hiddenSize: 11 });
      const lstm = new nn.LSTM({ inputSize: 5, hiddenSize: 11 });
      let seed = 20;
      for (const p of [...gru.parameters(), ...lstm.parameters()]) p.data.set(seeded(p.size, seed++).map((v) => v * 0.3));
      const x = tensor(seeded(20 * 12 * 5, 9), [20, 12, 5]);
      x.requiresGrad = true;
      const packed = nn.utils.rnn.packPaddedSequence(x, lengths);
      const [gruOut] = gru.forward(x);
      const [lstmOut] = lstm.forward(packed);
      gruOut.sum().add(lstmOut.data.sum()).backward();
      return [gruOut.data, lstmOut.data.data, x.grad!.data, ...[...gru.parameters(), ...lstm.parameters()].map((p) => p.grad!.data)].map((a) => Float32Array.from(a));
    } finally {
      wasm.nativeGemm = before;
    }
  };
  const shapes: string[] = [];
  const onBlas = run(new NativeGemm(recording(shapes), wasm.exports.gemmSmallRows()));
  const ours = run(null);
  // GRU forward h W_hh^T [12, 11] x [11, 33] and backward dGh W_hh [12, 33] x [33, 11] per step; the
  // packed LSTM's steps of more than 8 rows (12, 11, 10, 9) likewise, and none of 8 rows or fewer.
  for (const shape of ['01:12x33x11', '00:12x11x33', '01:12x44x11', '01:9x44x11', '00:9x11x44']) {
    assert.ok(shapes.includes(shape), `${shape} in ${shapes.join(' ')}`);
  }
  assert.equal(shapes.filter((s) => s === '01:12x33x11').length, 20, 'every GRU step forward');
  assert.ok(shapes.every((s) => !/:[1-8]x/.test(s)), shapes.join(' '));
  onBlas.forEach((got, i) => assert.ok(maxDifference(got, ours[i]!) < 1e-4, `array ${i}: ${maxDifference(got, ours[i]!)}`));
});

test('a packed B in kernel memory is read where it lies by the BLAS: packing takes the packed layout only, on shared and plain memory', { skip: skipWithout }, () => {
  const [k, n, m] = [40, 24, 32];
  for (const shared of [true, false]) {
    const kernels = loadWasmKernelsSync(shared);
    const shapes: string[] = [];
    const native = new NativeGemm(recording(shapes), kernels.exports.gemmSmallRows());
    kernels.nativeGemm = native;
    const b = kernels.allocate(n * k, 'float32');
    const a = kernels.allocate(m * k, 'float32');
    const c = kernels.allocate(m * n, 'float32');
    b.view().set(seeded(n * k, 3));
    a.view().set(seeded(m * k, 4));
    const packedLayout = kernels.exports.packedBBytes(k, n);
    const before = kernels.heap.inUse;
    const packed = kernels.packB(true, k, n, b.view(), 0, k);
    const packing = kernels.heap.inUse - before;
    // A copy of B beside the packed layout would take k * n * 4 more bytes.
    assert.ok(packing >= packedLayout && packing < packedLayout + k * n * 4, `packing took ${packing} bytes, the layout ${packedLayout}`);
    const product = (): Float32Array => {
      kernels.gemmPacked(false, m, n, k, 1, a.view(), 0, k, packed, 0, c.view(), 0, n);
      return Float32Array.from(c.view());
    };
    const want = (): Float32Array => {
      const out = new Float32Array(m * n);
      jsKernels.gemm(false, true, m, n, k, 1, a.view().slice(), 0, k, b.view().slice(), 0, k, 0, out, 0, n);
      return out;
    };
    assert.ok(maxDifference(product(), want()) < 1e-5);
    assert.deepEqual(shapes, [`01:${m}x${n}x${k}`], 'the product ran on the BLAS');
    assert.equal(kernels.heap.inUse - before, packing, 'the BLAS product allocated nothing');
    // Packed over after B changed (as a layer does after an optimizer step): the BLAS reads the new B.
    b.view().set(seeded(n * k, 5));
    assert.equal(kernels.packB(true, k, n, b.view(), 0, k, packed), packed);
    assert.ok(maxDifference(product(), want()) < 1e-5);
    assert.equal(kernels.heap.inUse - before, packing);
    kernels.releasePacked(packed);
    assert.equal(kernels.heap.inUse, before);
  }
});

test('a packed B outside kernel memory keeps a copy for the BLAS, made when packing', { skip: skipWithout }, () => {
  const [k, n, m] = [40, 24, 32];
  const kernels = loadWasmKernelsSync(true);
  const shapes: string[] = [];
  kernels.nativeGemm = new NativeGemm(recording(shapes), kernels.exports.gemmSmallRows());
  const b = seeded(n * k + 3, 6);
  const a = seeded(m * k, 7);
  const packed = kernels.packB(true, k, n, b, 3, k);
  // The copy is the snapshot: B may change afterwards without changing the products.
  const want = new Float32Array(m * n);
  jsKernels.gemm(false, true, m, n, k, 1, a, 0, k, b, 3, k, 0, want, 0, n);
  b.fill(0);
  const c = new Float32Array(m * n);
  kernels.gemmPacked(false, m, n, k, 1, a, 0, k, packed, 0, c, 0, n);
  assert.deepEqual(shapes, [`01:${m}x${n}x${k}`]);
  assert.ok(maxDifference(c, want) < 1e-5);
  // Its block holds the packed layout and the copy (staging B took scratch of its own, which stays).
  const held = kernels.heap.inUse;
  kernels.releasePacked(packed);
  assert.ok(held - kernels.heap.inUse >= kernels.exports.packedBBytes(k, n) + k * n * 4, `${held - kernels.heap.inUse} bytes returned`);
});

test('a layer whose per-step products run on the BLAS takes no more kernel memory than one without the BLAS', { skip: skipWithout }, () => {
  const kernels = kernelsFor('float32');
  if (kernels.name !== 'wasm') return;
  const wasm = kernels as WasmKernels;
  const before = wasm.nativeGemm;
  const step = (native: NativeGemm | null): { grew: number; grads: Float32Array[] } => {
    wasm.nativeGemm = native;
    try {
      const lstm = new nn.LSTM({ inputSize: 8, hiddenSize: 64 });
      let seed = 30;
      for (const p of lstm.parameters()) p.data.set(seeded(p.size, seed++).map((v) => v * 0.1));
      const x = tensor(seeded(5 * 16 * 8, 8), [5, 16, 8]);
      const start = wasm.heap.inUse;
      const [out] = lstm.forward(x);
      out.sum().backward();
      const grew = wasm.heap.inUse - start;
      const grads = lstm.parameters().map((p) => Float32Array.from(p.grad!.data));
      lstm.dispose();
      return { grew, grads };
    } finally {
      wasm.nativeGemm = before;
    }
  };
  // Each measured after a call of the same shapes, whose workspaces wait in the pool for the next.
  step(null);
  const shapes: string[] = [];
  const onBlas = step(new NativeGemm(recording(shapes), wasm.exports.gemmSmallRows()));
  const ours = step(null);
  // Forward h W_hh^T [16, 64] x [64, 256] and backward dG W_hh [16, 256] x [256, 64] every step.
  assert.equal(shapes.filter((s) => s === '01:16x256x64').length, 5, shapes.join(' '));
  assert.equal(shapes.filter((s) => s === '00:16x64x256').length, 5, shapes.join(' '));
  // Before W_hh was read in place, the BLAS run held two copies of it (forward and backward packs): 2 * 64 KiB more.
  assert.equal(onBlas.grew, ours.grew);
  onBlas.grads.forEach((g, i) => assert.ok(maxDifference(g, ours.grads[i]!) < 1e-4, `gradient ${i}`));
});

test('a layer whose BLAS reads W_hh in place follows its weights through loadStateDict and optimizer steps', { skip: skipWithout }, () => {
  const kernels = kernelsFor('float32');
  if (kernels.name !== 'wasm') return;
  const wasm = kernels as WasmKernels;
  const before = wasm.nativeGemm;
  const shapes: string[] = [];
  const blas = new NativeGemm(recording(shapes), wasm.exports.gemmSmallRows());
  const on = (native: NativeGemm | null) => <T>(fn: () => T): T => {
    wasm.nativeGemm = native;
    try {
      return fn();
    } finally {
      wasm.nativeGemm = before;
    }
  };
  const [onBlas, onWasm] = [on(blas), on(null)];
  const layer = (seed: number) => {
    const lstm = new nn.LSTM({ inputSize: 5, hiddenSize: 16 });
    for (const p of lstm.parameters()) p.data.set(seeded(p.size, seed++).map((v) => v * 0.4));
    return lstm;
  };
  const x = tensor(seeded(6 * 12 * 5, 40), [6, 12, 5]);
  const evaluate = (lstm: nn.LSTM) => Float32Array.from(noGrad(() => lstm.forward(x)[0]).data as Float32Array);
  const a = layer(50), b = layer(60);
  // Evaluation keeps a's packs across calls while its weights' versions hold.
  const first = onBlas(() => (evaluate(a), evaluate(a)));
  assert.ok(shapes.includes('01:12x64x16'), shapes.join(' '));
  a.loadStateDict(b.stateDict());
  const loaded = onBlas(() => evaluate(a));
  const want = onWasm(() => evaluate(b));
  assert.ok(maxDifference(loaded, want) < 1e-5, `after loadStateDict: ${maxDifference(loaded, want)}`);
  assert.ok(maxDifference(first, want) > 1e-2, 'the weights loaded differ');
  // Two SGD steps each, a on the BLAS, b on the wasm kernels alone: the same weights after them.
  const train = (lstm: nn.LSTM) => {
    const sgd = new optim.SGD(lstm.parameters(), { lr: 0.5 });
    for (let step = 0; step < 2; step++) {
      sgd.zeroGrad();
      const out = lstm.forward(x)[0];
      out.mul(out).mean().backward();
      sgd.step();
    }
    return evaluate(lstm);
  };
  const trainedOnBlas = onBlas(() => train(a));
  const trainedOnWasm = onWasm(() => train(b));
  assert.ok(maxDifference(trainedOnBlas, trainedOnWasm) < 1e-4, `after optimizer steps: ${maxDifference(trainedOnBlas, trainedOnWasm)}`);
  assert.ok(maxDifference(trainedOnBlas, want) > 1e-3, 'the steps changed the weights');
  a.dispose();
  b.dispose();
});

/** C = 0.75 op(A) op(B) + beta C in float64 through the addon's dgemm and through the reference, the
 * operands in arrays of their own at offsets and strides; returns the largest difference. */
function compareDouble(transA: boolean, transB: boolean, m: number, n: number, k: number, beta: number, seed: number): number {
  const lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 3, ldc = n + 1;
  const [aOff, bOff, cOff] = [5, 1, 7];
  const a = Float64Array.from(seeded(aOff + (transA ? k : m) * lda, seed));
  const b = Float64Array.from(seeded(bOff + (transB ? n : k) * ldb, seed + 1));
  const c = Float64Array.from(seeded(cOff + m * ldc, seed + 2));
  const want = c.slice();
  jsKernels.gemm(transA, transB, m, n, k, 0.75, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
  addon!.dgemm(transA, transB, m, n, k, 0.75, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
  // Nothing outside C's rows and columns changes (its offset, the padding between rows).
  for (let i = 0; i < c.length; i++) {
    const inside = i >= cOff && (i - cOff) % ldc < n;
    if (!inside) assert.ok(Object.is(c[i], want[i]), `element ${i} outside C changed`);
  }
  return maxDifference(c, want);
}

test('dgemm computes every transpose case in float64 on arrays of its own, and refuses operands that do not fit', { skip: skipWithout }, () => {
  let seed = 30;
  for (const [m, n, k] of [[9, 17, 33], [65, 3, 130], [1, 70, 1]]) {
    for (const transA of [false, true]) for (const transB of [false, true]) for (const beta of [0, 0.5]) {
      const difference = compareDouble(transA, transB, m!, n!, k!, beta, seed++);
      assert.ok(difference < 1e-13 * k!, `${+transA}${+transB} ${m}x${n}x${k} beta ${beta}: ${difference}`);
    }
  }
  const x = new Float64Array(16);
  assert.throws(() => addon!.dgemm(false, false, 4, 4, 4, 1, x, 1, 4, x, 0, 4, 0, new Float64Array(16), 0, 4), /A does not fit/);
  assert.throws(() => addon!.dgemm(false, true, 4, 4, 4, 1, x, 0, 4, x, 0, 3, 0, new Float64Array(16), 0, 4), /B does not fit/);
  assert.throws(() => addon!.dgemm(false, false, 4, 4, 4, 1, x, 0, 4, x, 0, 4, 0, new Float64Array(15), 0, 4), /C does not fit/);
  assert.throws(() => addon!.dgemm(false, false, 1, 1, 1, 1, new Float32Array(1) as unknown as Float64Array, 0, 1, x, 0, 1, 0, x, 0, 1), /a must be a Float64Array/);
});

test('float64 products have the same bits whatever the thread count (dgemm runs on one BLAS thread)', { skip: skipWithout }, () => {
  // A shape whose bits OpenBLAS's dgemm changes when it runs on two threads.
  const m = 200, n = 190, k = 210;
  const a = Float64Array.from(seeded(m * k, 41)), b = Float64Array.from(seeded(k * n, 42));
  const product = (threads: number): Float64Array => {
    const native = new NativeGemm(addon!, 8);
    native.adaptive = false;
    // An sgemm on `threads` threads first, as a layer's float32 products would leave the BLAS.
    native.run(new Float32Array(16), threads, false, false, 2, 2, 2, 1, 0, 2, 16, 2, 0, 32, 2);
    const c = new Float64Array(m * n);
    float64KernelsOver(native).gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c, 0, n);
    return c;
  };
  assert.deepEqual(product(2), product(1));
});

test('float64 layers run their products on dgemm while the BLAS is on, matching the reference, and gradcheck passes', { skip: skipWithout }, () => {
  if (kernelsFor('float32').name !== 'wasm') return;
  const wasm = kernelsFor('float32') as WasmKernels;
  const wasOn = wasm.nativeGemm !== null;
  const run = (): Float64Array[] => {
    const lstm = new nn.LSTM({ inputSize: 6, hiddenSize: 8, numLayers: 2, dtype: 'float64', generator: new Generator(5) });
    const x = randn([7, 10, 6], { dtype: 'float64', generator: new Generator(6), requiresGrad: true });
    const [out] = lstm.forward(x);
    out.mul(out).sum().backward();
    return [out.data, x.grad!.data, ...lstm.parameters().map((p) => p.grad!.data)].map((a) => Float64Array.from(a));
  };
  try {
    setNativeBlas(false);
    assert.equal(getBackendInfo().float64Gemm, 'js');
    const reference = run();
    setNativeBlas(true);
    assert.equal(getBackendInfo().float64Gemm, 'native');
    // A recording provider under float64's kernels, as setNativeBlas puts the real one there.
    const shapes: string[] = [];
    const float64 = float64KernelsOver(new NativeGemm(recording(shapes), wasm.exports.gemmSmallRows()));
    float64.gemm(false, true, 10, 32, 6, 1, new Float64Array(60), 0, 6, new Float64Array(192), 0, 6, 0, new Float64Array(320), 0, 32);
    float64.gemm(false, false, 2, 5, 3, 1, new Float64Array(6), 0, 3, new Float64Array(15), 0, 5, 0, new Float64Array(10), 0, 5);
    assert.deepEqual(shapes, ['f64 01:10x32x6'], 'the 2x5x3 product stays on the reference');
    const onBlas = run();
    onBlas.forEach((got, i) => assert.ok(maxDifference(got, reference[i]!) < 1e-12, `array ${i}: ${maxDifference(got, reference[i]!)}`));
    const gru = new nn.GRU({ inputSize: 3, hiddenSize: 4, dtype: 'float64', generator: new Generator(7) });
    const x = randn([5, 12, 3], { dtype: 'float64', generator: new Generator(8), requiresGrad: true });
    assert.equal(gradcheck((input) => gru.forward(input)[0], [x]), true);
  } finally {
    setNativeBlas(wasOn);
  }
});

test('`recurrent info` says which GEMM runs', async () => {
  const off = await runNodeScript([...TSX, 'src/cli/main.ts', 'info'], 60_000, { RECURRENT_BLAS: 'off' });
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /^compute\s+wasm kernels on \d threads?; GEMM: wasm \(native BLAS not used: RECURRENT_BLAS=off\)/m);
  const auto = lastJsonLine<{ compute: { gemm: string } }>(
    await runNodeScript([...TSX, 'src/cli/main.ts', 'info', '--json'], 60_000, { RECURRENT_BLAS: undefined }), 'info --json',
  );
  assert.equal(auto.compute.gemm, addon ? 'native' : 'wasm');
});

// The relaxed-SIMD build of the wasm kernels (assembly/fma.ts: fused multiply-add in the GEMM
// micro-kernels and the gate kernels). Node 20 has relaxed SIMD only behind a flag, so each check
// runs in a child process started with it: the build is chosen at load time, its products stay
// within the reference's tolerance, its results are the same bits on one thread and two, and the
// PyTorch parity suite passes on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastJsonLine, runNodeScript, TSX } from './helpers/node-script.js';

const FLAG = '--experimental-wasm-relaxed-simd';

interface RelaxedRun {
  relaxedSimd: boolean;
  relaxedExport: number;
  values: number;
  sameOnTwoThreads: boolean;
  gemmWorst: number;
  gemmBound: number;
  tilingSame: boolean;
}

const script = `
  import * as lib from './src/index.ts';
  import { kernelsFor } from './src/kernels/index.ts';
  import { jsKernels } from './src/kernels/js/index.ts';
  import { runWorkload } from './test/browser/workload.ts';
  const info = lib.getBackendInfo();
  // The wasm GEMM itself, not the BLAS, on the workload's products.
  lib.setNativeBlas(false);
  const one = await runWorkload(lib, 1);
  const two = await runWorkload(lib, 2);
  await lib.setThreads(1);
  // A product against the float32 reference, within the bound the plain build is held to.
  const wasm = kernelsFor('float32');
  const [m, n, k] = [70, 90, 300];
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
  const got = new Float32Array(m * n), want = new Float32Array(m * n);
  wasm.gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, got, 0, n);
  jsKernels.gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, want, 0, n);
  let gemmWorst = 0;
  for (let i = 0; i < got.length; i++) gemmWorst = Math.max(gemmWorst, Math.abs(got[i] - want[i]));
  // Rows 56..69 alone: rows 60..67, which the whole product ran on 4 x 8 tiles after five 12-row
  // groups of 6 x 8 ones, now fall in a 6 x 8 tile; each element must still be the same bits.
  const sub = new Float32Array(14 * n);
  wasm.gemm(false, true, 14, n, k, 1, a, 56 * k, k, b, 0, k, 0, sub, 0, n);
  const tilingSame = sub.every((v, i) => Object.is(v, got[56 * n + i]));
  console.log(JSON.stringify({
    relaxedSimd: info.relaxedSimd, relaxedExport: wasm.exports.relaxedSimd(), values: one.values.length,
    sameOnTwoThreads: two.threads === 2 && one.values.every((v, i) => Object.is(v, two.values[i])),
    gemmWorst, gemmBound: 2 * (k + 2) * 2 ** -24 * k, tilingSame,
  }));
  process.exit(0);
`;

test('with relaxed SIMD the relaxed build loads, stays within tolerance and gives the same bits on 1 and 2 threads and in either register tile', async () => {
  const run = lastJsonLine<RelaxedRun>(await runNodeScript([FLAG, ...TSX, '--input-type=module', '-e', script], 180_000), 'relaxed child');
  assert.equal(run.relaxedSimd, true, 'getBackendInfo().relaxedSimd');
  assert.equal(run.relaxedExport, 1, 'the loaded module is the relaxed build');
  assert.ok(run.values > 10_000, `${run.values} values compared`);
  assert.equal(run.sameOnTwoThreads, true, 'the workload gives the same bits on one thread and two');
  assert.ok(run.gemmWorst <= run.gemmBound, `gemm against the reference: ${run.gemmWorst} > ${run.gemmBound}`);
  assert.equal(run.tilingSame, true, 'rows give the same bits whichever register tile (6 x 8 or 4 x 8) computes them');
});

test('RECURRENT_RELAXED_SIMD=off loads the plain build even where the engine has relaxed SIMD', async () => {
  const probe = "import { getBackendInfo } from './src/index.ts'; console.log(JSON.stringify(getBackendInfo()));";
  const run = lastJsonLine<{ relaxedSimd: boolean; backend: string }>(
    await runNodeScript([FLAG, ...TSX, '--input-type=module', '-e', probe], 60_000, { RECURRENT_RELAXED_SIMD: 'off' }), 'plain child',
  );
  assert.equal(run.backend, 'wasm');
  assert.equal(run.relaxedSimd, false);
});

test('the PyTorch parity suite passes on the relaxed build (every GEMM provider present)', async () => {
  // NODE_TEST_CONTEXT removed: the child is a test run of its own, not a subtest of this one.
  const run = await runNodeScript([FLAG, ...TSX, '--test', '--test-reporter=tap', 'test/pytorch-parity.test.ts'], 300_000, {
    RECURRENT_EXPECT_RELAXED_SIMD: '1', NODE_TEST_CONTEXT: undefined,
  });
  assert.equal(run.code, 0, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
  const passed = Number(/^# pass (\d+)/m.exec(run.stdout)?.[1] ?? 0);
  assert.ok(passed >= 40, `${passed} parity tests passed`);
  assert.match(run.stdout, /^# fail 0$/m);
});

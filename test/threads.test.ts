// The helper-thread pool's life: which thread counts are accepted, when helpers start, and what
// happens when one dies or is removed while work is shared. (That results are the same bits on one
// thread and two is tested kernel by kernel in kernels-wasm.test.ts.) Whatever could hang runs in a
// child process with a deadline, so that a regression fails instead of stalling the test run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { setThreads } from '../src/kernels/index.js';
import { CONTROL_INTS, CONTROL_LAYOUT, HELPER_INTS, READY } from '../src/kernels/wasm/control-block.js';
import { loadWasmKernelsSync } from '../src/kernels/wasm/index.js';
import { LinearMemory } from '../src/kernels/wasm/memory.js';
import { instantiateWasmSync } from '../src/kernels/wasm/module.js';
import { helperSource } from '../src/kernels/wasm/worker.js';
import { ROOT } from './helpers/cli.js';
import { lastJsonLine, runNodeScript, TSX } from './helpers/node-script.js';

const BAD_COUNTS: [unknown, string][] = [[NaN, 'NaN'], [0, '0'], [-1, '-1'], [1.5, '1.5'], ['2', '"2" (a string)']];

describe('thread counts', () => {
  test('setThreads rejects what is not a positive integer, naming the value, before and after helpers exist', { timeout: 30_000 }, async () => {
    const kernels = loadWasmKernelsSync(true);
    for (const helpers of [false, true]) {
      if (helpers) assert.equal(await setThreads(2), 2);
      for (const [value, shown] of BAD_COUNTS) {
        const message = `setThreads: threads must be a positive integer, got ${shown}`;
        await assert.rejects(setThreads(value as number), { name: 'RangeError', message });
        await assert.rejects(kernels.setThreads(value as number), { name: 'RangeError', message });
      }
      await assert.rejects(setThreads(129), { message: 'setThreads: threads must be at most 128, got 129' });
    }
    assert.equal(await setThreads(1), 1, 'a good count still takes effect after rejected ones');
  });

  test('a bad RECURRENT_THREADS warns in one line and leaves the default', { timeout: 60_000 }, async () => {
    const script = `
      import { availableParallelism } from 'node:os';
      import { kernelsFor } from './src/kernels/index.js';
      const kernels = kernelsFor('float32');
      const want = Math.min(2, availableParallelism());
      const started = performance.now();
      const report = () => console.log(JSON.stringify({ threads: kernels.threads, want }));
      const poll = () => (kernels.threads >= want || performance.now() - started > 20_000 ? report() : setTimeout(poll, 10));
      poll();
    `;
    for (const bad of ['abc', '0', '-2', '1.5', '999']) {
      const run = await runNodeScript([...TSX, '--input-type=module', '-e', script], 40_000, { RECURRENT_THREADS: bad, RECURRENT_BACKEND: undefined });
      const { threads, want } = lastJsonLine<{ threads: number; want: number }>(run, `RECURRENT_THREADS=${bad}`);
      assert.equal(threads, want, `RECURRENT_THREADS=${bad}: the default count`);
      const warning = `recurrent: RECURRENT_THREADS must be a whole number from 1 to 128, got ${JSON.stringify(bad)}; using ${want} thread${want === 1 ? '' : 's'}`;
      assert.deepEqual(run.stderr.trim().split('\n'), [warning]);
    }
  });
});

interface SyncTraining {
  backend: string;
  threads: number;
  helperChunks: number;
}

/** The default thread count, or 2 named explicitly on a one-core machine (whose default is 1). */
// Our own helpers, so RECURRENT_BLAS=off: with the native BLAS, W5's products (per-step ones included)
// and those steps' gate kernels run on the BLAS's threads and the calling one instead.
const twoThreadsByDefault = { RECURRENT_THREADS: availableParallelism() >= 2 ? undefined : '2', RECURRENT_BACKEND: undefined, RECURRENT_BLAS: 'off' };

describe('helpers start at import', () => {
  test("a synchronous script's first forward and backward pass (W5's shape) is shared with a helper", { timeout: 120_000 }, async () => {
    const run = await runNodeScript([...TSX, 'test/helpers/sync-training.ts'], 100_000, twoThreadsByDefault);
    const result = lastJsonLine<SyncTraining>(run, 'test/helpers/sync-training.ts');
    assert.equal(result.backend, 'wasm');
    assert.ok(result.helperChunks > 0, `no chunk of the first pass ran on a helper: ${JSON.stringify(result)}`);
    assert.equal(result.threads, 2);
  });

  const built = existsSync(`${ROOT}/dist/index.js`);
  test('the same from the built package (the helper program as tsc emits it)', { timeout: 120_000, skip: built ? false : 'dist/ is missing: run `npm run build` (npm ci does it)' }, async () => {
    const script = `
      import { nn, randn } from 'recurrent';
      import { kernelsFor } from './dist/kernels/index.js';
      const lstm = new nn.LSTM({ inputSize: 256, hiddenSize: 512 });
      const [out] = lstm.forward(randn([50, 64, 256]));
      out.mul(out).sum().backward();
      const kernels = kernelsFor('float32');
      console.log(JSON.stringify({ backend: kernels.name, threads: kernels.threads, helperChunks: kernels.helperChunks }));
    `;
    const run = await runNodeScript(['--input-type=module', '-e', script], 100_000, twoThreadsByDefault);
    const result = lastJsonLine<SyncTraining>(run, 'a synchronous script on dist/');
    assert.equal(result.backend, 'wasm');
    assert.ok(result.helperChunks > 0, `no chunk of the first pass ran on a helper: ${JSON.stringify(result)}`);
  });
});

describe('Node without process.getBuiltinModule (before 20.16)', () => {
  test('the default and setThreads start helpers asynchronously, as before', { timeout: 120_000 }, async () => {
    const script = `
      delete process.getBuiltinModule;
      const { kernelsFor, setThreads } = await import('./src/kernels/index.js');
      const kernels = kernelsFor('float32');
      const threads = await setThreads(2);
      kernels.adaptiveThreads = false;
      const a = new Float32Array(256 * 256).fill(0.5), c = new Float32Array(256 * 256);
      const deadline = performance.now() + 20_000;
      while (kernels.helperChunks === 0 && performance.now() < deadline) kernels.gemm(false, false, 256, 256, 256, 1, a, 0, 256, a, 0, 256, 0, c, 0, 256);
      console.log(JSON.stringify({ threads, helperChunks: kernels.helperChunks, c0: c[0] }));
    `;
    // The wasm helpers are under test: with the system BLAS forced on, the GEMM would not reach them.
    const run = await runNodeScript([...TSX, '--input-type=module', '-e', script], 100_000, { RECURRENT_BACKEND: undefined, RECURRENT_BLAS: 'off' });
    const result = lastJsonLine<{ threads: number; helperChunks: number; c0: number }>(run, 'without getBuiltinModule');
    assert.deepEqual({ ...result, helperChunks: result.helperChunks > 0 }, { threads: 2, helperChunks: true, c0: 64 });
  });

  test('a helper finds its start data through import() when its thread lacks it', { timeout: 30_000 }, async () => {
    const instance = instantiateWasmSync(true);
    const heap = new LinearMemory(instance.memory, instance.exports.heapBase());
    const control = heap.alloc(CONTROL_INTS * 4), slots = heap.alloc(HELPER_INTS * 4), work = heap.alloc(instance.exports.gemmWorkspaceBytes());
    const mine = new Int32Array(instance.memory.buffer, slots, HELPER_INTS);
    const start = { module: instance.module, memory: instance.memory, control, slots, work, layout: CONTROL_LAYOUT, spinMs: 0.3 };
    const worker = new Worker(`delete process.getBuiltinModule;\n${helperSource()}`, { eval: true, workerData: start });
    try {
      const deadline = performance.now() + 20_000;
      while (Atomics.load(mine, READY) !== 1 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(Atomics.load(mine, READY), 1, 'the helper instantiated the module');
    } finally {
      await worker.terminate();
    }
  });
});

interface Outcomes {
  correct: number;
  wrong: number;
  errors: string[];
}

describe('helpers that die or are removed', () => {
  test('a helper that dies holding a chunk: the call fails naming it, and later calls run correctly on the threads left', { timeout: 120_000 }, async () => {
    const run = await runNodeScript([...TSX, 'test/helpers/thread-failures.ts', 'killed'], 100_000);
    const result = lastJsonLine<{
      error: string | null; threadsAfterError: number; afterError: Outcomes & { errors: number }; workspaceFreed: boolean; threadsRestored: number;
      restoredHelperChunks: number; outcomes: Outcomes;
    }>(run, 'thread-failures.ts killed');
    assert.match(
      result.error ?? 'no error',
      /^wasm kernels: helper thread 1 \(chunk \d+\) did not finish 1 chunk of a shared gemm job within \d+ ms; it was stopped, and the kernels go on with 1 thread$/,
    );
    assert.equal(result.outcomes.wrong, 0, 'no call returned a wrong result');
    assert.equal(result.threadsAfterError, 1);
    assert.deepEqual(result.afterError, { correct: 5, wrong: 0, errors: 0 }, 'calls after the error');
    assert.equal(result.workspaceFreed, true, "the dead helper's workspace returns to the heap");
    assert.equal(result.threadsRestored, 2, 'setThreads(2) starts a new helper');
    assert.ok(result.restoredHelperChunks > 0);
  });

  test('shrinking the pool while shared calls go on: every call gives the right bits, none hangs', { timeout: 120_000 }, async () => {
    const run = await runNodeScript([...TSX, 'test/helpers/thread-failures.ts', 'shrink'], 100_000);
    const result = lastJsonLine<{ rounds: number; threads: number; outcomes: Outcomes }>(run, 'thread-failures.ts shrink');
    assert.equal(result.rounds, 11);
    assert.equal(result.threads, 1);
    assert.deepEqual(result.outcomes.errors, []);
    assert.equal(result.outcomes.wrong, 0);
    assert.ok(result.outcomes.correct >= 11 * 5 * 3, `${result.outcomes.correct} correct calls`);
  });
});

test('memory that cannot grow far enough: a RangeError naming the size and the way to trade compute for memory', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const heap = new LinearMemory(memory, 0);
  assert.throws(() => heap.alloc(16 * 65536), (error: unknown) => error instanceof RangeError
    && /WebAssembly memory cannot grow to 1 MiB .*checkpointEvery option \(recurrent train --checkpoint-every k\)/.test(error.message));
});

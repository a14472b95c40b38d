// Helper threads that die or are removed while work is shared (test/threads.test.ts runs this in a
// child process with a deadline, since the failure it guards against is a hang of the calling
// thread). Prints one JSON line: what each shared call did, an error or a correct result.
//
//   node --import tsx test/helpers/thread-failures.ts killed|shrink
import { loadWasmKernelsSync, type WasmKernels } from '../../src/kernels/wasm/index.js';

const scenario = process.argv[2];

/** A product large enough to be shared by every thread count here. */
const SIZE = 384;
const a = Float32Array.from({ length: SIZE * SIZE }, (_, i) => Math.sin(i) / 8);
const b = Float32Array.from({ length: SIZE * SIZE }, (_, i) => Math.cos(3 * i) / 8);

function product(kernels: WasmKernels): Float32Array {
  const c = new Float32Array(SIZE * SIZE);
  kernels.gemm(false, true, SIZE, SIZE, SIZE, 1, a, 0, SIZE, b, 0, SIZE, 0, c, 0, SIZE);
  return c;
}

const single = loadWasmKernelsSync(false);
const expected = product(single);
const sameBits = (c: Float32Array): boolean => c.every((x, i) => Object.is(x, expected[i]));

const threaded = loadWasmKernelsSync(true);
threaded.adaptiveThreads = false; // share every call, however busy the machine

/** Runs the product on the threads; tallies a correct result, a wrong one, or the error's message. */
const outcomes = { correct: 0, wrong: 0, errors: [] as string[] };
function sharedCall(): boolean {
  try {
    if (sameBits(product(threaded))) outcomes.correct++;
    else outcomes.wrong++;
    return true;
  } catch (error) {
    outcomes.errors.push(String((error as Error).message ?? error));
    return false;
  }
}

/** Shared calls until a helper has computed a chunk of one (it may be asleep, or not yet started). */
function untilHelperTakesPart(): void {
  const before = threaded.helperChunks;
  const deadline = performance.now() + 20_000;
  while (threaded.helperChunks === before && performance.now() < deadline) sharedCall();
  if (threaded.helperChunks === before) throw new Error('no helper took part within 20 s');
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

if (scenario === 'killed') {
  // A helper exits holding a chunk; the calling thread must give up on it, say so, and go on.
  await threaded.setThreads(2);
  untilHelperTakesPart();
  const hooks = threaded.threadTestHooks!;
  hooks.minHelperWaitMs = 300;
  hooks.abandonNextClaim();
  const deadline = performance.now() + 30_000;
  while (outcomes.errors.length === 0 && performance.now() < deadline) sharedCall();
  const threadsAfterError = threaded.threads;
  const before = { ...outcomes, errors: [...outcomes.errors] };
  for (let i = 0; i < 5; i++) sharedCall(); // on the thread left
  const afterError = { correct: outcomes.correct - before.correct, wrong: outcomes.wrong - before.wrong, errors: outcomes.errors.length - 1 };
  // Once its thread has exited, the dead helper's workspace is free again: a block of that size
  // then comes from below the top of the heap.
  const top = threaded.heap.used;
  const workBytes = threaded.exports.gemmWorkspaceBytes();
  let workspaceFreed = false;
  for (const waitUntil = performance.now() + 10_000; !workspaceFreed && performance.now() < waitUntil;) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const block = threaded.heap.alloc(workBytes);
    workspaceFreed = block + workBytes <= top;
    threaded.heap.release(block, workBytes);
  }
  // A new helper replaces it and shares again, with the same bits.
  await threaded.setThreads(2);
  const chunksBefore = threaded.helperChunks;
  untilHelperTakesPart();
  for (let i = 0; i < 5; i++) sharedCall();
  console.log(JSON.stringify({
    error: before.errors[0] ?? null, threadsAfterError, afterError, workspaceFreed, threadsRestored: threaded.threads,
    restoredHelperChunks: threaded.helperChunks - chunksBefore, outcomes,
  }));
} else if (scenario === 'shrink') {
  // setThreads shrinks the pool, not awaited, while shared calls go on at once and between turns of
  // the event loop (where the retiring happens); from 3 threads to 2 the remaining helper still
  // shares, so calls keep opening jobs that a retired helper must not claim.
  let rounds = 0;
  for (const threads of [3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 1]) {
    let settled = false;
    void threaded.setThreads(threads).then(() => (settled = true));
    let after = 0;
    while (after < 5) {
      for (let i = 0; i < 3; i++) sharedCall();
      await turn();
      if (settled) after++;
    }
    if (threads === 3) untilHelperTakesPart();
    rounds++;
  }
  console.log(JSON.stringify({ rounds, threads: threaded.threads, outcomes }));
} else {
  throw new Error(`thread-failures.ts: unknown scenario ${JSON.stringify(scenario)} (killed or shrink)`);
}

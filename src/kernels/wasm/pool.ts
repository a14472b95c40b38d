/**
 * The helper threads and the running of one shared job. Helpers are started, retired and lost here;
 * a job, once its arguments are in place (jobArgs), is opened to them, the calling thread claims
 * chunks too, and waits for the helpers' last ones: with a deadline, past which the helper that kept
 * a chunk is stopped and the call fails, naming it, instead of waiting forever. The protocol is in
 * control-block.ts, the helpers' side in worker.ts.
 */
import { JOB_ARGS, JOB_CHUNK, JOB_KIND, JOB_SPLIT, KIND_NAMES } from './assembly-constants.generated.js';
import {
  ABANDON_NEXT_CLAIM, CLAIM, CLAIMING, CONTROL_INTS, CONTROL_LAYOUT, COUNT, DONE, FAILED, HELPER_INTS, HOLDING, INDEX_BITS,
  INDEX_MASK, JOB, MAX_CHUNKS, READY, RETIRED, STATE, TAG_LIMIT,
} from './control-block.js';
import type { LinearMemory } from './memory.js';
import type { WasmInstance } from './module.js';
import { spawnHelper, spawnHelperNow, type HelperWorker } from './spawn.js';
import type { HelperStart } from './worker.js';

/** How long an idle helper spins before sleeping (ms): a recurrent layer issues a job per step, and
 * generation a few per token, with some JavaScript between them. */
const WORKER_SPIN_MS = 0.3;
/** How long the calling thread spins for the helpers' last chunks before sleeping (ms): waking from
 * a sleep costs tens of microseconds, more in a virtual machine. */
const MAIN_SPIN_MS = 0.5;
/** The least time (ms) the calling thread waits for a helper's chunk: a busy host may leave a thread
 * unscheduled for seconds, and giving up on a helper that is merely late fails the user's call. */
const MIN_HELPER_WAIT_MS = 10_000;
/** ...or this many times the calling thread's own time per chunk, if longer: a helper's chunk is the
 * same work, so a hundredfold is lateness no load explains. */
const HELPER_WAIT_PER_CHUNK = 100;
/** How long setThreads waits for new helpers to instantiate the module (ms). */
const READY_WAIT_MS = 30_000;

interface Helper {
  /** 1, 2, ... in the order started, for messages. */
  readonly id: number;
  readonly worker: HelperWorker;
  /** Byte addresses of its GEMM workspace and of its slots (control-block.ts). */
  readonly work: number;
  readonly slotsAt: number;
  readonly slots: Int32Array;
  /** Why it left the pool, once it has, and whether it had started by then. */
  gone: string | null;
  startedBeforeGone: boolean;
}

/** Hooks for tests (test/threads.test.ts) that must make a helper fail: not for applications. */
export interface ThreadTestHooks {
  /** The least time (ms) the calling thread waits for a helper's chunk before giving up on it. */
  minHelperWaitMs: number;
  /** Makes the next helper that claims a chunk exit holding it, as a crashed thread would. */
  abandonNextClaim(): void;
}

/** Atomics.wait is refused on browsers' main threads, which then spin instead. */
function mainThreadMayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export class HelperPool implements ThreadTestHooks {
  private readonly helpers: Helper[] = [];
  private readonly mayBlock = mainThreadMayBlock();
  private control = 0;
  /** Over the control block; a shared memory's old buffers stay valid when it grows. */
  private i32 = new Int32Array(0);
  private f32 = new Float32Array(0);
  private tag = 0;
  private started = 0;
  private helped = 0;
  private resizing: Promise<void> = Promise.resolve();
  private pendingResizes = 0;
  minHelperWaitMs = MIN_HELPER_WAIT_MS;

  constructor(
    private readonly heap: LinearMemory,
    private readonly instance: WasmInstance,
    private readonly workBytes: number,
  ) {}

  /** Helpers in the pool, ready or still starting: jobs are cut for them all (one that is not
   * ready yet leaves its chunks to the others). */
  get helperCount(): number {
    return this.helpers.length;
  }

  /** Threads that share work now: this one plus the helpers that are ready. */
  get threads(): number {
    let ready = 0;
    for (const h of this.helpers) ready += Atomics.load(h.slots, READY);
    return 1 + ready;
  }

  /** Chunks the helpers computed so far (diagnostics, tests). */
  get helperChunks(): number {
    return this.helped;
  }

  /** The job's argument slots (assembly/threads.ts says what each kind expects), as i32 and f32. */
  get jobArgs(): { i32: Int32Array; f32: Float32Array; at: number } {
    return { i32: this.i32, f32: this.f32, at: JOB + JOB_ARGS };
  }

  abandonNextClaim(): void {
    if (this.control !== 0) Atomics.store(this.i32, ABANDON_NEXT_CLAIM, 1);
  }

  /**
   * Starts or retires helpers so that `threads` threads share the work; resolves once the new
   * helpers are ready. Calls take effect in order. With none pending, this one starts at once: where
   * workers can be started synchronously (Node), its helpers exist when this returns, and join the
   * work as soon as they are ready, whether or not the caller ever awaits (a synchronous script).
   */
  resize(threads: number): Promise<void> {
    const next = this.pendingResizes === 0 ? this.applyResize(threads - 1) : this.resizing.then(() => this.applyResize(threads - 1));
    this.pendingResizes++;
    this.resizing = next.catch(() => {}).then(() => {
      this.pendingResizes--;
    });
    return next;
  }

  private async applyResize(want: number): Promise<void> {
    if (want > 0 && this.control === 0) this.createControlBlock();
    // Between jobs (this runs on the calling thread, never inside run), so a retired helper holds no chunk.
    while (this.helpers.length > want) this.retire(this.helpers[this.helpers.length - 1]!, 'removed by setThreads');
    const added: Helper[] = [];
    while (this.helpers.length < want) added.push(await this.addHelper());
    await this.whenReady(added);
  }

  private createControlBlock(): void {
    this.control = this.heap.alloc(CONTROL_INTS * 4);
    this.i32 = new Int32Array(this.heap.memory.buffer, this.control, CONTROL_INTS);
    this.f32 = new Float32Array(this.heap.memory.buffer, this.control, CONTROL_INTS);
    this.i32.fill(0);
    this.close();
  }

  private async addHelper(): Promise<Helper> {
    const work = this.heap.alloc(this.workBytes);
    const slotsAt = this.heap.alloc(HELPER_INTS * 4);
    const slots = new Int32Array(this.heap.memory.buffer, slotsAt, HELPER_INTS);
    slots.fill(0);
    const { module, memory } = this.instance;
    const start: HelperStart = { module, memory, control: this.control, slots: slotsAt, work, layout: CONTROL_LAYOUT, spinMs: WORKER_SPIN_MS };
    let worker: HelperWorker;
    try {
      worker = spawnHelperNow(start) ?? (await spawnHelper(start));
    } catch (error) {
      this.releaseHelperMemory(work, slotsAt);
      throw error;
    }
    const h: Helper = { id: ++this.started, worker, work, slotsAt, slots, gone: null, startedBeforeGone: false };
    worker.onGone((reason) => this.retire(h, reason));
    this.helpers.push(h);
    return h;
  }

  /**
   * Takes a helper out of the pool and stops it. Its workspace and slots return to the heap only
   * once its thread is known to have stopped: one stopped in the middle of a chunk (slow rather than
   * dead) would otherwise write into memory handed out again. Node says when a worker has exited;
   * browsers do not, so there the memory of a helper stopped mid-chunk is left unused.
   */
  private retire(h: Helper, reason: string, midChunk = false): void {
    const i = this.helpers.indexOf(h);
    if (i < 0) return;
    this.helpers.splice(i, 1);
    h.gone = reason;
    h.startedBeforeGone = Atomics.load(h.slots, READY) === 1;
    Atomics.store(h.slots, STATE, RETIRED);
    Atomics.notify(this.i32, CLAIM); // a sleeping helper wakes, sees it and exits
    const release = (): void => this.releaseHelperMemory(h.work, h.slotsAt);
    const exited = h.worker.terminate();
    if (exited instanceof Promise) exited.then(release, release);
    else if (!midChunk) release();
  }

  private releaseHelperMemory(work: number, slotsAt: number): void {
    this.heap.release(work, this.workBytes);
    this.heap.release(slotsAt, HELPER_INTS * 4);
  }

  private async whenReady(added: readonly Helper[]): Promise<void> {
    const deadline = performance.now() + READY_WAIT_MS;
    for (;;) {
      // One that started and was lost since has been reported by the call it failed.
      const failed = added.find((h) => h.gone !== null && !h.startedBeforeGone);
      if (failed) throw new Error(`setThreads: helper thread ${failed.id} failed to start (${failed.gone})`);
      if (added.every((h) => h.gone !== null || Atomics.load(h.slots, READY) === 1)) return;
      if (performance.now() > deadline) {
        for (const h of added) if (Atomics.load(h.slots, READY) !== 1) this.retire(h, 'it did not start in time');
        throw new Error(`setThreads: a helper thread did not start within ${READY_WAIT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Runs the job whose arguments are in place (jobArgs), `count` chunks of `size`, on every thread.
   * Throws if a chunk threw, or if a helper keeps a chunk past the deadline (that helper is stopped
   * first, and later jobs run on the threads left).
   */
  run(kind: number, split: number, size: number, count: number, mainWork: number): void {
    const { i32 } = this;
    if (count > MAX_CHUNKS) throw new Error(`wasm kernels: ${count} chunks exceed the ${MAX_CHUNKS} a shared job may have`);
    i32[JOB + JOB_KIND] = kind;
    i32[JOB + JOB_SPLIT] = split;
    i32[JOB + JOB_CHUNK] = size;
    // CLAIM is closed since the last job ended, so no thread can claim while these change.
    const tag = this.nextTag();
    Atomics.store(i32, COUNT, count);
    Atomics.store(i32, DONE, tag << INDEX_BITS);
    Atomics.store(i32, FAILED, 0);
    Atomics.store(i32, CLAIM, tag << INDEX_BITS); // opens the job
    Atomics.notify(i32, CLAIM);
    const { runChunk } = this.instance.exports;
    const job = this.control + JOB * 4;
    let failure: unknown = null;
    let own = 0;
    const claiming = performance.now();
    for (;;) {
      const word = Atomics.load(i32, CLAIM);
      const index = word & INDEX_MASK;
      if (index >= count) break;
      if (Atomics.compareExchange(i32, CLAIM, word, word + 1) !== word) continue;
      try {
        runChunk(job, index, mainWork);
      } catch (error) {
        failure = error;
      }
      Atomics.add(i32, DONE, 1);
      own++;
    }
    const msPerOwnChunk = own > 0 ? (performance.now() - claiming) / own : 0;
    this.waitForHelpers(kind, count, Math.max(this.minHelperWaitMs, HELPER_WAIT_PER_CHUNK * msPerOwnChunk));
    this.close();
    this.helped += count - own;
    if (failure !== null) throw failure;
    if (Atomics.load(i32, FAILED) === tag) throw new Error('wasm kernels: a helper thread failed (a bad address or size reached a kernel)');
  }

  /** Waits until every chunk is done, or throws once `limitMs` have passed with some still held. */
  private waitForHelpers(kind: number, count: number, limitMs: number): void {
    const { i32 } = this;
    const waiting = performance.now();
    const spinUntil = waiting + MAIN_SPIN_MS;
    for (;;) {
      const word = Atomics.load(i32, DONE);
      const done = word & INDEX_MASK;
      if (done === count) return;
      if (done > count) throw new Error(`wasm kernels: ${done} chunks finished of ${count} (a claiming bug)`);
      const now = performance.now();
      if (now - waiting > limitMs) throw this.giveUp(kind, count - done, now - waiting);
      // A timeout, because the deadline must be checked; the last helper to finish wakes us sooner.
      if (this.mayBlock && now > spinUntil) Atomics.wait(i32, DONE, word, 1);
    }
  }

  /** Stops the helpers that hold the missing chunks and closes the job; the error to throw. */
  private giveUp(kind: number, missing: number, waitedMs: number): Error {
    const holding = (h: Helper): number => Atomics.load(h.slots, HOLDING);
    // A helper that holds a chunk; failing that (it died between finishing and counting), any that
    // was claiming; failing that, all: the missing chunks are with one of them.
    let stuck = this.helpers.filter((h) => holding(h) >= 0);
    if (stuck.length === 0) stuck = this.helpers.filter((h) => Atomics.load(h.slots, STATE) === CLAIMING);
    if (stuck.length === 0) stuck = [...this.helpers];
    const named = stuck.map((h) => (holding(h) >= 0 ? `helper thread ${h.id} (chunk ${holding(h)})` : `helper thread ${h.id}`));
    const waited = Math.round(waitedMs);
    for (const h of stuck) this.retire(h, `it kept a chunk for ${waited} ms`, true);
    this.close();
    const job = `a shared ${KIND_NAMES[kind] ?? `kind ${kind}`} job`;
    return new Error(
      `wasm kernels: ${named.join(' and ')} did not finish ${plural(missing, 'chunk')} of ${job} within ${waited} ms; `
      + `${stuck.length === 1 ? 'it was' : 'they were'} stopped, and the kernels go on with ${plural(1 + this.helpers.length, 'thread')}`,
    );
  }

  /** Makes nothing claimable (a fresh tag with the index at its maximum) until the next job opens. */
  private close(): void {
    Atomics.store(this.i32, CLAIM, (this.nextTag() << INDEX_BITS) | INDEX_MASK);
  }

  private nextTag(): number {
    this.tag = (this.tag + 1) % TAG_LIMIT || 1;
    return this.tag;
  }
}

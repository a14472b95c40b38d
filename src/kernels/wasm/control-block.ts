/**
 * The control block: a few Int32 slots in shared memory through which the calling thread hands out
 * jobs and its helpers claim chunks of them (threads.ts on the calling side, worker.ts on theirs).
 *
 * Claiming: CLAIM holds (tag << INDEX_BITS) | next chunk index, and a chunk is taken by a
 * compare-and-swap that bumps the index. Between jobs CLAIM is closed (a fresh tag with the index at
 * its maximum) while the next job's arguments, COUNT and DONE are written, then opened with another
 * fresh tag: a thread that read the old word can then neither claim with it (the swap fails) nor
 * mistake a stale index for a chunk of the new job.
 */

export const CLAIM = 0;
/** Chunks finished in the current job. */
export const DONE = 1;
/** Chunks in the current job. */
export const COUNT = 2;
/** 1 if a helper's chunk threw. */
export const FAILED = 3;
/** Helpers that have instantiated the module. */
export const READY = 4;
/** The job that runChunk reads (assembly/threads.ts): kind, split, chunk size, up to 17 arguments. */
export const JOB = 8;
export const CONTROL_INTS = 32;

export const INDEX_BITS = 10;
export const INDEX_MASK = (1 << INDEX_BITS) - 1;
/** Tags wrap below this, so that a claim word stays a positive Int32. */
export const TAG_LIMIT = 1 << (31 - INDEX_BITS);
/** The most chunks a job may have (indices stay below INDEX_MASK, the closed state). */
export const MAX_CHUNKS = INDEX_MASK - 1;

/** The slots as a helper needs them: its program is written without imports (see worker.ts). */
export const CONTROL_LAYOUT = {
  claim: CLAIM, done: DONE, count: COUNT, failed: FAILED, ready: READY, job: JOB, ints: CONTROL_INTS, indexBits: INDEX_BITS,
} as const;

export type ControlLayout = { readonly [K in keyof typeof CONTROL_LAYOUT]: number };

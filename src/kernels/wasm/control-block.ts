/**
 * The slots in shared memory through which the calling thread hands out jobs and its helpers claim
 * chunks of them (pool.ts on the calling side, worker.ts on theirs): one control block, and a few
 * slots of each helper's own.
 *
 * Claiming: CLAIM holds (tag << INDEX_BITS) | next chunk index, and a chunk is taken by a
 * compare-and-swap that bumps the index. Between jobs CLAIM is closed (a fresh tag with the index at
 * its maximum) while the next job's arguments, COUNT and DONE are written, then opened with another
 * fresh tag: a thread that read the old word can then neither claim with it (the swap fails) nor
 * mistake a stale index for a chunk of the new job.
 *
 * DONE carries the job's tag the same way, and a helper counts a finished chunk only while the tag
 * is its job's: one that finishes after the caller gave up on the job cannot count it into the next.
 *
 * Retiring: a helper claims chunks only after moving its STATE from IDLE to CLAIMING, and goes back
 * to IDLE after; the pool retires a helper by setting RETIRED, which the helper never overwrites (its
 * moves are compare-and-swaps), and it then exits. The pool retires helpers only between jobs (or,
 * one that keeps a chunk too long, after giving up on the job), so a retired helper holds no chunk
 * and can claim none later: stopping it then leaves no work undone.
 */

export const CLAIM = 0;
/** (tag << INDEX_BITS) | chunks finished, in the job of that tag. */
export const DONE = 1;
/** Chunks in the current job. */
export const COUNT = 2;
/** The tag of a job in which a helper's chunk threw (0: none). */
export const FAILED = 3;
/** Test hook: while 1, the next helper to claim a chunk exits holding it, as a crashed thread would. */
export const ABANDON_NEXT_CLAIM = 4;
/** The job that runChunk reads (assembly/threads.ts): kind, split, chunk size, up to 18 arguments. */
export const JOB = 8;
export const CONTROL_INTS = 32;

export const INDEX_BITS = 10;
export const INDEX_MASK = (1 << INDEX_BITS) - 1;
/** Tags wrap below this, so that a claim word stays a positive Int32. */
export const TAG_LIMIT = 1 << (31 - INDEX_BITS);
/** The most chunks a job may have (indices stay below INDEX_MASK, the closed state). */
export const MAX_CHUNKS = INDEX_MASK - 1;

// A helper's own slots, in a cache line of their own so that no helper's writes slow another's.
/** IDLE, CLAIMING or RETIRED. */
export const STATE = 0;
/** The chunk it is computing, or -1. */
export const HOLDING = 1;
/** 1 once it has instantiated the module. */
export const READY = 2;
export const HELPER_INTS = 16;

export const IDLE = 0;
export const CLAIMING = 1;
export const RETIRED = 2;

/** The slots and states as a helper needs them: its program is written without imports (see worker.ts). */
export const CONTROL_LAYOUT = {
  claim: CLAIM, done: DONE, count: COUNT, failed: FAILED, abandon: ABANDON_NEXT_CLAIM, job: JOB, controlInts: CONTROL_INTS,
  indexBits: INDEX_BITS, state: STATE, holding: HOLDING, ready: READY, helperInts: HELPER_INTS, idle: IDLE, claiming: CLAIMING,
  retired: RETIRED,
} as const;

export type ControlLayout = { readonly [K in keyof typeof CONTROL_LAYOUT]: number };

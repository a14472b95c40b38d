/**
 * The JavaScript side owns the kernels' linear memory: blocks come from a list of free blocks
 * (smallest that fits; released neighbours merge, and a free block at the top lowers the top) or
 * from the top, which grows the memory when it passes its end. Memory never shrinks (WebAssembly has
 * no way to), but a program whose buffers come and go keeps reusing the same region.
 *
 * Growing replaces memory.buffer. A plain memory detaches every typed array made over the old buffer;
 * a shared one leaves them valid but short. Either way views are not kept across calls: they are
 * re-derived (cheaply, once per growth) from the current buffer.
 */
import type { KernelBuffer } from '../contract.js';
import { RELEASED_MESSAGE } from '../released.js';

const PAGE = 65536;
/** Every block starts on a cache line, which also keeps SIMD loads aligned. */
const ALIGN = 64;

export const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

export class LinearMemory {
  private top: number;
  /**
   * Free blocks below `top`, sorted by address, never adjacent (neighbours merge on release): a
   * block freed by a call of one length serves a later call of another, so sequences of varying
   * length reuse memory instead of each length keeping blocks of its own.
   */
  private readonly freeStarts: number[] = [];
  private readonly freeSizes: number[] = [];
  private freeTotal = 0;
  /**
   * Tests: every allocation comes from the top and grows the memory, so that every view taken before
   * it is detached (plain memory) or stale (shared): code that holds a view across an allocation
   * then fails where it would fail once in a while in a real program.
   */
  growOnEveryAlloc = false;
  private highWater = 0;
  private f32View: Float32Array;
  private i32View: Int32Array;
  /** Every buffer this memory has had: views over an earlier shared buffer still address it. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /**
   * memory.buffer as of the last growth. Only grow() below grows the memory (kernels never do), so
   * this stays current; reading it is much cheaper than the `buffer` getter, which kernel calls would
   * otherwise pay several times each (a shared memory's getter is the slowest).
   */
  private current: ArrayBufferLike;

  constructor(readonly memory: WebAssembly.Memory, heapBase: number) {
    this.top = alignUp(heapBase);
    this.current = memory.buffer;
    this.f32View = new Float32Array(this.current);
    this.i32View = new Int32Array(this.current);
    this.buffers.add(this.current);
  }

  /** The memory's buffer now (see `current`). */
  get buffer(): ArrayBufferLike {
    return this.current;
  }

  /** Whether a typed array over this buffer lives in this memory (its byteOffset is an address). */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer === this.current || this.buffers.has(buffer);
  }

  /** The top of the allocated region (freed blocks below it included), for tests and diagnostics. */
  get used(): number {
    return this.top;
  }

  /** The highest top since the last resetPeak() (or since the start). */
  get peak(): number {
    return this.highWater;
  }

  resetPeak(): void {
    this.highWater = this.top;
  }

  /** Bytes handed out and not yet released. */
  get inUse(): number {
    return this.top - this.freeTotal;
  }

  /** A block of at least `bytes` bytes (not zeroed). May grow the memory. */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`recurrent: cannot allocate ${bytes} bytes of WebAssembly memory`);
    const size = alignUp(Math.max(bytes, 1));
    const reused = this.growOnEveryAlloc ? -1 : this.takeFree(size);
    if (reused >= 0) return reused;
    const ptr = this.top;
    const have = this.current.byteLength;
    if (this.growOnEveryAlloc) this.grow(Math.ceil(Math.max(ptr + size - have, 0) / PAGE) + 1, false);
    else if (ptr + size > have) this.grow(Math.ceil((ptr + size - have) / PAGE));
    this.top = ptr + size;
    if (this.top > this.highWater) this.highWater = this.top;
    return ptr;
  }

  /** The smallest free block that fits (its front part; the rest stays free), or -1. */
  private takeFree(size: number): number {
    let best = -1;
    for (let i = 0; i < this.freeSizes.length; i++) {
      const s = this.freeSizes[i]!;
      if (s >= size && (best < 0 || s < this.freeSizes[best]!)) {
        best = i;
        if (s === size) break;
      }
    }
    if (best < 0) return -1;
    const ptr = this.freeStarts[best]!;
    const rest = this.freeSizes[best]! - size;
    if (rest > 0) {
      this.freeStarts[best] = ptr + size;
      this.freeSizes[best] = rest;
    } else {
      this.freeStarts.splice(best, 1);
      this.freeSizes.splice(best, 1);
    }
    this.freeTotal -= size;
    return ptr;
  }

  private grow(neededPages: number, generous = true): void {
    const have = this.current.byteLength / PAGE;
    try {
      // Half again at least, so a run of allocations grows the memory a few times, not each time.
      this.memory.grow(generous ? Math.max(neededPages, Math.ceil(have / 2)) : neededPages);
    } catch {
      try {
        this.memory.grow(neededPages); // the generous step may pass the maximum where this does not
      } catch (error) {
        const mib = ((have + neededPages) * PAGE) / 2 ** 20;
        // The usual way here is a backward over a long sequence, which keeps every step's activations.
        throw new RangeError(`recurrent: WebAssembly memory cannot grow to ${mib} MiB (${String(error)}); for a long sequence, the recurrent layers' checkpointEvery option (recurrent train --checkpoint-every k) keeps every k-th step for the backward instead of all of them`);
      }
    }
    this.current = this.memory.buffer;
    this.buffers.add(this.current);
  }

  /** Returns a block from alloc(bytes): it merges with free neighbours, and the top comes down when
   * the block (so merged) ends there. */
  release(ptr: number, bytes: number): void {
    let start = ptr;
    let size = alignUp(Math.max(bytes, 1));
    if (start < 0 || start + size > this.top) {
      throw new RangeError(`recurrent: released block [${start}, ${start + size}) lies outside the allocated region [0, ${this.top})`);
    }
    // Binary search: the first free block after `start`.
    let lo = 0, hi = this.freeStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.freeStarts[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo - 1;
    const overlapsFree = (prev >= 0 && this.freeStarts[prev]! + this.freeSizes[prev]! > start)
      || (lo < this.freeStarts.length && start + size > this.freeStarts[lo]!);
    if (overlapsFree) throw new RangeError(`recurrent: block at ${start} released twice`);
    this.freeTotal += size;
    let at = lo;
    if (prev >= 0 && this.freeStarts[prev]! + this.freeSizes[prev]! === start) {
      start = this.freeStarts[prev]!;
      size += this.freeSizes[prev]!;
      this.freeStarts.splice(prev, 1);
      this.freeSizes.splice(prev, 1);
      at = prev;
    }
    if (at < this.freeStarts.length && start + size === this.freeStarts[at]!) {
      size += this.freeSizes[at]!;
      this.freeStarts.splice(at, 1);
      this.freeSizes.splice(at, 1);
    }
    if (start + size === this.top) {
      this.top = start;
      this.freeTotal -= size;
      return;
    }
    this.freeStarts.splice(at, 0, start);
    this.freeSizes.splice(at, 0, size);
  }

  /** The whole memory as f32, re-derived after growth. */
  f32(): Float32Array {
    if (this.f32View.buffer !== this.current) this.refresh();
    return this.f32View;
  }

  i32(): Int32Array {
    if (this.i32View.buffer !== this.current) this.refresh();
    return this.i32View;
  }

  private refresh(): void {
    this.f32View = new Float32Array(this.current);
    this.i32View = new Int32Array(this.current);
  }
}

/** A float32 buffer in linear memory; view() follows the memory across growth. */
export class WasmBuffer implements KernelBuffer {
  readonly dtype = 'float32' as const;
  private array: Float32Array;
  private released = false;

  constructor(private readonly heap: LinearMemory, readonly ptr: number, readonly length: number) {
    this.array = new Float32Array(heap.buffer, ptr, length);
  }

  view(): Float32Array {
    if (this.array.buffer !== this.heap.buffer) {
      // Released buffers hold an empty array over a buffer of their own, so this check costs nothing
      // on the path every kernel call takes.
      if (this.released) throw new Error(RELEASED_MESSAGE);
      this.array = new Float32Array(this.heap.buffer, this.ptr, this.length);
    }
    return this.array;
  }

  /** From now on view() throws: the block may belong to someone else. */
  markReleased(): void {
    this.released = true;
    this.array = new Float32Array(0);
  }
}

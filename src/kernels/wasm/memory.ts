/**
 * The JavaScript side owns the kernels' linear memory: a bump allocator with free lists by exact
 * size (long-lived buffers come and go in few distinct sizes: parameters, gradients, optimizer
 * state, workspaces), growing the memory when the top passes its end.
 *
 * Growing replaces memory.buffer. A plain memory detaches every typed array made over the old buffer;
 * a shared one leaves them valid but short. Either way views are not kept across calls: they are
 * re-derived (cheaply, once per growth) from the current buffer.
 */
import type { KernelBuffer } from '../contract.js';

const PAGE = 65536;
/** Every block starts on a cache line, which also keeps SIMD loads aligned. */
const ALIGN = 64;

export const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

export class LinearMemory {
  private top: number;
  private readonly free = new Map<number, number[]>();
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

  /** Bytes handed out so far (the high-water mark), for tests and diagnostics. */
  get used(): number {
    return this.top;
  }

  /** A block of at least `bytes` bytes (not zeroed). May grow the memory. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused;
    const ptr = this.top;
    const have = this.current.byteLength;
    if (ptr + size > have) this.grow(Math.ceil((ptr + size - have) / PAGE));
    this.top = ptr + size;
    return ptr;
  }

  private grow(neededPages: number): void {
    const have = this.current.byteLength / PAGE;
    try {
      // Half again at least, so a run of allocations grows the memory a few times, not each time.
      this.memory.grow(Math.max(neededPages, Math.ceil(have / 2)));
    } catch {
      try {
        this.memory.grow(neededPages); // the generous step may pass the maximum where this does not
      } catch (error) {
        const mib = ((have + neededPages) * PAGE) / 2 ** 20;
        throw new RangeError(`recurrent: WebAssembly memory cannot grow to ${mib} MiB (${String(error)})`);
      }
    }
    this.current = this.memory.buffer;
    this.buffers.add(this.current);
  }

  /** Returns a block from alloc(bytes) to its size's free list (or to the top if it is the last one). */
  release(ptr: number, bytes: number): void {
    const size = alignUp(Math.max(bytes, 1));
    if (ptr + size === this.top) {
      this.top = ptr;
      return;
    }
    const list = this.free.get(size);
    if (list) list.push(ptr);
    else this.free.set(size, [ptr]);
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

  constructor(private readonly heap: LinearMemory, readonly ptr: number, readonly length: number) {
    this.array = new Float32Array(heap.buffer, ptr, length);
  }

  view(): Float32Array {
    if (this.array.buffer !== this.heap.buffer) {
      this.array = new Float32Array(this.heap.buffer, this.ptr, this.length);
    }
    return this.array;
  }
}

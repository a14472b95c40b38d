/**
 * Getting a kernel call's arrays into linear memory. Arrays that already live there (from
 * allocate()) pass by address; any other typed array is copied into a scratch block before the call
 * and, if the kernel writes it, copied back after.
 *
 * Two passes, because finding room for the copies may grow the memory, and growth detaches every view
 * over a plain memory's old buffer (whose byteOffset then reads 0): the addresses of resident arrays
 * are taken first, the memory is grown after.
 */
import type { LinearMemory } from './memory.js';
import { alignUp } from './memory.js';

type Staged = Float32Array | Int32Array;

const MAX_ARGS = 12;

export class Staging {
  private readonly arrays: (Staged | null)[] = new Array<Staged | null>(MAX_ARGS).fill(null);
  private readonly offsets = new Float64Array(MAX_ARGS);
  private readonly lengths = new Float64Array(MAX_ARGS);
  private readonly writes = new Uint8Array(MAX_ARGS);
  private readonly reads = new Uint8Array(MAX_ARGS);
  private readonly resident = new Uint8Array(MAX_ARGS);
  private readonly ptrs = new Float64Array(MAX_ARGS);
  private count = 0;
  private kernel = '';
  private scratch = 0;
  private scratchBytes = 0;

  constructor(private readonly heap: LinearMemory) {}

  begin(kernel: string): this {
    this.kernel = kernel;
    this.count = 0;
    return this;
  }

  /** Adds an argument: `length` elements from `offset` are read (and written back when `write`). A
   * null array (an absent optional argument) gets address 0. `read = false` says the kernel writes
   * every one of the `length` elements before reading any (no copy in). */
  arg(array: Staged | null, offset: number, length: number, write: boolean, read = true): this {
    const i = this.count++;
    if (array !== null && length > 0 && (offset < 0 || offset + length > array.length)) {
      const hint = array.length === 0
        ? ' (an empty array here is often a view of wasm memory taken before it grew: call buffer.view() again)'
        : '';
      throw new RangeError(
        `${this.kernel}: argument ${i} needs elements [${offset}, ${offset + length}) but its array has length ${array.length}${hint}`,
      );
    }
    this.arrays[i] = array;
    this.offsets[i] = offset;
    this.lengths[i] = array === null ? 0 : length;
    this.writes[i] = write ? 1 : 0;
    this.reads[i] = read ? 1 : 0;
    return this;
  }

  /** Resolves every argument's address, copying non-resident ones in. */
  bind(): this {
    let need = 0;
    for (let i = 0; i < this.count; i++) {
      const array = this.arrays[i] ?? null;
      if (array === null || this.lengths[i] === 0) {
        this.resident[i] = 1;
        this.ptrs[i] = 0;
      } else if (this.heap.owns(array.buffer)) {
        this.resident[i] = 1;
        this.ptrs[i] = array.byteOffset + this.offsets[i]! * 4;
      } else {
        this.resident[i] = 0;
        need += alignUp(this.lengths[i]! * 4);
      }
    }
    if (need === 0) return this;
    if (need > this.scratchBytes) this.growScratch(need);
    let cursor = this.scratch;
    for (let i = 0; i < this.count; i++) {
      const array = this.arrays[i] ?? null;
      if (this.resident[i] || array === null) continue;
      const offset = this.offsets[i]!;
      const length = this.lengths[i]!;
      this.ptrs[i] = cursor;
      if (this.reads[i]) {
        const heap = array instanceof Int32Array ? this.heap.i32() : this.heap.f32();
        heap.set(array.subarray(offset, offset + length), cursor >>> 2);
      }
      cursor += alignUp(length * 4);
    }
    return this;
  }

  ptr(i: number): number {
    return this.ptrs[i]!;
  }

  /** Copies written non-resident arguments back and forgets the call's arrays. */
  finish(): void {
    for (let i = 0; i < this.count; i++) {
      const array = this.arrays[i] ?? null;
      if (!this.resident[i] && this.writes[i] && array !== null) {
        const heap = array instanceof Int32Array ? this.heap.i32() : this.heap.f32();
        const start = this.ptrs[i]! >>> 2;
        array.set(heap.subarray(start, start + this.lengths[i]!), this.offsets[i]!);
      }
      this.arrays[i] = null;
    }
    this.count = 0;
  }

  private growScratch(need: number): void {
    if (this.scratchBytes > 0) this.heap.release(this.scratch, this.scratchBytes);
    const bytes = Math.max(need, this.scratchBytes * 2);
    this.scratch = this.heap.alloc(bytes);
    this.scratchBytes = bytes;
  }
}

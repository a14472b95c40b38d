/**
 * The kernel memory of one recurrent layer call: what its forward saves for the backward and what
 * the backward works in. A training loop makes calls of the same few shapes over and over, so
 * released buffers wait in a pool for the next call of the same length (their views stay cached, and
 * a buffer the call writes in full is not zero-filled). A call of a length the pool has no buffer for
 * (sequences of varying length) first gives every spare back to the allocator, whose freed blocks
 * merge, so memory is reused across lengths instead of each length keeping buffers of its own.
 */
import type { DType, KernelBuffer, Kernels } from '../../kernels/index.js';

export class Workspace {
  private readonly buffers: KernelBuffer[] = [];
  constructor(private readonly pool: SparePool) {}

  take(length: number, zeroed = true): KernelBuffer {
    const b = this.pool.take(length, zeroed);
    this.buffers.push(b);
    return b;
  }

  /** Every buffer goes back to the pool; a second call does nothing. */
  release(): void {
    for (const b of this.buffers.splice(0)) this.pool.put(b);
  }
}

/** Released workspace buffers by length, for one backend and dtype, up to a bound in bytes. */
class SparePool {
  private readonly spares = new Map<number, KernelBuffer[]>();
  private bytes = 0;
  constructor(readonly kernels: Kernels, readonly dtype: DType) {}

  take(length: number, zeroed: boolean): KernelBuffer {
    const b = this.spares.get(length)?.pop();
    if (!b) {
      this.flush();
      return this.kernels.allocate(length, this.dtype);
    }
    this.bytes -= this.size(b);
    if (zeroed) b.view().fill(0);
    return b;
  }

  put(b: KernelBuffer): void {
    if (this.bytes + this.size(b) > SPARE_LIMIT_BYTES) {
      this.kernels.release(b);
      return;
    }
    const list = this.spares.get(b.length);
    if (list) list.push(b);
    else this.spares.set(b.length, [b]);
    this.bytes += this.size(b);
  }

  /** Returns every spare to the allocator. */
  flush(): void {
    if (this.bytes === 0) return;
    for (const list of this.spares.values()) for (const b of list) this.kernels.release(b);
    this.spares.clear();
    this.bytes = 0;
  }

  private size(b: KernelBuffer): number {
    return b.length * (this.dtype === 'float64' ? 8 : 4);
  }
}

/** What a pool may hold: a little more than the largest training workloads' workspaces. */
const SPARE_LIMIT_BYTES = 512 * 2 ** 20;
const pools = new Map<string, SparePool>();

/** The pool of the last call's backend and dtype: a training loop asks for the same one each call. */
let lastPool: SparePool | null = null;

export function workspaceFor(k: Kernels, dtype: DType): Workspace {
  if (lastPool?.kernels === k && lastPool.dtype === dtype) return new Workspace(lastPool);
  const key = `${k.name}:${dtype}`;
  let pool = pools.get(key);
  if (pool?.kernels !== k) {
    // A backend loaded anew (tests do) gets a pool of its own.
    pool = new SparePool(k, dtype);
    pools.set(key, pool);
  }
  lastPool = pool;
  return new Workspace(pool);
}

/** Returns every pooled spare buffer to the allocators (dispose(): memory back to where it was). */
export function flushSpareBuffers(): void {
  for (const pool of pools.values()) pool.flush();
}
